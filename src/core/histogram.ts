import { LookoutError } from './errors.js';
import { boundTraceId, renderExemplar } from './exemplar.js';
import { escapeLabelValue, formatCanonical, formatValue, joinPairs } from './format.js';
import { Metric, Series, type ExpositionFormat, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { Field, writeExemplar, writeNativeBuckets, type ProtoWriter } from './protobuf.js';
import { NativeBuckets, resolveNative, type NativeConfig, type NativeHistogramOptions } from './native.js';

/** Prometheus's classic default buckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * `count` buckets growing by `factor` from `start`.
 *
 * @example
 * ```ts
 * exponentialBuckets(100, 10, 4); // [100, 1000, 10000, 100000]
 * ```
 */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  if (!(start > 0) || !(factor > 1) || !Number.isInteger(count) || count < 1) {
    throw new LookoutError('LOOKOUT_E_INVALID_BUCKETS', 'exponentialBuckets needs start > 0, factor > 1 and an integer count >= 1');
  }
  return Array.from({ length: count }, (_, index) => start * factor ** index);
}

/**
 * `count` buckets `width` apart from `start`.
 *
 * @example
 * ```ts
 * linearBuckets(0.1, 0.1, 3); // [0.1, 0.2, 0.30000000000000004]
 * ```
 */
export function linearBuckets(start: number, width: number, count: number): number[] {
  if (!(width > 0) || !Number.isInteger(count) || count < 1) {
    throw new LookoutError('LOOKOUT_E_INVALID_BUCKETS', 'linearBuckets needs width > 0 and an integer count >= 1');
  }
  return Array.from({ length: count }, (_, index) => start + width * index);
}

/** Histogram options: the common ones plus bucket upper bounds (`+Inf` is implicit). */
export interface HistogramOptions<L extends string = never> extends MetricOptions<L> {
  /** Classic bucket bounds. With `native` and no `buckets`, only the `+Inf` bucket is kept (as client_golang does). */
  readonly buckets?: readonly number[];
  /**
   * Also keep sparse exponential buckets (Prometheus native histograms), exposed
   * in the protobuf format; `true` takes the defaults (schema 3, at most 160 buckets).
   */
  readonly native?: NativeHistogramOptions | true;
}

/**
 * One label set of a histogram: per-bucket counts in a typed array, no
 * allocation when observing.
 *
 * @example
 * ```ts
 * histogram.labels({ route: '/users/:id' }).observe(0.012);
 * ```
 */
export class HistogramSeries extends Series {
  /** Non-cumulative counts; the last slot is the `+Inf` bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  /** Per-bucket exemplars, allocated on the first exemplar. */
  exemplarTraceIds: (string | undefined)[] | undefined = undefined;
  exemplarValues: Float64Array | undefined = undefined;
  exemplarTimes: Float64Array | undefined = undefined;
  /** `name_bucket{pairs,le="` prepared once for rendering. */
  readonly bucketPrefix: string;
  /** Sparse exponential buckets when the histogram is native. */
  readonly native: NativeBuckets | undefined;
  private readonly bounds: Float64Array;

  constructor(labelValues: readonly string[], pairs: string, bounds: Float64Array, name: string, native?: NativeConfig) {
    super(labelValues, pairs);
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
    this.bucketPrefix = `${name}_bucket{${joinPairs(pairs, 'le="')}`;
    this.native = native === undefined ? undefined : new NativeBuckets(native);
  }

  /**
   * Records one value. A classic histogram throws `LOOKOUT_E_INVALID_VALUE` for
   * NaN; a native one follows Prometheus: NaN counts in `count` and makes `sum`
   * NaN but lands in no native bucket (classic: `+Inf`).
   */
  observe(value: number): void {
    this.counts[this.bucketOf(value)]!++;
    this.sum += value;
    this.count++;
  }

  /** Records one value and keeps `traceId` as its bucket's exemplar (OpenMetrics and protobuf). */
  observeWithExemplar(value: number, traceId: string): void {
    const bucket = this.bucketOf(value);
    this.counts[bucket]!++;
    this.sum += value;
    this.count++;
    if (this.exemplarTraceIds === undefined) {
      this.exemplarTraceIds = new Array<string | undefined>(this.counts.length).fill(undefined);
      this.exemplarValues = new Float64Array(this.counts.length);
      this.exemplarTimes = new Float64Array(this.counts.length);
    }
    this.exemplarTraceIds[bucket] = boundTraceId(traceId);
    this.exemplarValues![bucket] = value;
    this.exemplarTimes![bucket] = Date.now() / 1000;
  }

  /**
   * Starts a timer; the returned function observes the elapsed seconds.
   *
   * @example
   * ```ts
   * const end = series.startTimer(); await work(); end();
   * ```
   */
  startTimer(): () => number {
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.observe(seconds);
      return seconds;
    };
  }

  /** The classic bucket of `value`; also files it in the native buckets. */
  private bucketOf(value: number): number {
    const native = this.native;
    if (native !== undefined) {
      native.observe(value);
      if (value !== value) return this.bounds.length;
    } else if (value !== value) {
      throw new LookoutError('LOOKOUT_E_INVALID_VALUE', 'cannot observe NaN');
    }
    const bounds = this.bounds;
    const length = bounds.length;
    if (length <= 16) {
      let index = 0;
      while (index < length && value > bounds[index]!) index++;
      return index;
    }
    let low = 0;
    let high = length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (value > bounds[middle]!) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * Counts observations in configurable buckets (`le` upper bounds, cumulative in the output).
 *
 * @example
 * ```ts
 * const latency = registry.histogram({
 *   name: 'db_query_duration_seconds', help: 'Query time.', unit: 'seconds',
 *   labelNames: ['query'], buckets: [0.001, 0.01, 0.1, 1],
 * });
 * latency.labels({ query: 'select_user' }).observe(0.004);
 * ```
 */
export class Histogram<L extends string = never> extends Metric<L, HistogramSeries> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  /** Resolved native options, when the histogram keeps native buckets. */
  readonly native: NativeConfig | undefined;
  private readonly bounds: Float64Array;
  private readonly leTexts: readonly string[];
  private readonly negativeBounds: boolean;

  constructor(options: HistogramOptions<L>, context: MetricContext) {
    super(options.name, options, context, ['le']);
    assertNoReservedSuffix(options.name, 'histogram');
    this.native = options.native === undefined ? undefined : resolveNative(options.name, options.native);
    const buckets = (options.buckets ?? (this.native === undefined ? DEFAULT_BUCKETS : [])).filter((bound) => bound !== Infinity);
    if ((buckets.length === 0 && this.native === undefined) || buckets.some((bound, index) => !Number.isFinite(bound) || (index > 0 && bound <= buckets[index - 1]!))) {
      throw new LookoutError('LOOKOUT_E_INVALID_BUCKETS', `histogram ${options.name}: buckets must be finite numbers in strictly increasing order`);
    }
    this.buckets = buckets;
    this.bounds = Float64Array.from(buckets);
    this.negativeBounds = buckets[0]! < 0;
    this.leTexts = [...buckets.map(formatCanonical), '+Inf'].map((text) => `${escapeLabelValue(text)}"} `);
    this.init();
  }

  observe(value: number): void {
    this.only.observe(value);
  }

  startTimer(): () => number {
    return this.only.startTimer();
  }

  render(series: HistogramSeries, format: ExpositionFormat): string {
    const counts = series.counts;
    const prefix = series.bucketPrefix;
    const leTexts = this.leTexts;
    const traces = format === 'openmetrics' ? series.exemplarTraceIds : undefined;
    let text = '';
    let cumulative = 0;
    for (let index = 0; index < counts.length; index++) {
      cumulative += counts[index]!;
      text += prefix + leTexts[index] + cumulative;
      const trace = traces?.[index];
      if (trace !== undefined) text += renderExemplar(trace, series.exemplarValues![index]!, series.exemplarTimes![index]!);
      text += '\n';
    }
    // OpenMetrics: `_sum` is a counter, so it must be left out (with `_count`,
    // they come as a pair) when buckets or observations are negative.
    if (format === 'openmetrics' && (this.negativeBounds || !(series.sum >= 0))) return text;
    const labels = Metric.wrap(series.pairs);
    return `${text}${this.name}_sum${labels} ${formatValue(series.sum)}\n${this.name}_count${labels} ${cumulative}\n`;
  }

  /**
   * Classic buckets as cumulative counts (the implicit `+Inf` bucket only when
   * it holds an exemplar, as client_golang does), then the native fields.
   */
  encode(series: HistogramSeries, writer: ProtoWriter): void {
    const metric = this.beginProtoMetric(series, writer);
    const histogram = writer.begin(Field.metricHistogram);
    writer.uint(Field.histogramCount, series.count);
    writer.double(Field.histogramSum, series.sum);
    const counts = series.counts;
    const bounds = this.bounds;
    const traces = series.exemplarTraceIds;
    let cumulative = 0;
    for (let index = 0; index < counts.length; index++) {
      cumulative += counts[index]!;
      const trace = traces?.[index];
      if (index === bounds.length && trace === undefined) break;
      const bucket = writer.begin(Field.histogramBucket);
      writer.uint(Field.bucketCumulativeCount, cumulative);
      writer.double(Field.bucketUpperBound, index < bounds.length ? bounds[index]! : Infinity);
      if (trace !== undefined) writeExemplar(writer, Field.bucketExemplar, trace, series.exemplarValues![index]!, series.exemplarTimes![index]!);
      writer.end(bucket);
    }
    if (series.native !== undefined) writeNativeBuckets(writer, series.native);
    writer.end(histogram);
    writer.end(metric);
  }

  protected createSeries(labelValues: readonly string[], pairs: string): HistogramSeries {
    return new HistogramSeries(labelValues, pairs, this.bounds, this.name, this.native);
  }
}
