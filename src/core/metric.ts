import { LookoutError } from './errors.js';
import { braces, escapeHelp, joinPairs, labelPairs, wellFormed } from './format.js';
import { assertHelp, assertLabelNames, assertMetricName, assertUnit } from './names.js';
import { encodeLabels, Field, ProtoMetricType, ProtoWriter } from './protobuf.js';

/** The two exposition formats lookout writes. */
export type ExpositionFormat = 'text' | 'openmetrics';

/** Metric types, as OpenMetrics names them. */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'info' | 'stateset';

/** Label values for a metric whose label names are `L`. Numbers and booleans are stringified. */
export type LabelValues<L extends string> = { readonly [K in L]: string | number | boolean };

/**
 * Options every metric takes.
 *
 * @example
 * ```ts
 * const options: MetricOptions<'route'> = { name: 'jobs_total', help: 'Jobs.', labelNames: ['route'] };
 * ```
 */
export interface MetricOptions<L extends string = never> {
  /** Metric name; counters may omit `_total` (it is added), info metrics `_info`. */
  readonly name: string;
  /** One line that says what the metric counts. */
  readonly help: string;
  /** Label names, fixed at registration. */
  readonly labelNames?: readonly L[];
  /** OpenMetrics unit (`seconds`, `bytes`...); the name must end with `_<unit>`. */
  readonly unit?: string;
  /** Series cap: label sets beyond it fold into one overflow series. */
  readonly maxSeries?: number;
  /** Called before every render, e.g. to read a value from elsewhere. Errors are counted, never thrown. */
  readonly collect?: () => void | Promise<void>;
}

/** What a registry hands to the metrics it creates. */
export interface MetricContext {
  /** Registry-wide labels, already rendered as `a="b"` pairs ('' for none). */
  readonly constPairs: string;
  readonly constLabelNames: readonly string[];
  /** Values of the registry-wide labels, in `constLabelNames` order (for the protobuf format). */
  readonly constLabelValues?: readonly string[];
  readonly defaultMaxSeries: number;
  /** Called each time a new label set is folded into the overflow series. */
  readonly onOverflow: (metricName: string) => void;
}

/** The label value every label of the overflow series carries. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';

/**
 * A series: one label set of a metric. Subclasses add the numbers.
 */
export abstract class Series {
  /** Label values in label-name order. */
  readonly labelValues: readonly string[];
  /** `a="x",b="y"` including registry labels; '' when there are none. */
  readonly pairs: string;
  /** The same labels as protobuf `LabelPair` fields, encoded on the first protobuf scrape. */
  protoLabels: Uint8Array | undefined = undefined;

  constructor(labelValues: readonly string[], pairs: string) {
    this.labelValues = labelValues;
    this.pairs = pairs;
  }
}

/** Series are found through one Map per label (value -> next level); the last level holds the series. */
type SeriesTree<S> = Map<string, SeriesTree<S> | S>;

/**
 * Base of every metric: name checks, label binding, the series cap.
 */
export abstract class Metric<L extends string, S extends Series> {
  abstract readonly type: MetricType;
  /** Family name as OpenMetrics writes it in TYPE (counters without `_total`). */
  readonly name: string;
  readonly help: string;
  readonly unit: string | undefined;
  readonly labelNames: readonly L[];
  readonly maxSeries: number;
  readonly collect: (() => void | Promise<void>) | undefined;
  /** Series in creation order; the exposition walks this. */
  readonly series: S[] = [];

  protected readonly context: MetricContext;
  private readonly tree: SeriesTree<S> = new Map();
  private protoHeaderBytes: Uint8Array | undefined;
  private labelledCount = 0;
  private overflowSeries: S | undefined;
  private unlabelled: S | undefined;

  protected constructor(familyName: string, options: MetricOptions<L>, context: MetricContext, reservedLabels: readonly string[] = []) {
    assertMetricName(options.name);
    assertMetricName(familyName);
    assertHelp(options.name, options.help);
    const labelNames = options.labelNames ?? [];
    assertLabelNames(options.name, labelNames, reservedLabels);
    for (const constName of context.constLabelNames) {
      if ((labelNames as readonly string[]).includes(constName)) {
        throw new LookoutError('LOOKOUT_E_DUPLICATE_LABEL', `metric ${options.name}: label ${constName} is already a registry default label`);
      }
    }
    if (options.unit !== undefined) assertUnit(familyName, options.unit);
    const maxSeries = options.maxSeries ?? context.defaultMaxSeries;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `metric ${options.name}: maxSeries must be a positive integer`);
    }
    this.name = familyName;
    this.help = options.help;
    this.unit = options.unit;
    this.labelNames = [...labelNames];
    this.maxSeries = maxSeries;
    this.collect = options.collect;
    this.context = context;
    // Unlabelled metrics get their series at once (rendered as 0 before first use);
    // subclasses finish their own fields before `init()` builds it.
    this.unlabelled = undefined;
  }

  /** Builds the unlabelled series; subclasses call it at the end of their constructor. */
  protected init(): void {
    if (this.labelNames.length === 0) this.bindUnlabelled();
  }

  /**
   * Returns the series for a label set, creating it once. Keep the handle:
   * its methods touch preallocated numbers only.
   *
   * @example
   * ```ts
   * const ok = requests.labels({ method: 'GET', status: '200' });
   * ok.inc();
   * ```
   */
  labels(values: LabelValues<L>): S {
    const names = this.labelNames;
    const last = names.length - 1;
    if (last < 0) return this.only;
    // No key strings are built: each label value indexes one Map level.
    let node = this.tree;
    for (let index = 0; index < last; index++) {
      const value = values[names[index]!];
      if (value === undefined) this.labelError(values);
      const next = node.get(typeof value === 'string' ? value : String(value)) as SeriesTree<S> | undefined;
      if (next === undefined) return this.create(values);
      node = next;
    }
    const value = values[names[last]!];
    if (value === undefined) this.labelError(values);
    return (node.get(typeof value === 'string' ? value : String(value)) as S | undefined) ?? this.create(values);
  }

  /** The series of a metric without labels. */
  protected get only(): S {
    if (this.unlabelled === undefined) {
      throw new LookoutError('LOOKOUT_E_LABELS', `metric ${this.name} has labels ${this.labelNames.join(', ')}: call .labels({...}) first`);
    }
    return this.unlabelled;
  }

  /**
   * Forgets one label set (it disappears from the exposition).
   *
   * @example
   * ```ts
   * requests.remove({ method: 'GET', status: '200' });
   * ```
   */
  remove(values: LabelValues<L>): void {
    if (this.labelNames.length === 0) return;
    const raw = this.rawValues(values);
    const series = this.find(raw) ?? this.find(raw.map(wellFormed));
    if (series === undefined || series === this.overflowSeries) return;
    this.forget(raw);
    this.forget(series.labelValues);
    this.labelledCount--;
    const index = this.series.indexOf(series);
    if (index >= 0) this.series.splice(index, 1);
  }

  /**
   * Drops every labelled series (an unlabelled metric keeps its one series, reset to zero).
   *
   * @example
   * ```ts
   * requests.reset();
   * ```
   */
  reset(): void {
    this.tree.clear();
    this.labelledCount = 0;
    this.series.length = 0;
    this.overflowSeries = undefined;
    if (this.labelNames.length === 0) this.bindUnlabelled();
  }

  /** Number of live series, the overflow series included. */
  get seriesCount(): number {
    return this.series.length;
  }

  /** HELP, TYPE and UNIT lines for the family. */
  header(format: ExpositionFormat): string {
    if (format === 'openmetrics') {
      let text = `# TYPE ${this.name} ${this.type}\n`;
      if (this.unit !== undefined) text += `# UNIT ${this.name} ${this.unit}\n`;
      return `${text}# HELP ${this.name} ${escapeHelp(this.help, true)}\n`;
    }
    const name = this.textName;
    return `# HELP ${name} ${escapeHelp(this.help, false)}\n# TYPE ${name} ${this.textType}\n`;
  }

  /** The sample lines of one series. */
  abstract render(series: S, format: ExpositionFormat): string;

  /**
   * Writes the `Metric` messages of one series (field 4 of its MetricFamily)
   * in the protobuf format.
   *
   * @example
   * ```ts
   * for (const series of metric.series) metric.encode(series, writer);
   * ```
   */
  abstract encode(series: S, writer: ProtoWriter): void;

  /**
   * The MetricFamily fields before the metrics (name, help, type), encoded
   * once. Names and types are the text format's: Prometheus maps info and
   * state sets to gauges there.
   *
   * @example
   * ```ts
   * writer.raw(metric.protoHeader());
   * ```
   */
  protoHeader(): Uint8Array {
    if (this.protoHeaderBytes === undefined) {
      const writer = new ProtoWriter(256);
      writer.string(Field.familyName, this.textName);
      writer.string(Field.familyHelp, wellFormed(this.help));
      const type = this.textType;
      writer.uint(Field.familyType, type === 'counter' ? ProtoMetricType.counter : type === 'histogram' ? ProtoMetricType.histogram : type === 'summary' ? ProtoMetricType.summary : ProtoMetricType.gauge);
      this.protoHeaderBytes = writer.take();
    }
    return this.protoHeaderBytes;
  }

  /** Opens one `Metric` message with the series' labels; close it with `writer.end`. */
  protected beginProtoMetric(series: S, writer: ProtoWriter): number {
    const start = writer.begin(Field.familyMetric);
    let labels = series.protoLabels;
    if (labels === undefined) {
      labels = encodeLabels([...this.context.constLabelNames, ...this.labelNames], [...(this.context.constLabelValues ?? []), ...series.labelValues]);
      series.protoLabels = labels;
    }
    writer.raw(labels);
    return start;
  }

  /** Family name in the 0.0.4 text format. */
  protected get textName(): string {
    return this.name;
  }

  /** TYPE in the 0.0.4 text format (info and stateset are gauges there). */
  protected get textType(): string {
    return this.type;
  }

  protected abstract createSeries(labelValues: readonly string[], pairs: string): S;

  /** `{pairs}` or `{pairs,extra}` with correct commas. */
  protected static wrap(pairs: string, extra = ''): string {
    return braces(joinPairs(pairs, extra));
  }

  /** The one series of a metric without labels, also what `labels({})` returns. */
  private bindUnlabelled(): void {
    this.unlabelled = this.bind([]);
  }

  private bind(labelValues: readonly string[]): S {
    const pairs = joinPairs(this.context.constPairs, labelPairs(this.labelNames, labelValues));
    const series = this.createSeries(labelValues, pairs);
    this.series.push(series);
    return series;
  }

  private create(values: LabelValues<L>): S {
    if (Object.keys(values).length !== this.labelNames.length) this.labelError(values);
    const raw = this.rawValues(values);
    // Values are written as well-formed text (a lone surrogate becomes U+FFFD), so
    // strings that differ only there are one series, never two identical ones.
    const labelValues = raw.map(wellFormed);
    let series = this.find(labelValues);
    if (series === undefined) {
      if (this.labelledCount >= this.maxSeries) return this.overflow();
      series = this.bind(labelValues);
      this.labelledCount++;
      this.insert(labelValues, series);
    }
    if (raw.some((value, index) => value !== labelValues[index])) this.insert(raw, series);
    return series;
  }

  private rawValues(values: LabelValues<L>): string[] {
    return this.labelNames.map((name) => {
      const value = values[name];
      if (value === undefined) this.labelError(values);
      return String(value);
    });
  }

  private find(labelValues: readonly string[]): S | undefined {
    let node: SeriesTree<S> | S | undefined = this.tree;
    for (const value of labelValues) {
      if (!(node instanceof Map)) return undefined;
      node = node.get(value);
    }
    return node instanceof Map ? undefined : node;
  }

  private insert(labelValues: readonly string[], series: S): void {
    let node = this.tree;
    for (let index = 0; index < labelValues.length - 1; index++) {
      let next = node.get(labelValues[index]!) as SeriesTree<S> | undefined;
      if (next === undefined) node.set(labelValues[index]!, (next = new Map()));
      node = next;
    }
    node.set(labelValues[labelValues.length - 1]!, series);
  }

  private forget(labelValues: readonly string[]): void {
    const path: SeriesTree<S>[] = [this.tree];
    for (let index = 0; index < labelValues.length - 1; index++) {
      const next = path[index]!.get(labelValues[index]!);
      if (!(next instanceof Map)) return;
      path.push(next);
    }
    path[path.length - 1]!.delete(labelValues[labelValues.length - 1]!);
    // Drop levels left empty, deepest first.
    for (let index = path.length - 1; index > 0 && path[index]!.size === 0; index--) path[index - 1]!.delete(labelValues[index - 1]!);
  }

  private overflow(): S {
    this.context.onOverflow(this.name);
    if (this.overflowSeries === undefined) {
      this.overflowSeries = this.bind(this.labelNames.map(() => OVERFLOW_LABEL_VALUE));
    }
    return this.overflowSeries;
  }

  private labelError(values: LabelValues<L>): never {
    const given = Object.keys(values as object).sort().join(', ');
    throw new LookoutError('LOOKOUT_E_LABELS', `metric ${this.name} takes labels [${this.labelNames.join(', ')}], got [${given}]`);
  }
}
