import { MAX_POINTS, round } from './numbers.js';
import type { ResolvedDashboardOptions } from './options.js';
import { statsFromCharts } from './panels.js';
import type { ChartData, DashboardData, RouteRow, SeriesData } from './types.js';

/** Each Prometheus call is given this long. */
const TIMEOUT_MS = 5000;
/** Larger answers are refused (topk keeps them far smaller). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** A line query: PromQL plus how its result series are named. */
interface LineQuery {
  readonly expr: string;
  /** A fixed name, or `{label}` to name each series by that label. */
  readonly name: string;
}

interface PromSeries {
  readonly metric: Record<string, string>;
  readonly values?: [number, string][];
  readonly value?: [number, string];
}

/**
 * Thrown when Prometheus cannot be reached or answers badly; the dashboard
 * then falls back to the in-process samples and says so.
 *
 * @example
 * ```ts
 * try { await prometheusData(options, 900); } catch (error) { if (error instanceof PrometheusError) ... }
 * ```
 */
export class PrometheusError extends Error {}

/**
 * The fixed queries of each chart: the PromQL of the generated Grafana
 * panels, with `topk` where one line per label value could be unbounded.
 *
 * @example
 * ```ts
 * chartQueries('', 'job="api"', 60).requests[0].expr; // 'topk(6, sum by (route) (rate(...[60s])))'
 * ```
 */
export function chartQueries(prefix: string, selector: string, window: number): Readonly<Record<string, readonly LineQuery[]>> {
  const m = (name: string, extra = ''): string => `${name}{${[selector, extra].filter((part) => part !== '').join(', ')}}`;
  const rate = (name: string, extra = ''): string => `rate(${m(name, extra)}[${window}s])`;
  const requests = `${prefix}http_requests_total`;
  const duration = `${prefix}http_request_duration_seconds`;
  // A native histogram (scraped over protobuf) has no `_bucket` series: its quantile comes first, the classic one otherwise.
  const quantileOf = (q: number, histogram: string, by: string): string =>
    `histogram_quantile(${q}, sum${by === '' ? '' : ` by (${by})`} (${rate(histogram)})) or histogram_quantile(${q}, sum by (${by === '' ? 'le' : `${by}, le`}) (${rate(`${histogram}_bucket`)}))`;
  const quantiles = (histogram: string, qs: readonly number[]): LineQuery[] => qs.map((q) => ({ expr: quantileOf(q, histogram, ''), name: `p${Math.round(q * 100)}` }));
  return {
    requests: [{ expr: `topk(6, sum by (route) (${rate(requests)}))`, name: '{route}' }],
    status: [{ expr: `topk(12, sum by (status) (${rate(requests)}))`, name: '{status}' }],
    errors: [
      { expr: `sum(${rate(requests, 'status=~"5.."')}) / sum(${rate(requests)})`, name: 'all routes' },
      { expr: `topk(5, sum by (route) (${rate(requests, 'status=~"5.."')}) / sum by (route) (${rate(requests)}))`, name: '{route}' },
    ],
    inflight: [{ expr: `sum by (method) (${m(`${prefix}http_requests_in_flight`)})`, name: '{method}' }],
    latency: quantiles(duration, [0.5, 0.95, 0.99]),
    latencyRoutes: [{ expr: `topk(6, ${quantileOf(0.95, duration, 'route')})`, name: '{route}' }],
    exceptions: [{ expr: `topk(10, sum by (exception) (${rate(`${prefix}http_exceptions_total`)}))`, name: '{exception}' }],
    kpiEvents: [{ expr: `topk(10, sum by (event) (${rate('kpi_events_total')}))`, name: '{event}' }],
    active: [{ expr: `sum(${m('inference_active')})`, name: 'active' }],
    processing: quantiles('inference_processing_duration_seconds', [0.5, 0.95]),
    drift: [
      { expr: `topk(10, max by (feature) (${m('model_feature_drift', 'method="psi"')}))`, name: '{feature}' },
      { expr: `max by (output) (${m('model_prediction_drift', 'method="psi"')})`, name: 'prediction {output}' },
    ],
    predictionMix: [{ expr: `topk(12, sum by (class) (${rate('model_predictions_total')}) / ignoring (class) group_left () sum(${rate('model_predictions_total')}))`, name: '{class}' }],
    accuracyByVersion: [{ expr: `topk(6, sum by (model_version) (${rate('model_feedback_total', 'outcome="correct"')}) / sum by (model_version) (${rate('model_feedback_total')}))`, name: 'v{model_version}' }],
    cpu: [
      { expr: `sum(${rate('process_cpu_user_seconds_total')})`, name: 'user' },
      { expr: `sum(${rate('process_cpu_system_seconds_total')})`, name: 'system' },
    ],
    memory: [
      { expr: `sum(${m('process_resident_memory_bytes')})`, name: 'rss' },
      { expr: `sum(${m('nodejs_heap_size_used_bytes')})`, name: 'heap used' },
      { expr: `sum(${m('nodejs_heap_size_total_bytes')})`, name: 'heap total' },
      { expr: `sum(${m('nodejs_external_memory_bytes')})`, name: 'external' },
    ],
    eventloop: [
      { expr: `max(${m('nodejs_eventloop_lag_seconds')})`, name: 'mean' },
      { expr: `max(${m('nodejs_eventloop_lag_p99_seconds')})`, name: 'p99' },
    ],
    kpiQueue: [{ expr: `sum(${m('lookout_kpi_queue_depth')})`, name: 'queued' }],
    kpiFlow: [
      { expr: `sum(${rate('lookout_kpi_written_total')})`, name: 'written' },
      { expr: `sum by (reason) (${rate('lookout_kpi_dropped_total')}) > 0`, name: 'dropped {reason}' },
      { expr: `sum(${rate('lookout_kpi_flush_errors_total')})`, name: 'flush errors' },
    ],
  };
}

function nameOf(template: string, labels: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, label: string) => labels[label] ?? '');
}

function parseValue(text: string): number | null {
  const value = Number(text);
  return Number.isFinite(value) ? round(value) : null;
}

/** A small Prometheus HTTP API client: GET, timeout, size cap. */
async function api(options: ResolvedDashboardOptions, path: string, params: Record<string, string>): Promise<PromSeries[]> {
  let response: Response;
  try {
    response = await fetch(`${options.prometheusUrl}${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new PrometheusError(`Prometheus at ${options.prometheusUrl} is unreachable (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = await readCapped(response);
  let body: { status?: string; error?: string; data?: { result?: PromSeries[] } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new PrometheusError(`Prometheus at ${options.prometheusUrl} answered ${response.status} with something other than JSON`);
  }
  // A query error (bad PromQL, too many samples) concerns one chart: it is left out.
  if (body.status !== 'success') return [];
  return body.data?.result ?? [];
}

async function readCapped(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      throw new PrometheusError(`Prometheus answer larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Range-query lines aligned on the shared time grid. */
async function lines(options: ResolvedDashboardOptions, queries: readonly LineQuery[], grid: { start: number; end: number; step: number; size: number }): Promise<SeriesData[]> {
  const results = await Promise.all(queries.map((query) =>
    api(options, '/api/v1/query_range', { query: query.expr, start: String(grid.start), end: String(grid.end), step: String(grid.step) }),
  ));
  const series: SeriesData[] = [];
  results.forEach((result, index) => {
    for (const item of result) {
      const values = new Array<number | null>(grid.size).fill(null);
      for (const [time, text] of item.values ?? []) {
        const slot = Math.round((time - grid.start) / grid.step);
        if (slot >= 0 && slot < grid.size) values[slot] = parseValue(text);
      }
      series.push({ name: nameOf(queries[index]!.name, item.metric), values });
    }
  });
  return series.sort((a, b) => (a.name === 'all routes' ? -1 : b.name === 'all routes' ? 1 : 0));
}

/** Instant query as a map from the `by` label's value to the number. */
async function byRoute(options: ResolvedDashboardOptions, expr: string, time: number): Promise<Map<string, number | null>> {
  const result = await api(options, '/api/v1/query', { query: expr, time: String(time) });
  return new Map(result.map((item) => [item.metric['route'] ?? 'all routes', parseValue(item.value?.[1] ?? 'NaN')]));
}

async function routeTable(options: ResolvedDashboardOptions, range: number, time: number): Promise<{ routes: RouteRow[]; routesOmitted: number }> {
  const m = (name: string, extra = ''): string => `${name}{${[options.prometheusSelector, extra].filter((part) => part !== '').join(', ')}}`;
  const requests = `${options.prefix}http_requests_total`;
  const [totals, rates, errors, p95, count] = await Promise.all([
    byRoute(options, `topk(${options.maxRoutes}, sum by (route) (${m(requests)}))`, time),
    byRoute(options, `sum by (route) (rate(${m(requests)}[${range}s]))`, time),
    byRoute(options, `sum by (route) (increase(${m(requests, 'status=~"5.."')}[${range}s])) / sum by (route) (increase(${m(requests)}[${range}s]))`, time),
    byRoute(options, `histogram_quantile(0.95, sum by (route, le) (rate(${m(`${options.prefix}http_request_duration_seconds_bucket`)}[${range}s])))`, time),
    byRoute(options, `count(sum by (route) (${m(requests)}))`, time),
  ]);
  const routes = [...totals].map(([route, total]): RouteRow => {
    const rate = rates.get(route) ?? 0;
    return { route, total: total ?? 0, rate: rate ?? 0, errorRatio: (rate ?? 0) > 0 ? errors.get(route) ?? 0 : null, p95: p95.get(route) ?? null };
  });
  routes.sort((a, b) => b.rate - a.rate || b.total - a.total || a.route.localeCompare(b.route));
  return { routes, routesOmitted: Math.max(0, (count.get('all routes') ?? 0) - routes.length) };
}

/**
 * The dashboard's answer from Prometheus: the charts' range queries on one
 * time grid (at most `MAX_POINTS` points), the route table's instant queries.
 * Throws `PrometheusError` when Prometheus cannot be reached.
 *
 * @example
 * ```ts
 * const data = await prometheusData(options, 3600);
 * ```
 */
export async function prometheusData(options: ResolvedDashboardOptions, range: number, now = Date.now()): Promise<DashboardData> {
  const step = Math.max(5, Math.ceil(range / MAX_POINTS));
  const end = Math.floor(now / 1000 / step) * step;
  const start = end - Math.floor(range / step) * step;
  const grid = { start, end, step, size: Math.round((end - start) / step) + 1 };
  const queries = chartQueries(options.prefix, options.prometheusSelector, Math.max(2 * step, 60));
  const flushQuery = `time() - max(${`lookout_kpi_last_flush_timestamp_seconds{${options.prometheusSelector}}`} > 0)`;
  const [chartLines, table, lastFlush] = await Promise.all([
    Promise.all(Object.entries(queries).map(async ([id, chartQueries]) => ({ id, series: await lines(options, chartQueries, grid) }))),
    // The table and tiles are "now", not the grid's last step.
    routeTable(options, range, now / 1000),
    api(options, '/api/v1/query', { query: flushQuery, time: String(now / 1000) }),
  ]);
  const charts: ChartData[] = chartLines.filter((chart) => chart.series.some((line) => line.values.some((value) => value !== null)));
  return {
    source: 'prometheus',
    now,
    range,
    step,
    time: Array.from({ length: grid.size }, (_, index) => start + index * step),
    stats: statsFromCharts(charts, { lastFlush: parseValue(lastFlush[0]?.value?.[1] ?? 'NaN') }),
    ...table,
    charts,
  };
}
