import { LookoutError } from './errors.js';
import { boundTraceId, renderExemplar } from './exemplar.js';
import { formatValue } from './format.js';
import { Metric, Series, type ExpositionFormat, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { Field, writeExemplar, type ProtoWriter } from './protobuf.js';

/**
 * One label set of a counter.
 *
 * @example
 * ```ts
 * const ok = counter.labels({ status: '200' });
 * ok.inc();
 * ```
 */
export class CounterSeries extends Series {
  value = 0;
  exemplarTraceId: string | undefined = undefined;
  exemplarValue = 0;
  exemplarTime = 0;

  /** Adds `amount` (default 1). Throws `LOOKOUT_E_COUNTER_DECREASE` for a negative or NaN amount. */
  inc(amount = 1): void {
    if (!(amount >= 0)) throw decreaseError(amount);
    this.value += amount;
  }

  /** Adds `amount` and keeps `traceId` as the exemplar (OpenMetrics only). */
  incWithExemplar(amount: number, traceId: string): void {
    this.inc(amount);
    this.exemplarTraceId = boundTraceId(traceId);
    this.exemplarValue = amount;
    this.exemplarTime = Date.now() / 1000;
  }

  /**
   * Mirrors a monotonic total kept elsewhere (CPU seconds, bytes read). For
   * collectors only: application code uses `inc`.
   */
  setTotal(total: number): void {
    if (!(total >= 0)) throw decreaseError(total);
    this.value = total;
  }
}

function decreaseError(amount: number): LookoutError {
  return new LookoutError('LOOKOUT_E_COUNTER_DECREASE', `counters only go up: got ${amount}`);
}

/**
 * A monotonically increasing count. The name always ends in `_total` in the
 * output (it is added when missing).
 *
 * @example
 * ```ts
 * const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs done.', labelNames: ['queue'] });
 * jobs.labels({ queue: 'mail' }).inc();
 * ```
 */
export class Counter<L extends string = never> extends Metric<L, CounterSeries> {
  readonly type = 'counter';

  constructor(options: MetricOptions<L>, context: MetricContext) {
    const family = options.name.endsWith('_total') ? options.name.slice(0, -'_total'.length) : options.name;
    super(family, options, context);
    assertNoReservedSuffix(family, 'counter');
    this.init();
  }

  /** Adds to the unlabelled counter. */
  inc(amount = 1): void {
    this.only.inc(amount);
  }

  /** The unlabelled counter's value. */
  get value(): number {
    return this.only.value;
  }

  protected override get textName(): string {
    return `${this.name}_total`;
  }

  render(series: CounterSeries, format: ExpositionFormat): string {
    let line = `${this.name}_total${Metric.wrap(series.pairs)} ${formatValue(series.value)}`;
    if (format === 'openmetrics' && series.exemplarTraceId !== undefined) {
      line += renderExemplar(series.exemplarTraceId, series.exemplarValue, series.exemplarTime);
    }
    return `${line}\n`;
  }

  encode(series: CounterSeries, writer: ProtoWriter): void {
    const metric = this.beginProtoMetric(series, writer);
    const counter = writer.begin(Field.metricCounter);
    writer.double(Field.value, series.value);
    if (series.exemplarTraceId !== undefined) writeExemplar(writer, Field.counterExemplar, series.exemplarTraceId, series.exemplarValue, series.exemplarTime);
    writer.end(counter);
    writer.end(metric);
  }

  protected createSeries(labelValues: readonly string[], pairs: string): CounterSeries {
    return new CounterSeries(labelValues, pairs);
  }
}
