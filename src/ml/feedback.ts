/**
 * Accuracy by model version from the KPI feedback events: the labelled predictions users sent
 * (`good_inference` / `bad_inference` by default) in the events table, grouped by the `model`
 * column. The same SQL feeds the Model quality dashboard's PostgreSQL panel (with Grafana's
 * time filter) and {@link accuracyByVersion} (with bound parameters, through `store.query`).
 *
 * @example
 * ```ts
 * const rows = await accuracyByVersion(kpi.store, { since: new Date(Date.now() - 3_600_000) });
 * // [{ model: 'spiral-mlp-v1', good: 180, labelled: 200, accuracy: 0.9 }, ...]
 * ```
 */
import { LookoutError } from '../core/errors.js';
import type { KpiStore } from '../kpi/store.js';

/**
 * One model version's labelled feedback.
 *
 * @example
 * ```ts
 * const row: VersionAccuracy = { model: 'spiral-mlp-v2', good: 45, labelled: 50, accuracy: 0.9 };
 * ```
 */
export interface VersionAccuracy {
  /** The events' `model` column (`(none)` for feedback recorded without one). */
  readonly model: string;
  readonly good: number;
  readonly labelled: number;
  /** good / labelled. */
  readonly accuracy: number;
}

/**
 * Options of {@link accuracyByVersion}.
 *
 * @example
 * ```ts
 * const options: AccuracyByVersionOptions = { since: new Date(Date.now() - 86_400_000), good: 'thumbs_up', bad: 'thumbs_down' };
 * ```
 */
export interface AccuracyByVersionOptions {
  /** First instant counted (inclusive). */
  readonly since: Date;
  /** Instant the count stops (exclusive; default: now). */
  readonly until?: Date;
  /** Event of a prediction the user confirmed (default `good_inference`). */
  readonly good?: string;
  /** Event of a prediction the user corrected (default `bad_inference`). */
  readonly bad?: string;
}

/**
 * The accuracy-by-version query over `table` with a time condition `where` (SQL on
 * `creation_time`), the good and bad events given as SQL expressions (literals or parameters).
 * One row per `model`: `model`, `good`, `labelled`, `accuracy` (float8), most feedback first.
 *
 * @example
 * ```ts
 * accuracyByVersionSql({ table: 'events', where: '$__timeFilter(creation_time)', good: "'good_inference'", bad: "'bad_inference'" });
 * ```
 */
export function accuracyByVersionSql(parts: { readonly table: string; readonly where: string; readonly good: string; readonly bad: string }): string {
  return [
    'SELECT',
    `  coalesce(model, '(none)') AS model,`,
    `  count(*) FILTER (WHERE event = ${parts.good})::float8 AS good,`,
    '  count(*)::float8 AS labelled,',
    `  (count(*) FILTER (WHERE event = ${parts.good}))::float8 / count(*) AS accuracy`,
    `FROM ${parts.table}`,
    `WHERE ${parts.where} AND event IN (${parts.good}, ${parts.bad})`,
    'GROUP BY 1',
    'ORDER BY labelled DESC, model',
    'LIMIT 100',
  ].join('\n');
}

const QUERY = accuracyByVersionSql({ table: '{events}', where: 'creation_time >= $1 AND creation_time < $2', good: '$3', bad: '$4' });

/**
 * Accuracy by model version between `since` and `until`, read from the KPI store's events table
 * in a read-only transaction (`store.query`; the shipped PostgreSQL and PGlite stores have it).
 * Throws `LOOKOUT_E_ML_OPTION` for a store without `query` or bad dates; the store's own error
 * when the query fails.
 *
 * @example
 * ```ts
 * for (const row of await accuracyByVersion(kpi.store, { since })) console.log(row.model, row.accuracy);
 * ```
 */
export async function accuracyByVersion(store: Pick<KpiStore, 'query'>, options: AccuracyByVersionOptions): Promise<VersionAccuracy[]> {
  if (typeof store?.query !== 'function') throw new LookoutError('LOOKOUT_E_ML_OPTION', 'accuracyByVersion needs a KPI store with query() (pgStore, pgliteStore)');
  const until = options.until ?? new Date();
  for (const [name, value] of [['since', options.since], ['until', until]] as const) {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new LookoutError('LOOKOUT_E_ML_OPTION', `${name} must be a valid Date`);
  }
  const rows = await store.query(QUERY, [options.since, until, options.good ?? 'good_inference', options.bad ?? 'bad_inference']);
  return rows.map((row) => ({ model: String(row['model']), good: Number(row['good']), labelled: Number(row['labelled']), accuracy: Number(row['accuracy']) }));
}
