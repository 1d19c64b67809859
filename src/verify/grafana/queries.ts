/**
 * From a panel target to the exact request Grafana's back end sends: front-end interval and
 * template interpolation, then the datasource's back-end expansion. See GRAFANA-QUERIES.md §0, §2, §4.
 */
import { calculateInterval, formatInterval, goDurationString, parseGoInterval, roundIntervalBackend } from './intervals.js';
import { expandPostgresMacros, sqlGlobalPass, type FillMode, type TimeRange } from './sql-macros.js';
import { interpolate, prometheusFormatter, sqlFormatter, type VariableValue } from './template.js';

/**
 * What the dashboard and the user's view fix: time range, panel options and variable selections.
 *
 * @example
 * ```ts
 * const view: PanelView = { range: { fromMs: 1704067200000, toMs: 1704088800000 }, maxDataPoints: 1000, variables: [] };
 * ```
 */
export interface PanelView {
  readonly range: TimeRange;
  /** Panel "Max data points", else the panel width in pixels; Scenes falls back to 500. */
  readonly maxDataPoints: number;
  /** Panel "Min interval" (query options), if set. */
  readonly panelInterval?: string | undefined;
  readonly variables: readonly VariableValue[];
  /** Dashboard time zone offset from UTC in seconds (aligns range start/end); 0 for UTC. */
  readonly utcOffsetSec?: number;
}

/**
 * A Prometheus target as stored in dashboard JSON (the fields expansion reads).
 *
 * @example
 * ```ts
 * const target: PrometheusTarget = { expr: 'rate(x[$__rate_interval])', range: true };
 * ```
 */
export interface PrometheusTarget {
  readonly expr: string;
  readonly interval?: string | undefined;
  readonly intervalFactor?: number | undefined;
  readonly instant?: boolean | undefined;
  readonly range?: boolean | undefined;
}

/**
 * One HTTP API call to Prometheus, times in seconds.
 *
 * @example
 * ```ts
 * const request: PrometheusRequest = { kind: 'range', expr: 'up', start: 1704067200, end: 1704088800, step: 20 };
 * ```
 */
export type PrometheusRequest =
  | { readonly kind: 'range'; readonly expr: string; readonly start: number; readonly end: number; readonly step: number }
  | { readonly kind: 'instant'; readonly expr: string; readonly time: number };

const RATE_INTERVAL_VARIABLES = ['$__rate_interval', '${__rate_interval}'];
const INTERVAL_VARIABLES = ['$__interval', '${__interval}'];
const VARIABLE_INTERVALS = [...RATE_INTERVAL_VARIABLES, ...INTERVAL_VARIABLES, '$__interval_ms', '${__interval_ms}', '$__rate_interval_ms', '${__rate_interval_ms}'];

/**
 * Expands a Prometheus target into the request(s) Grafana sends: range, instant, or both.
 * `scrapeInterval` is the datasource's `jsonData.timeInterval`.
 *
 * @example
 * ```ts
 * expandPrometheusTarget({ expr: 'rate(x[$__rate_interval])' }, { scrapeInterval: '15s' }, view);
 * // [{ kind: 'range', expr: 'rate(x[1m0s])', start: 1704067200, end: 1704088800, step: 20 }]
 * ```
 */
export function expandPrometheusTarget(target: PrometheusTarget, datasource: { readonly scrapeInterval?: string | undefined }, view: PanelView): PrometheusRequest[] {
  const rangeMs = view.range.toMs - view.range.fromMs;
  const scoped = { __from: view.range.fromMs, __to: view.range.toMs };
  // Front end: interval from the low limit; $__interval(_ms) are deliberately left for the back end.
  const lowLimit = view.panelInterval ?? datasource.scrapeInterval ?? '15s';
  const { intervalMs } = calculateInterval(rangeMs, view.maxDataPoints, interpolate(lowLimit, view.variables, scoped, prometheusFormatter));
  const expr = interpolate(target.expr, view.variables, scoped, prometheusFormatter);
  const minStep = target.interval === undefined ? '' : interpolate(target.interval, view.variables, scoped, prometheusFormatter);
  const dsScrape = datasource.scrapeInterval ?? '';
  // Back end (pkg/promlib/models/query.go): step, then the built-in variables.
  const step = prometheusStep(rangeMs, view.maxDataPoints, intervalMs, minStep, target.intervalFactor ?? 0, dsScrape);
  const finalExpr = interpolateBackend(expr, intervalMs, step, minStep, dsScrape, rangeMs);
  const requests: PrometheusRequest[] = [];
  const instant = target.instant === true;
  const range = target.range === true || !instant;
  if (range) {
    const offsetMs = (view.utcOffsetSec ?? 0) * 1000;
    const align = (ms: number) => (Math.floor((ms + offsetMs) / step) * step - offsetMs) / 1000;
    requests.push({ kind: 'range', expr: finalExpr, start: align(view.range.fromMs), end: align(view.range.toMs), step: step / 1000 });
  }
  if (instant) requests.push({ kind: 'instant', expr: finalExpr, time: view.range.toMs / 1000 });
  return requests;
}

/**
 * The back end's `calculatePrometheusInterval` (ms).
 *
 * @example
 * ```ts
 * prometheusStep(21_600_000, 1000, 20_000, '', 0, '15s'); // 20000
 * ```
 */
export function prometheusStep(rangeMs: number, maxDataPoints: number, intervalMs: number, minStep: string, intervalFactor: number, dsScrape: string): number {
  const queryInterval = VARIABLE_INTERVALS.includes(minStep) || minStep === '0s' ? '' : minStep;
  let minInterval: number;
  if (queryInterval === '' && intervalMs !== 0) minInterval = intervalMs;
  else if (queryInterval !== '') minInterval = parseGoInterval(queryInterval);
  else minInterval = dsScrape === '' ? 15_000 : parseGoInterval(dsScrape);
  const resolution = maxDataPoints === 0 ? 1500 : maxDataPoints;
  // Go divides int64 nanoseconds.
  const calculatedRaw = Math.trunc((rangeMs * 1e6) / resolution) / 1e6;
  const calculated = calculatedRaw < minInterval ? minInterval : roundIntervalBackend(calculatedRaw);
  const safe = roundIntervalBackend(Math.trunc((rangeMs * 1e6) / 11_000) / 1e6);
  const adjusted = calculated > safe ? calculated : safe;
  if (RATE_INTERVAL_VARIABLES.includes(minStep)) return rateInterval(adjusted, dsScrape);
  return adjusted * (intervalFactor === 0 ? 1 : intervalFactor);
}

/**
 * `calculateRateInterval`: `max(interval + scrape, 4 × scrape)`, scrape defaulting to 15s.
 *
 * @example
 * ```ts
 * rateInterval(20_000, '15s'); // 60000
 * ```
 */
export function rateInterval(intervalMs: number, scrape: string): number {
  let scrapeMs: number;
  try {
    scrapeMs = parseGoInterval(scrape === '' ? '15s' : scrape);
  } catch {
    return 0;
  }
  return Math.max(intervalMs + scrapeMs, 4 * scrapeMs);
}

function interpolateBackend(expr: string, intervalMs: number, stepMs: number, minStep: string, dsScrape: string, rangeMs: number): string {
  let rate: number;
  if (RATE_INTERVAL_VARIABLES.includes(minStep)) rate = stepMs;
  else {
    let requested = minStep;
    if (INTERVAL_VARIABLES.includes(requested)) requested = goDurationString(stepMs);
    if (requested === '') requested = dsScrape;
    rate = rateInterval(intervalMs, requested);
  }
  const rangeSeconds = Math.round(rangeMs / 1000);
  const pairs: readonly (readonly [string, string])[] = [
    ['__interval_ms', String(Math.trunc(stepMs))],
    ['__interval', formatInterval(stepMs)],
    ['__range_ms', String(rangeMs)],
    ['__range_s', String(rangeSeconds)],
    ['__range', `${rangeSeconds}s`],
    ['__rate_interval_ms', String(Math.trunc(rate))],
    ['__rate_interval', goDurationString(rate)],
  ];
  let result = expr;
  for (const [name, value] of pairs) result = result.replaceAll(`$${name}`, value);
  for (const [name, value] of pairs) result = result.replaceAll(`\${${name}}`, value);
  return result;
}

/**
 * Expands a PostgreSQL target's `rawSql` into the SQL the datasource runs. `timeInterval` is the
 * datasource's `jsonData.timeInterval` (Grafana's SQL default is `1m`).
 *
 * @example
 * ```ts
 * expandPostgresTarget({ rawSql: 'SELECT $__timeGroupAlias(t, $__interval), 1 FROM x WHERE $__timeFilter(t)' }, {}, view).sql;
 * ```
 */
export function expandPostgresTarget(
  target: { readonly rawSql: string },
  datasource: { readonly timeInterval?: string | undefined; readonly timescaledb?: boolean | undefined },
  view: PanelView,
): { sql: string; intervalMs: number; fill: FillMode | undefined } {
  const rangeMs = view.range.toMs - view.range.fromMs;
  const lowLimit = view.panelInterval ?? datasource.timeInterval ?? '1m';
  const { intervalMs, interval } = calculateInterval(rangeMs, view.maxDataPoints, lowLimit);
  const scoped = { __interval: interval, __interval_ms: intervalMs, __from: view.range.fromMs, __to: view.range.toMs };
  const frontend = interpolate(target.rawSql, view.variables, scoped, sqlFormatter);
  const global = sqlGlobalPass(frontend, view.range, intervalMs);
  const { sql, fill } = expandPostgresMacros(global, view.range, { timescaledb: datasource.timescaledb === true });
  return { sql, intervalMs, fill };
}
