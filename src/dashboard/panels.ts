import { round } from './numbers.js';
import type { ChartData, StatData, Unit } from './types.js';

/**
 * A chart of the page: the same panels, titles and descriptions as the
 * generated Grafana dashboards (src/provision/dashboards), grouped by section.
 *
 * @example
 * ```ts
 * const panel: Panel = { id: 'cpu', section: 'Runtime', title: 'CPU', unit: 'ratio', description: '...' };
 * ```
 */
export interface Panel {
  readonly id: string;
  readonly section: string;
  readonly title: string;
  readonly unit: Unit;
  readonly description: string;
  /** Fixed y range top (ratios that cannot exceed 1). */
  readonly max?: number;
  /** Two grid columns wide on screens with room for it. */
  readonly wide?: boolean;
}

/**
 * Every chart, in page order. A chart whose metrics are missing (no KPI
 * instance, no runtime metrics in Prometheus...) is not sent, and the page
 * leaves it out.
 *
 * @example
 * ```ts
 * PANELS.map((panel) => panel.id); // ['requests', 'status', ...]
 * ```
 */
export const PANELS: readonly Panel[] = [
  { id: 'requests', section: 'Traffic and errors', wide: true, title: 'Request rate by route', unit: 'reqps', description: 'Requests per second per route template (http_requests_total), the busiest routes first. Unmatched requests share the route __unmatched__.' },
  { id: 'status', section: 'Traffic and errors', title: 'Responses by status code', unit: 'reqps', description: 'Responses per second by HTTP status code across all routes.' },
  { id: 'errors', section: 'Traffic and errors', title: 'Error ratio (5xx)', unit: 'ratio', description: 'Share of responses with a 5xx status, over all routes and for the routes that had any.' },
  { id: 'exceptions', section: 'Traffic and errors', title: 'Exceptions by type', unit: 'perSecond', description: 'Unhandled exceptions per second by exception class (http_exceptions_total). Anything above zero deserves a look.' },
  { id: 'inflight', section: 'Traffic and errors', title: 'Requests in flight', unit: 'count', description: 'Requests being processed right now, by HTTP method (http_requests_in_flight).' },
  { id: 'latency', section: 'Latency', title: 'Latency p50 / p95 / p99', unit: 'seconds', description: 'Request duration percentiles over all routes, from the http_request_duration_seconds histogram.' },
  { id: 'latencyRoutes', section: 'Latency', title: 'Latency p95 by route', unit: 'seconds', description: '95th percentile request duration per route, the busiest routes first.' },
  { id: 'processing', section: 'Latency', title: 'Inference processing time p50 / p95', unit: 'seconds', description: 'How long the model takes per inference (inference_processing_duration_seconds).' },
  { id: 'accuracy', section: 'Model and KPI events', wide: true, title: 'Model accuracy per minute', unit: 'ratio', max: 1, description: 'good / (good + bad) labelled predictions per minute, from the events table of the KPI store.' },
  { id: 'eventsByType', section: 'Model and KPI events', title: 'Stored events per minute by type', unit: 'count', description: 'Rows written to the events table per minute, by event name (KPI store SQL). The minute in progress is scaled up from its elapsed part.' },
  { id: 'kpiEvents', section: 'Model and KPI events', wide: true, title: 'KPI events per second', unit: 'perSecond', description: 'Business events recorded per second by name (kpi_events_total), counted at once, before they reach the store.' },
  { id: 'active', section: 'Model and KPI events', title: 'Active inferences', unit: 'count', description: 'Inferences started and not yet fetched (inference_active). A steady climb means results are never collected or workers are stuck.' },
  { id: 'drift', section: 'Model quality', wide: true, title: 'Drift (PSI) by feature and of the predictions', unit: 'count', description: 'Population stability index of each input feature and of the predictions (class mix, confidence) over the model monitor\'s sliding window against the served version\'s reference (model_feature_drift, model_prediction_drift; lookout/ml). Above 0.2 for 2 minutes: the ModelDriftSustained alert.' },
  { id: 'predictionMix', section: 'Model quality', title: 'Prediction mix by class', unit: 'ratio', max: 1, description: 'Share of each predicted class among all predictions (model_predictions_total).' },
  { id: 'accuracyByVersion', section: 'Model quality', title: 'Labelled accuracy by model version', unit: 'ratio', max: 1, description: 'Correct share of the labelled feedback per model version (model_feedback_total): a new version worse than the one it replaced is the ModelVersionWorse alert.' },
  { id: 'cpu', section: 'Runtime', title: 'CPU', unit: 'ratio', description: 'CPU time used per second of wall time, user and system (1 = one full core).' },
  { id: 'memory', section: 'Runtime', title: 'Memory', unit: 'bytes', description: 'Resident set size, V8 heap used and total, and memory held outside the heap (buffers).' },
  { id: 'eventloop', section: 'Runtime', title: 'Event-loop lag', unit: 'seconds', description: 'How late timers fire: mean and p99 event-loop delay. Every request waits at least this long.' },
  { id: 'kpiQueue', section: 'KPI pipeline', title: 'KPI queue depth', unit: 'count', description: 'KPI events buffered in memory, waiting for the next batch write to the store.' },
  { id: 'kpiFlow', section: 'KPI pipeline', wide: true, title: 'KPI events written, dropped and failed flushes', unit: 'perSecond', description: 'Events written to the store per second, events dropped per second by reason, and failed batch writes per second.' },
];

/** Warn and bad thresholds of a tile; `below` when low values are the bad ones. */
interface Thresholds {
  readonly warn: number;
  readonly bad: number;
  readonly below?: boolean;
}

/**
 * A tile at the top of the page.
 *
 * @example
 * ```ts
 * STATS.find((stat) => stat.id === 'errors')?.label; // 'Errors (5xx)'
 * ```
 */
export interface StatSpec {
  readonly id: string;
  readonly label: string;
  readonly unit: Unit;
  readonly thresholds?: Thresholds;
}

/**
 * The tiles. Thresholds are the Grafana panels' defaults: a 99.9% availability
 * objective (orange above the 0.1% budget, red at 10x), the 1 s latency SLO,
 * 80%/90% accuracy, the 300 s KpiFlushStale alert.
 *
 * @example
 * ```ts
 * STATS.length; // 10
 * ```
 */
export const STATS: readonly StatSpec[] = [
  { id: 'rps', label: 'Requests / s', unit: 'reqps' },
  { id: 'errors', label: 'Errors (5xx)', unit: 'ratio', thresholds: { warn: 0.001, bad: 0.01 } },
  { id: 'p95', label: 'Latency p95', unit: 'seconds', thresholds: { warn: 0.5, bad: 1 } },
  { id: 'inflight', label: 'In flight', unit: 'count' },
  { id: 'accuracy', label: 'Accuracy', unit: 'ratio', thresholds: { warn: 0.9, bad: 0.8, below: true } },
  { id: 'kpiQueue', label: 'KPI queue', unit: 'count', thresholds: { warn: 1000, bad: 50_000 } },
  { id: 'lastFlush', label: 'Last KPI flush', unit: 'seconds', thresholds: { warn: 60, bad: 300 } },
  { id: 'cpu', label: 'CPU', unit: 'ratio', thresholds: { warn: 0.8, bad: 1 } },
  { id: 'rss', label: 'Memory (RSS)', unit: 'bytes', thresholds: { warn: 1.5 * 1024 ** 3, bad: 3 * 1024 ** 3 } },
  { id: 'lag', label: 'Loop lag p99', unit: 'seconds', thresholds: { warn: 0.1, bad: 0.5 } },
];

/** Which chart series gives each tile its value: `sum` adds every series' last value. */
const STAT_SOURCES: Readonly<Record<string, { readonly chart: string; readonly series?: string }>> = {
  rps: { chart: 'requests' },
  errors: { chart: 'errors', series: 'all routes' },
  p95: { chart: 'latency', series: 'p95' },
  inflight: { chart: 'inflight' },
  accuracy: { chart: 'accuracy', series: 'accuracy' },
  kpiQueue: { chart: 'kpiQueue', series: 'queued' },
  cpu: { chart: 'cpu' },
  rss: { chart: 'memory', series: 'rss' },
  lag: { chart: 'eventloop', series: 'p99' },
};

/**
 * The tiles from the charts' last values (so tiles and charts never disagree),
 * plus values only a source knows (`lastFlush`).
 *
 * @example
 * ```ts
 * const stats = statsFromCharts(charts, { lastFlush: 2.5 });
 * ```
 */
export function statsFromCharts(charts: readonly ChartData[], extra: Readonly<Record<string, number | null>> = {}): StatData[] {
  const byId = new Map(charts.map((chart) => [chart.id, chart]));
  const stats: StatData[] = [];
  for (const spec of STATS) {
    let value: number | null = extra[spec.id] ?? null;
    const source = STAT_SOURCES[spec.id];
    const chart = source === undefined ? undefined : byId.get(source.chart);
    if (source !== undefined && chart !== undefined) {
      const series = source.series === undefined ? chart.series : chart.series.filter((line) => line.name === source.series);
      for (const line of series) {
        const last = lastValue(line.values);
        if (last !== null) value = (value ?? 0) + last;
      }
    }
    if (value === null && spec.id !== 'rps' && spec.id !== 'inflight') continue;
    stats.push({ id: spec.id, value: value === null ? null : round(value), level: levelOf(spec.thresholds, value) });
  }
  return stats;
}

function lastValue(values: readonly (number | null)[]): number | null {
  for (let index = values.length - 1; index >= 0; index--) {
    const value = values[index];
    if (value !== null && value !== undefined) return value;
  }
  return null;
}

function levelOf(thresholds: Thresholds | undefined, value: number | null): StatData['level'] {
  if (value === null || thresholds === undefined) return 'none';
  if (thresholds.below === true) return value < thresholds.bad ? 'bad' : value < thresholds.warn ? 'warn' : 'ok';
  return value >= thresholds.bad ? 'bad' : value >= thresholds.warn ? 'warn' : 'ok';
}
