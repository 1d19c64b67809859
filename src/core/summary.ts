import { LookoutError } from './errors.js';
import { formatCanonical, formatValue } from './format.js';
import { Metric, Series, type ExpositionFormat, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { Field, type ProtoWriter } from './protobuf.js';
import { SlidingQuantiles } from './quantiles.js';

/** Summary options: which quantiles, over which sliding window. */
export interface SummaryOptions<L extends string = never> extends MetricOptions<L> {
  /** Default [0.5, 0.9, 0.99]. */
  readonly percentiles?: readonly number[];
  /** Window length, default 600 s. */
  readonly maxAgeSeconds?: number;
  /** How many pieces the window rotates in, default 5. */
  readonly ageBuckets?: number;
  /** Relative accuracy of each quantile, default 0.01 (1 %). */
  readonly relativeError?: number;
}

/**
 * One label set of a summary.
 *
 * @example
 * ```ts
 * summary.labels({ model: 'mlp' }).observe(0.3);
 * ```
 */
export class SummarySeries extends Series {
  sum = 0;
  count = 0;
  readonly window: SlidingQuantiles;

  constructor(labelValues: readonly string[], pairs: string, window: SlidingQuantiles) {
    super(labelValues, pairs);
    this.window = window;
  }

  observe(value: number): void {
    if (value !== value) throw new LookoutError('LOOKOUT_E_INVALID_VALUE', 'cannot observe NaN');
    this.window.observe(value);
    this.sum += value;
    this.count++;
  }
}

/**
 * Quantiles over a sliding time window, plus all-time `_sum` and `_count`.
 * Prefer a histogram when you need to aggregate across instances.
 *
 * @example
 * ```ts
 * const size = registry.summary({ name: 'payload_size_bytes', help: 'Payload sizes.', percentiles: [0.5, 0.99] });
 * size.observe(512);
 * ```
 */
export class Summary<L extends string = never> extends Metric<L, SummarySeries> {
  readonly type = 'summary';
  readonly percentiles: readonly number[];
  private readonly windowOptions: { maxAgeSeconds: number; ageBuckets: number; relativeError: number };
  private readonly quantileTexts: readonly string[];

  constructor(options: SummaryOptions<L>, context: MetricContext) {
    super(options.name, options, context, ['quantile']);
    assertNoReservedSuffix(options.name, 'summary');
    const percentiles = options.percentiles ?? [0.5, 0.9, 0.99];
    if (percentiles.some((q) => !(q >= 0 && q <= 1))) {
      throw new LookoutError('LOOKOUT_E_INVALID_QUANTILES', `summary ${options.name}: percentiles must be within [0, 1]`);
    }
    const maxAgeSeconds = options.maxAgeSeconds ?? 600;
    const ageBuckets = options.ageBuckets ?? 5;
    const relativeError = options.relativeError ?? 0.01;
    if (!(maxAgeSeconds > 0) || !Number.isInteger(ageBuckets) || ageBuckets < 1 || !(relativeError > 0 && relativeError < 1)) {
      throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `summary ${options.name}: maxAgeSeconds > 0, integer ageBuckets >= 1 and 0 < relativeError < 1 required`);
    }
    this.percentiles = [...percentiles];
    this.windowOptions = { maxAgeSeconds, ageBuckets, relativeError };
    this.quantileTexts = percentiles.map(formatCanonical);
    this.init();
  }

  observe(value: number): void {
    this.only.observe(value);
  }

  render(series: SummarySeries, _format: ExpositionFormat): string {
    const values = series.window.quantiles(this.percentiles);
    let text = '';
    for (let index = 0; index < values.length; index++) {
      text += `${this.name}${Metric.wrap(series.pairs, `quantile="${this.quantileTexts[index]}"`)} ${formatValue(values[index]!)}\n`;
    }
    const labels = Metric.wrap(series.pairs);
    return `${text}${this.name}_sum${labels} ${formatValue(series.sum)}\n${this.name}_count${labels} ${series.count}\n`;
  }

  encode(series: SummarySeries, writer: ProtoWriter): void {
    const values = series.window.quantiles(this.percentiles);
    const metric = this.beginProtoMetric(series, writer);
    const summary = writer.begin(Field.metricSummary);
    writer.uint(Field.summaryCount, series.count);
    writer.double(Field.summarySum, series.sum);
    for (let index = 0; index < values.length; index++) {
      const quantile = writer.begin(Field.summaryQuantile);
      writer.double(Field.quantileQuantile, this.percentiles[index]!);
      writer.double(Field.quantileValue, values[index]!);
      writer.end(quantile);
    }
    writer.end(summary);
    writer.end(metric);
  }

  protected createSeries(labelValues: readonly string[], pairs: string): SummarySeries {
    return new SummarySeries(labelValues, pairs, new SlidingQuantiles(this.windowOptions));
  }
}
