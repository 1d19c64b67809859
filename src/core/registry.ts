import { Counter } from './counter.js';
import { LookoutError } from './errors.js';
import { labelPairs } from './format.js';
import { Gauge } from './gauge.js';
import { Histogram, type HistogramOptions } from './histogram.js';
import { Info } from './info.js';
import type { ExpositionFormat, Metric, MetricContext, MetricOptions, MetricType, Series } from './metric.js';
import { assertLabelNames } from './names.js';
import { ProtoWriter } from './protobuf.js';
import { renderPromClient, type PromClientRegistryLike } from './promclient.js';
import { StateSet, type StateSetOptions } from './stateset.js';
import { Summary, type SummaryOptions } from './summary.js';

/**
 * Registry options.
 *
 * @example
 * ```ts
 * new Registry({ defaultLabels: { app: 'inference-api' }, maxSeriesPerMetric: 2000 });
 * ```
 */
export interface RegistryOptions {
  /** Labels added to every series of every metric (e.g. `app`). */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /** Series cap of each metric unless the metric sets its own (default 5000). */
  readonly maxSeriesPerMetric?: number;
  /** Time the renderer may hold the event loop before it yields (default 5 ms). */
  readonly renderSliceMs?: number;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMetric = Metric<string, any>;

const CHUNK_CHARS = 64 * 1024;

/** Sample names a family of each type writes besides its own name. */
const SAMPLE_SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  gauge: [],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
  stateset: [],
};

/**
 * Holds metrics and renders them. There is no hidden global registry: create
 * one and pass it to the adapters.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs done.', labelNames: ['queue'] });
 * jobs.labels({ queue: 'mail' }).inc();
 * console.log(await registry.metrics());
 * ```
 */
export class Registry {
  /** Labels on every series of this registry (the `defaultLabels` option). */
  readonly defaultLabels: Readonly<Record<string, string>>;
  private readonly byName = new Map<string, AnyMetric>();
  private readonly collectors: (() => void | Promise<void>)[] = [];
  private readonly promClientRegistries: PromClientRegistryLike[] = [];
  private readonly context: MetricContext;
  private readonly sliceMs: number;
  private readonly overflowTotal: Counter<'metric'>;
  private readonly collectErrors: Counter<'metric'>;

  constructor(options: RegistryOptions = {}) {
    const defaultLabels = options.defaultLabels ?? {};
    const constLabelNames = Object.keys(defaultLabels);
    assertLabelNames('registry defaultLabels', constLabelNames, ['le', 'quantile']);
    const maxSeries = options.maxSeriesPerMetric ?? 5000;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'maxSeriesPerMetric must be a positive integer');
    }
    this.defaultLabels = { ...defaultLabels };
    this.sliceMs = options.renderSliceMs ?? 5;
    this.context = {
      constPairs: labelPairs(constLabelNames, Object.values(defaultLabels)),
      constLabelNames,
      constLabelValues: Object.values(defaultLabels),
      defaultMaxSeries: maxSeries,
      onOverflow: (metricName) => this.overflowTotal.labels({ metric: metricName }).inc(),
    };
    this.overflowTotal = this.counter({
      name: 'lookout_series_overflow_total',
      help: 'Calls that resolved to a metric\'s overflow series because the metric had reached its series cap.',
      labelNames: ['metric'],
      maxSeries: 10_000,
    });
    this.collectErrors = this.counter({
      name: 'lookout_collect_errors_total',
      help: 'Collect callbacks or merged registries that failed during a render.',
      labelNames: ['metric'],
      maxSeries: 1000,
    });
  }

  /** Registers a counter. @example registry.counter({ name: 'jobs_total', help: 'Jobs.' }).inc() */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.add(new Counter(options, this.context));
  }

  /** Registers a gauge. @example registry.gauge({ name: 'queue_depth', help: 'Waiting.' }).set(3) */
  gauge<L extends string = never>(options: MetricOptions<L>): Gauge<L> {
    return this.add(new Gauge(options, this.context));
  }

  /** Registers a histogram. @example registry.histogram({ name: 'x_seconds', help: 'X.', buckets: [0.1, 1] }).observe(0.2) */
  histogram<L extends string = never>(options: HistogramOptions<L>): Histogram<L> {
    return this.add(new Histogram(options, this.context));
  }

  /** Registers a summary. @example registry.summary({ name: 'size_bytes', help: 'Sizes.' }).observe(10) */
  summary<L extends string = never>(options: SummaryOptions<L>): Summary<L> {
    return this.add(new Summary(options, this.context));
  }

  /** Registers an info metric. @example registry.info({ name: 'build_info', help: 'Build.', labelNames: ['version'] }).set({ version: '1' }) */
  info<L extends string = never>(options: MetricOptions<L>): Info<L> {
    return this.add(new Info(options, this.context));
  }

  /** Registers a state set (enum). @example registry.stateSet({ name: 'mode', help: 'Mode.', states: ['a', 'b'] }).set('a') */
  stateSet<L extends string = never>(options: StateSetOptions<L>): StateSet<L> {
    return this.add(new StateSet(options, this.context));
  }

  /**
   * The metric registered under `name` (family name: counters without `_total`).
   *
   * @example
   * ```ts
   * registry.get('http_requests');
   * ```
   */
  get(name: string): AnyMetric | undefined {
    return this.byName.get(name) ?? this.byName.get(name.replace(/_(total|info)$/, ''));
  }

  /** All registered metrics in registration order. */
  list(): AnyMetric[] {
    return [...this.byName.values()];
  }

  /**
   * Unregisters a metric.
   *
   * @example
   * ```ts
   * registry.remove('jobs_total');
   * ```
   */
  remove(name: string): boolean {
    const metric = this.get(name);
    return metric !== undefined && this.byName.delete(metric.name);
  }

  /**
   * Runs `collect` before every render (to refresh gauges from elsewhere).
   * A throwing collector is counted in `lookout_collect_errors_total`.
   *
   * @example
   * ```ts
   * registry.addCollector(() => poolSize.set(pool.totalCount));
   * ```
   */
  addCollector(collect: () => void | Promise<void>): void {
    this.collectors.push(collect);
  }

  /**
   * Merges a prom-client registry into this registry's answers (both formats).
   * Families whose names clash with lookout's are skipped and counted.
   *
   * @example
   * ```ts
   * import client from 'prom-client';
   * registry.mergePromClient(client.register);
   * ```
   */
  mergePromClient(promRegistry: PromClientRegistryLike): void {
    this.promClientRegistries.push(promRegistry);
  }

  /**
   * Renders the exposition as chunks of about 64 KB, yielding the event loop
   * every few milliseconds so a big scrape never stalls the app.
   *
   * @example
   * ```ts
   * for await (const chunk of registry.render('openmetrics')) response.write(chunk);
   * ```
   */
  async *render(format: ExpositionFormat = 'text'): AsyncGenerator<string, void, undefined> {
    // Everything that may count a failure runs before lookout_collect_errors_total
    // is written, so a scrape reports its own failures rather than the next one.
    await this.collect();
    const merged = await this.renderMerged(format);
    let buffer = '';
    let sliceEnd = performance.now() + this.sliceMs;
    for (const metric of this.byName.values()) {
      buffer += metric.header(format);
      const series: Series[] = metric.series;
      for (let index = 0; index < series.length; index++) {
        buffer += metric.render(series[index], format);
        if ((index & 63) === 63) {
          if (buffer.length >= CHUNK_CHARS) {
            yield flatten(buffer);
            buffer = '';
          }
          if (performance.now() > sliceEnd) {
            await yieldToEventLoop();
            sliceEnd = performance.now() + this.sliceMs;
          }
        }
      }
      // Many small metrics must not add up to one long block either.
      if (performance.now() > sliceEnd) {
        await yieldToEventLoop();
        sliceEnd = performance.now() + this.sliceMs;
      }
    }
    buffer += merged;
    if (format === 'openmetrics') buffer += '# EOF\n';
    yield buffer;
  }

  /**
   * True when `renderProtobuf` can answer for everything this registry serves
   * (not when prom-client registries are merged in: those render text only).
   *
   * @example
   * ```ts
   * if (registry.protobufCapable) for await (const bytes of registry.renderProtobuf()) socket.write(bytes);
   * ```
   */
  get protobufCapable(): boolean {
    return this.promClientRegistries.length === 0;
  }

  /**
   * Renders the protobuf exposition (length-delimited
   * `io.prometheus.client.MetricFamily` messages, the format Prometheus needs
   * for native histograms) as chunks of about 64 KB, written directly from the
   * series' numbers and yielding the event loop as `render` does.
   *
   * @example
   * ```ts
   * for await (const bytes of registry.renderProtobuf()) response.write(bytes);
   * ```
   */
  async *renderProtobuf(): AsyncGenerator<Uint8Array, void, undefined> {
    await this.collect();
    const writer = new ProtoWriter();
    let sliceEnd = performance.now() + this.sliceMs;
    for (const metric of this.byName.values()) {
      const series: Series[] = metric.series;
      if (series.length === 0) continue;
      const family = writer.beginDelimited();
      writer.raw(metric.protoHeader());
      for (let index = 0; index < series.length; index++) {
        metric.encode(series[index], writer);
        if ((index & 63) === 63 && performance.now() > sliceEnd) {
          await yieldToEventLoop();
          sliceEnd = performance.now() + this.sliceMs;
        }
      }
      writer.end(family);
      if (writer.length >= CHUNK_CHARS) yield writer.take();
      if (performance.now() > sliceEnd) {
        await yieldToEventLoop();
        sliceEnd = performance.now() + this.sliceMs;
      }
    }
    yield writer.take();
  }

  /**
   * The whole exposition as one string.
   *
   * @example
   * ```ts
   * const text = await registry.metrics('openmetrics');
   * ```
   */
  async metrics(format: ExpositionFormat = 'text'): Promise<string> {
    let text = '';
    for await (const chunk of this.render(format)) text += chunk;
    return text;
  }

  /**
   * Runs every collector and every metric's `collect`, as `render` does first
   * (for code that reads the series directly). Failures are counted in
   * `lookout_collect_errors_total`, never thrown.
   *
   * @example
   * ```ts
   * await registry.collect();
   * const depth = registry.get('queue_depth');
   * ```
   */
  async collect(): Promise<void> {
    for (const collect of this.collectors) await this.guard('collector', collect);
    for (const metric of this.byName.values()) {
      if (metric.collect !== undefined) await this.guard(metric.name, metric.collect);
    }
  }

  private add<M extends AnyMetric>(metric: M): M {
    if (this.byName.has(metric.name)) {
      throw new LookoutError('LOOKOUT_E_DUPLICATE_METRIC', `a metric named ${metric.name} is already registered`);
    }
    this.byName.set(metric.name, metric);
    return metric;
  }

  /**
   * The merged prom-client registries. A family whose name is already written,
   * as a family or as a sample name (`x_total`, `x_info`...), by lookout or by
   * an earlier registry, is skipped and counted.
   */
  private async renderMerged(format: ExpositionFormat): Promise<string> {
    const taken = new Set<string>();
    for (const metric of this.byName.values()) {
      taken.add(metric.name);
      for (const suffix of SAMPLE_SUFFIXES[metric.type]) taken.add(metric.name + suffix);
    }
    let text = '';
    for (const promRegistry of this.promClientRegistries) {
      try {
        text += await renderPromClient(promRegistry, format, taken, (name) => this.collectErrors.labels({ metric: name }).inc());
      } catch {
        this.collectErrors.labels({ metric: 'prom-client' }).inc();
      }
    }
    return text;
  }

  private async guard(name: string, collect: () => void | Promise<void>): Promise<void> {
    try {
      await collect();
    } catch {
      this.collectErrors.labels({ metric: name }).inc();
    }
  }
}

/**
 * V8 keeps `text += piece` as a rope of many small strings. Reading one
 * character flattens it into a single string, so the pieces die young instead
 * of being copied by every scavenge while the render runs (on 10k histogram
 * series this halves the render time and its longest event-loop block).
 */
function flatten(text: string): string {
  text.charCodeAt(0);
  return text;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
