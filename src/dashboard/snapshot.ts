import type { CounterSeries } from '../core/counter.js';
import type { GaugeSeries } from '../core/gauge.js';
import type { Histogram, HistogramSeries } from '../core/histogram.js';
import type { Metric, Series } from '../core/metric.js';
import type { ResolvedDashboardOptions } from './options.js';

/**
 * Where `readRegistry` puts what it reads: `add` sums into a key (histograms
 * use one offset per bucket out of `width`).
 *
 * @example
 * ```ts
 * writer.add('r:/users/:id', 12);
 * ```
 */
export interface SampleWriter {
  add(key: string, value: number): void;
  /** Adds `values` element-wise into the `values.length` columns of `key` (histogram buckets). */
  addAll(key: string, values: ArrayLike<number>): void;
}

/**
 * Maps a label value to itself or to its family's overflow bucket (bounded families).
 *
 * @example
 * ```ts
 * const keepAll: Folder = (_family, value) => value;
 * ```
 */
export type Folder = (family: string, value: string, cap: number) => string;

/**
 * The sample keys of a series, worked out once: label values never change and
 * folding is sticky, so a large registry costs a WeakMap lookup per series.
 *
 * @example
 * ```ts
 * const memo: KeyMemo = new WeakMap();
 * ```
 */
export type KeyMemo = WeakMap<Series, readonly string[]>;

/** Caps of the families besides routes (statuses, exception types, KPI events): with `(other)`, 12 lines. */
const FAMILY_CAP = 11;

/**
 * The metric names the dashboard reads, with the adapters' prefix applied.
 *
 * @example
 * ```ts
 * metricNames('myapp_').requests; // 'myapp_http_requests'
 * ```
 */
export function metricNames(prefix: string) {
  return {
    requests: `${prefix}http_requests`,
    duration: `${prefix}http_request_duration_seconds`,
    inFlight: `${prefix}http_requests_in_flight`,
    exceptions: `${prefix}http_exceptions`,
    kpiEvents: 'kpi_events',
    kpiQueue: 'lookout_kpi_queue_depth',
    kpiWritten: 'lookout_kpi_written',
    kpiDropped: 'lookout_kpi_dropped',
    kpiFlushErrors: 'lookout_kpi_flush_errors',
    kpiLastFlush: 'lookout_kpi_last_flush_timestamp_seconds',
    active: 'inference_active',
    processing: 'inference_processing_duration_seconds',
    featureDrift: 'model_feature_drift',
    predictionDrift: 'model_prediction_drift',
    predictions: 'model_predictions',
    feedback: 'model_feedback',
  } as const;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMetric = Metric<string, any>;

function labelAt(series: Series, index: number, fallback: string): string {
  return index < 0 ? fallback : series.labelValues[index] ?? fallback;
}

/**
 * Reads the panels' numbers from the registry into `writer`. Only series
 * values are read: no registry collector runs (they may keep windows of
 * their own, like the event-loop metrics); a gauge's own `collect` does.
 *
 * @example
 * ```ts
 * readRegistry(options, accumulator, (family, value) => value);
 * ```
 */
export function readRegistry(options: ResolvedDashboardOptions, writer: SampleWriter, fold: Folder, memo: KeyMemo): void {
  const { registry, maxRoutes } = options;
  const names = metricNames(options.prefix);
  const metric = (name: string, type: string): AnyMetric | undefined => {
    const found = registry.get(name);
    return found !== undefined && found.type === type ? found : undefined;
  };

  const requests = metric(names.requests, 'counter');
  if (requests !== undefined) {
    const route = requests.labelNames.indexOf('route');
    const status = requests.labelNames.indexOf('status');
    for (const series of requests.series as CounterSeries[]) {
      let keys = memo.get(series);
      if (keys === undefined) {
        const routeName = fold('route', labelAt(series, route, 'all routes'), maxRoutes);
        const code = labelAt(series, status, '');
        const fresh = ['all', `r:${routeName}`];
        if (code.startsWith('5')) fresh.push('all5', `e:${routeName}`);
        if (code !== '') fresh.push(`s:${fold('status', code, FAMILY_CAP)}`);
        memo.set(series, (keys = fresh));
      }
      for (const key of keys) writer.add(key, series.value);
    }
  }

  const duration = metric(names.duration, 'histogram') as Histogram<string> | undefined;
  if (duration !== undefined) {
    const route = duration.labelNames.indexOf('route');
    for (const series of duration.series) {
      let keys = memo.get(series);
      if (keys === undefined) memo.set(series, (keys = [`h:${fold('route', labelAt(series, route, 'all routes'), maxRoutes)}`, 'hist']));
      const counts = countsOf(duration, series);
      for (const key of keys) writer.addAll(key, counts);
    }
  }

  const inFlight = metric(names.inFlight, 'gauge');
  if (inFlight !== undefined) {
    const method = inFlight.labelNames.indexOf('method');
    for (const series of inFlight.series as GaugeSeries[]) writer.add(`m:${labelAt(series, method, 'all')}`, series.value);
  }

  sumByLabel(metric(names.exceptions, 'counter'), 'exception', (value) => `x:${fold('exception', value, FAMILY_CAP)}`, writer);
  sumByLabel(metric(names.kpiEvents, 'counter'), 'event', (value) => `k:${fold('event', value, FAMILY_CAP)}`, writer);
  sumByLabel(metric(names.kpiDropped, 'counter'), 'reason', (value) => `d:${value}`, writer);
  sumByLabel(metric(names.kpiWritten, 'counter'), '', () => 'written', writer);
  sumByLabel(metric(names.kpiFlushErrors, 'counter'), '', () => 'flushErrors', writer);
  sumByLabel(metric(names.kpiLastFlush, 'gauge'), '', () => 'lastFlush', writer);
  sumByLabel(metric(names.active, 'gauge'), '', () => 'active', writer);

  const kpi = options.kpi;
  if (kpi !== undefined) writer.add('queue', kpi.stats().pending);
  else sumByLabel(refreshed(metric(names.kpiQueue, 'gauge')), '', () => 'queue', writer);

  const processing = metric(names.processing, 'histogram') as Histogram<string> | undefined;
  for (const series of processing?.series ?? []) writer.addAll('proc', countsOf(processing!, series));

  // The model monitor (lookout/ml): its drift gauge's collect recomputes the drift of both gauges.
  const featureDrift = refreshed(metric(names.featureDrift, 'gauge'));
  const drifts = psiBy(featureDrift, 'feature', (value) => fold('feature', value, FAMILY_CAP) === value, 'fd:', writer) + psiBy(metric(names.predictionDrift, 'gauge'), 'output', () => true, 'pd:', writer);
  // Drift gauges vanish below the monitor's minSamples (after a new version): a gap, not a 0.
  if (featureDrift !== undefined) writer.add('driftOn', drifts > 0 ? 1 : 0);
  sumByLabel(metric(names.predictions, 'counter'), 'class', (value) => `pc:${fold('class', value, FAMILY_CAP)}`, writer);
  sumByLabel(metric(names.predictions, 'counter'), '', () => 'predictions', writer);
  const feedback = metric(names.feedback, 'counter');
  if (feedback !== undefined) {
    const version = feedback.labelNames.indexOf('model_version');
    const outcome = feedback.labelNames.indexOf('outcome');
    for (const series of feedback.series as CounterSeries[]) {
      const name = fold('model_version', labelAt(series, version, ''), FAMILY_CAP);
      writer.add(`fa:${name}`, series.value);
      if (labelAt(series, outcome, '') === 'correct') writer.add(`fc:${name}`, series.value);
    }
  }
}

/**
 * The page's bounds for a native histogram without classic buckets: a fixed
 * grid of powers of two (schema 0) from 2^-14 (61 µs) to 2^8 (256 s), 23
 * bounds, as fine as the default classic buckets (factors 2–2.5). A grid keeps
 * every sample the same width while the histogram's own schema may change.
 */
const NATIVE_GRID_FIRST = -14;
const NATIVE_GRID = Array.from({ length: 23 }, (_, index) => 2 ** (NATIVE_GRID_FIRST + index));

/** True for a native histogram with no classic buckets (only `+Inf`): its counts are read through the grid. */
function nativeOnly(histogram: Histogram<string>): boolean {
  return histogram.native !== undefined && histogram.buckets.length === 0;
}

/**
 * A series' per-bucket counts as the page samples them: the classic counts,
 * or for a native-only histogram its sparse buckets projected onto
 * {@link NATIVE_GRID}. A bucket of schema s ≥ 0 lies inside one grid bucket
 * (exact); a coarser one (s < 0, after heavy resolution reduction) is counted
 * in the grid bucket of its upper bound. Zero and negative observations go to
 * the first grid bucket, ±Inf and values above 256 s to `+Inf`.
 */
function countsOf(histogram: Histogram<string>, series: HistogramSeries): ArrayLike<number> {
  const native = series.native;
  if (native === undefined || !nativeOnly(histogram)) return series.counts;
  const counts = new Float64Array(NATIVE_GRID.length + 1);
  const last = NATIVE_GRID.length;
  counts[0] = native.zeroCount + native.negativeInfinity + native.negative.pairs().reduce((sum, value, index) => (index % 2 === 1 ? sum + value : sum), 0);
  counts[last] = native.positiveInfinity;
  const pairs = native.positive.pairs();
  for (let pair = 0; pair < pairs.length; pair += 2) {
    // Bucket i of schema s has upper bound 2^(i / 2^s): at schema 0 that is bucket ceil(i / 2^s).
    const gridIndex = native.schema >= 0 ? Math.ceil(pairs[pair]! / 2 ** native.schema) : pairs[pair]! * 2 ** -native.schema;
    const slot = gridIndex - NATIVE_GRID_FIRST;
    counts[slot < 0 ? 0 : slot > last ? last : slot]! += pairs[pair + 1]!;
  }
  return counts;
}

/** Writes the `psi` series of a drift gauge by `label` under `prefix` (values beyond the family's cap are left out: a sum of PSIs means nothing); returns how many. */
function psiBy(metric: AnyMetric | undefined, label: string, kept: (value: string) => boolean, prefix: string, writer: SampleWriter): number {
  if (metric === undefined) return 0;
  const method = metric.labelNames.indexOf('method');
  const index = metric.labelNames.indexOf(label);
  let written = 0;
  for (const series of metric.series as GaugeSeries[]) {
    if (labelAt(series, method, '') !== 'psi') continue;
    const value = labelAt(series, index, '');
    if (!kept(value)) continue;
    writer.add(`${prefix}${value}`, series.value);
    written++;
  }
  return written;
}

/** Sums the series of a counter or gauge by one label (or all of them when `label` is ''). */
function sumByLabel(metric: AnyMetric | undefined, label: string, keyOf: (value: string) => string, writer: SampleWriter): void {
  if (metric === undefined) return;
  const index = label === '' ? -1 : metric.labelNames.indexOf(label);
  for (const series of metric.series as (CounterSeries | GaugeSeries)[]) writer.add(keyOf(labelAt(series, index, '')), series.value);
}

/** Runs a gauge's own `collect` (e.g. the KPI queue depth, read at scrape time) before it is read. */
function refreshed(metric: AnyMetric | undefined): AnyMetric | undefined {
  try {
    const result = metric?.collect?.();
    if (result instanceof Promise) result.catch(() => undefined);
  } catch {
    // Counted by the registry when it renders; the last value is read instead.
  }
  return metric;
}

/**
 * The bucket bounds of a histogram in the registry (empty when it is missing).
 *
 * @example
 * ```ts
 * bucketBounds(registry, 'http_request_duration_seconds'); // [0.005, 0.01, ...]
 * ```
 */
export function bucketBounds(options: ResolvedDashboardOptions, name: string): readonly number[] {
  const found = options.registry.get(name);
  if (found === undefined || found.type !== 'histogram') return [];
  const histogram = found as Histogram<string>;
  return nativeOnly(histogram) ? NATIVE_GRID : histogram.buckets;
}
