import { LookoutError } from '../core/errors.js';
import { datasourceFor, queryPanels, type DashboardJson, type PanelJson, type ProvisionedDatasource, type TargetJson } from './dashboards.js';
import { expandPostgresTarget, expandPrometheusTarget, type PanelView, type PrometheusRequest } from './grafana/queries.js';
import type { TimeRange } from './grafana/sql-macros.js';
import type { PostgresRunner, SqlResult } from './postgres-runner.js';
import type { PrometheusClient, PromQueryResult } from './prometheus-client.js';
import { resolveVariables, type ResolvedVariable, type VariableSelection } from './variables.js';

/**
 * What to check and against what.
 *
 * @example
 * ```ts
 * const options: CheckOptions = { dashboards: await loadDashboards(dir), datasources, prometheus: client, postgres: runner };
 * ```
 */
export interface CheckOptions {
  readonly dashboards: readonly { readonly file: string; readonly dashboard: DashboardJson }[];
  readonly datasources: readonly ProvisionedDatasource[];
  readonly prometheus?: PrometheusClient | undefined;
  readonly postgres?: PostgresRunner | undefined;
  /** Default: each dashboard's own time setting (`now-1h` → `now`) at `now`. */
  readonly range?: TimeRange;
  readonly now?: number;
  /** Panel width in data points when the panel sets no `maxDataPoints` (default 500, Scenes' fallback). */
  readonly maxDataPoints?: number;
  /** Variable selections instead of the saved ones. */
  readonly variables?: Readonly<Record<string, VariableSelection>>;
  /** Expand only, run nothing (no services needed; variables must have a custom All value). */
  readonly expandOnly?: boolean;
}

/**
 * The outcome of one panel target.
 *
 * @example
 * ```ts
 * const result: TargetResult = { dashboard: 'API overview', panel: 'Request rate', refId: 'A', datasource: 'prometheus', queries: ['...'], ok: true, series: 3 };
 * ```
 */
export interface TargetResult {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  readonly datasource: string;
  /** The expanded query text(s) as sent. */
  readonly queries: readonly string[];
  readonly ok: boolean;
  /** Series (Prometheus) or rows (PostgreSQL) returned. */
  readonly series: number;
  readonly error?: string;
}

/**
 * Every target's result plus the variable queries that ran.
 *
 * @example
 * ```ts
 * if (report.failures.length > 0) console.error(report.failures.join('\n'));
 * ```
 */
export interface CheckReport {
  readonly targets: readonly TargetResult[];
  readonly variables: readonly { readonly dashboard: string; readonly name: string; readonly query: string; readonly options: number }[];
  /** One line per failed target: dashboard › panel › refId: reason, then the query. */
  readonly failures: readonly string[];
}

/**
 * Walks every target of every panel of every dashboard, expands it exactly as Grafana would, runs
 * it on Prometheus (`query_range` / `query`) or PostgreSQL (as the read-only role), and requires
 * success plus data: a series with a number (not NaN) for Prometheus, a row with a value for SQL.
 *
 * @example
 * ```ts
 * const report = await checkDashboards({ dashboards, datasources, prometheus: running.client, postgres: runner });
 * console.log(`${report.targets.length} targets checked, ${report.failures.length} failed`);
 * ```
 */
export async function checkDashboards(options: CheckOptions): Promise<CheckReport> {
  const targets: TargetResult[] = [];
  const variables: { dashboard: string; name: string; query: string; options: number }[] = [];
  const now = options.now ?? Date.now();
  for (const { dashboard } of options.dashboards) {
    const range = options.range ?? dashboardRange(dashboard, now);
    const client = options.expandOnly === true ? undefined : options.prometheus;
    let resolved: ResolvedVariable[];
    try {
      resolved = await resolveVariables(dashboard, options.datasources, client, range, options.variables);
    } catch (error) {
      if (options.expandOnly !== true || !(error instanceof LookoutError) || error.code !== 'LOOKOUT_E_VERIFY_VARIABLE') throw error;
      resolved = (dashboard.templating?.list ?? []).map((variable) => ({ query: '', value: { name: variable.name, multi: variable.multi === true, includeAll: variable.includeAll === true, allValue: variable.allValue ?? undefined, selected: 'all', options: [] } }));
    }
    for (const item of resolved) if (item.query !== '') variables.push({ dashboard: dashboard.title, name: item.value.name, query: item.query, options: item.value.options.length });
    for (const panel of queryPanels(dashboard)) {
      const view: PanelView = { range, maxDataPoints: panel.maxDataPoints ?? options.maxDataPoints ?? 500, panelInterval: panel.interval, variables: resolved.map((item) => item.value) };
      for (const target of panel.targets ?? []) {
        if (target.hide === true) continue;
        targets.push(await checkTarget(options, dashboard, panel, target, view));
      }
    }
  }
  const failures = targets.filter((target) => !target.ok).map((target) => `${target.dashboard} › ${target.panel} › ${target.refId} (${target.datasource}): ${target.error}\n    ${target.queries.join('\n    ')}`);
  return { targets, variables, failures };
}

async function checkTarget(options: CheckOptions, dashboard: DashboardJson, panel: PanelJson, target: TargetJson, view: PanelView): Promise<TargetResult> {
  const base = { dashboard: dashboard.title, panel: panel.title ?? `panel ${panel.id ?? '?'}`, refId: target.refId ?? '?' };
  let datasource = 'unknown';
  const queries: string[] = [];
  try {
    const provisioned = datasourceFor(target, panel, options.datasources);
    datasource = provisioned.type === 'prometheus' ? 'prometheus' : provisioned.type;
    if (provisioned.type === 'prometheus') {
      if (target.expr === undefined) throw new Error('Prometheus target without expr');
      const requests = expandPrometheusTarget({ expr: target.expr, interval: target.interval, intervalFactor: target.intervalFactor, instant: target.instant, range: target.range }, { scrapeInterval: provisioned.jsonData?.timeInterval }, view);
      queries.push(...requests.map(describeRequest));
      if (options.expandOnly === true) return { ...base, datasource, queries, ok: true, series: 0 };
      if (options.prometheus === undefined) throw new Error('no Prometheus to run it on');
      let series = 0;
      for (const request of requests) series = Math.max(series, requirePromData(await runPrometheus(options.prometheus, request)));
      return { ...base, datasource, queries, ok: true, series };
    }
    if (provisioned.type === 'grafana-postgresql-datasource' || provisioned.type === 'postgres') {
      if (target.rawSql === undefined) throw new Error('PostgreSQL target without rawSql');
      const { sql } = expandPostgresTarget({ rawSql: target.rawSql }, { timeInterval: provisioned.jsonData?.timeInterval, timescaledb: provisioned.jsonData?.timescaledb }, view);
      queries.push(sql);
      if (options.expandOnly === true) return { ...base, datasource, queries, ok: true, series: 0 };
      if (options.postgres === undefined) throw new Error('no PostgreSQL connection to run it on');
      return { ...base, datasource, queries, ok: true, series: requireSqlData(await options.postgres.query(sql), target.format ?? 'time_series', view.range) };
    }
    throw new Error(`datasource type ${provisioned.type} is not supported`);
  } catch (error) {
    if (queries.length === 0) queries.push(`(as written) ${target.expr ?? target.rawSql ?? ''}`);
    return { ...base, datasource, queries, ok: false, series: 0, error: (error as Error).message };
  }
}

function runPrometheus(client: PrometheusClient, request: PrometheusRequest): Promise<PromQueryResult> {
  return request.kind === 'range' ? client.queryRange(request.expr, request.start, request.end, request.step) : client.query(request.expr, request.time);
}

function describeRequest(request: PrometheusRequest): string {
  return request.kind === 'range' ? `query_range start=${request.start} end=${request.end} step=${request.step}: ${request.expr}` : `query time=${request.time}: ${request.expr}`;
}

function requirePromData(result: PromQueryResult): number {
  if (result.series.length === 0) throw new Error('no series');
  const hasNumber = result.series.some((series) => series.values.some(([, value]) => !Number.isNaN(Number(value))));
  if (!hasNumber) throw new Error(`${result.series.length} series, but every sample is NaN`);
  return result.series.length;
}

function requireSqlData(result: SqlResult, format: string, range: TimeRange): number {
  if (result.rows.length === 0) throw new Error('no rows');
  if (format === 'time_series') {
    const timeIndex = result.columns.indexOf('time');
    if (timeIndex < 0) throw new Error(`time_series format needs a "time" column, got ${result.columns.join(', ')}`);
    // Grafana reads epoch seconds, milliseconds or nanoseconds, or a timestamp (sqleng epochPrecisionToMS).
    const day = 86_400_000;
    const inRange = result.rows.some((row) => {
      const ms = epochMs(row[timeIndex]);
      return ms !== undefined && ms >= range.fromMs - day && ms <= range.toMs + day;
    });
    if (!inRange) throw new Error(`no "time" value near the range (first: ${String(result.rows[0]![timeIndex])})`);
    const numeric = result.rows.some((row) => row.some((value, index) => index !== timeIndex && value !== null && value !== '' && !Number.isNaN(Number(value)) && typeof value !== 'boolean'));
    if (!numeric) throw new Error('time_series rows hold no numeric value');
  } else if (!result.rows.some((row) => row.some((value) => value !== null))) {
    throw new Error('every value is NULL');
  }
  return result.rows.length;
}

function epochMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) return undefined;
  if (number < 1e11) return number * 1000;
  if (number > 1e15) return number / 1e6;
  return number;
}

/**
 * A dashboard's default time range (`now-6h`..`now` style) at `now`.
 *
 * @example
 * ```ts
 * dashboardRange({ title: 'x', time: { from: 'now-1h', to: 'now' } }, Date.now());
 * ```
 */
export function dashboardRange(dashboard: DashboardJson, now: number): TimeRange {
  const parse = (text: string): number => {
    if (text === 'now') return now;
    const match = /^now-(\d+)([smhdw])$/.exec(text);
    if (match === null) throw new LookoutError('LOOKOUT_E_VERIFY_UNSUPPORTED', `dashboard ${dashboard.title}: time ${JSON.stringify(text)} (pass an explicit range)`);
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return now - Number(match[1]) * unit;
  };
  return { fromMs: parse(dashboard.time?.from ?? 'now-6h'), toMs: parse(dashboard.time?.to ?? 'now') };
}
