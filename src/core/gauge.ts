import { LookoutError } from './errors.js';
import { formatValue } from './format.js';
import { Metric, Series, type ExpositionFormat, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { Field, type ProtoWriter } from './protobuf.js';

/**
 * One label set of a gauge.
 *
 * @example
 * ```ts
 * gauge.labels({ queue: 'mail' }).set(3);
 * ```
 */
export class GaugeSeries extends Series {
  value = 0;

  set(value: number): void {
    if (typeof value !== 'number') throw new LookoutError('LOOKOUT_E_INVALID_VALUE', `gauge value must be a number, got ${typeof value}`);
    this.value = value;
  }

  inc(amount = 1): void {
    this.value += amount;
  }

  dec(amount = 1): void {
    this.value -= amount;
  }

  /** Sets the value to the current Unix time in seconds. */
  setToCurrentTime(): void {
    this.value = Date.now() / 1000;
  }
}

/**
 * A value that goes up and down.
 *
 * @example
 * ```ts
 * const depth = registry.gauge({ name: 'queue_depth', help: 'Jobs waiting.' });
 * depth.set(12);
 * ```
 */
export class Gauge<L extends string = never> extends Metric<L, GaugeSeries> {
  readonly type = 'gauge';

  constructor(options: MetricOptions<L>, context: MetricContext) {
    super(options.name, options, context);
    assertNoReservedSuffix(options.name, 'gauge');
    this.init();
  }

  set(value: number): void {
    this.only.set(value);
  }

  inc(amount = 1): void {
    this.only.inc(amount);
  }

  dec(amount = 1): void {
    this.only.dec(amount);
  }

  setToCurrentTime(): void {
    this.only.setToCurrentTime();
  }

  /** The unlabelled gauge's value. */
  get value(): number {
    return this.only.value;
  }

  render(series: GaugeSeries, _format: ExpositionFormat): string {
    return `${this.name}${Metric.wrap(series.pairs)} ${formatValue(series.value)}\n`;
  }

  encode(series: GaugeSeries, writer: ProtoWriter): void {
    const metric = this.beginProtoMetric(series, writer);
    const gauge = writer.begin(Field.metricGauge);
    writer.double(Field.value, series.value);
    writer.end(gauge);
    writer.end(metric);
  }

  protected createSeries(labelValues: readonly string[], pairs: string): GaugeSeries {
    return new GaugeSeries(labelValues, pairs);
  }
}
