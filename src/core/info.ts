import { LookoutError } from './errors.js';
import { Metric, Series, type ExpositionFormat, type LabelValues, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { Field, type ProtoWriter } from './protobuf.js';

/** A series of an info metric: its labels are the information, its value is 1. */
export class InfoSeries extends Series {}

/**
 * Textual information as labels with value 1 (`build_info{version="1.2.0"} 1`).
 * The name ends in `_info` in the output (added when missing).
 *
 * @example
 * ```ts
 * const build = registry.info({ name: 'app_build', help: 'Build.', labelNames: ['version'] });
 * build.set({ version: '1.2.0' });
 * ```
 */
export class Info<L extends string = never> extends Metric<L, InfoSeries> {
  readonly type = 'info';

  constructor(options: MetricOptions<L>, context: MetricContext) {
    const family = options.name.endsWith('_info') ? options.name.slice(0, -'_info'.length) : options.name;
    super(family, options, context);
    assertNoReservedSuffix(family, 'info');
    // OpenMetrics: MetricFamilies of type Info MUST have an empty unit.
    if (options.unit !== undefined) throw new LookoutError('LOOKOUT_E_INVALID_UNIT', `info ${options.name}: an info metric has no unit`);
    this.init();
  }

  /** Replaces the information with one label set. */
  set(values: LabelValues<L>): void {
    this.reset();
    this.labels(values);
  }

  protected override get textName(): string {
    return `${this.name}_info`;
  }

  protected override get textType(): string {
    return 'gauge';
  }

  render(series: InfoSeries, _format: ExpositionFormat): string {
    return `${this.name}_info${Metric.wrap(series.pairs)} 1\n`;
  }

  /** A gauge `name_info` with value 1, as Prometheus maps info metrics. */
  encode(series: InfoSeries, writer: ProtoWriter): void {
    const metric = this.beginProtoMetric(series, writer);
    const gauge = writer.begin(Field.metricGauge);
    writer.double(Field.value, 1);
    writer.end(gauge);
    writer.end(metric);
  }

  protected createSeries(labelValues: readonly string[], pairs: string): InfoSeries {
    return new InfoSeries(labelValues, pairs);
  }
}

