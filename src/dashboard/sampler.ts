import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { ResolvedDashboardOptions } from './options.js';
import { readRegistry, type KeyMemo, type SampleWriter } from './snapshot.js';

/**
 * Where each value of a sample lives: key -> first column. A histogram takes
 * one column per bucket. Samples share a layout until a new key (a new route,
 * status, event...) appears; then the next samples get a longer copy.
 *
 * @example
 * ```ts
 * const layout = new Layout().extendedWith(new Map([['all', 1], ['hist', 12]]));
 * layout.columns.get('hist'); // 1
 * ```
 */
export class Layout {
  readonly columns: ReadonlyMap<string, number>;
  readonly size: number;

  constructor(columns: ReadonlyMap<string, number> = new Map(), size = 0) {
    this.columns = columns;
    this.size = size;
  }

  /** This layout, or a copy that also holds `widths`' new keys. */
  extendedWith(widths: ReadonlyMap<string, number>): Layout {
    let columns: Map<string, number> | undefined;
    let size = this.size;
    for (const [key, width] of widths) {
      if (this.columns.has(key)) continue;
      columns ??= new Map(this.columns);
      columns.set(key, size);
      size += width;
    }
    return columns === undefined ? this : new Layout(columns, size);
  }
}

/**
 * One snapshot of the numbers the panels need (counters stay cumulative).
 *
 * @example
 * ```ts
 * sample.value('r:/users/:id'); // requests of the route so far
 * ```
 */
export class Sample {
  /** Unix milliseconds. */
  readonly time: number;
  readonly layout: Layout;
  readonly values: Float64Array;

  constructor(time: number, layout: Layout, values: Float64Array) {
    this.time = time;
    this.layout = layout;
    this.values = values;
  }

  has(key: string): boolean {
    return this.layout.columns.has(key);
  }

  /** The value under `key` (0 when the key did not exist yet: its series had no data). */
  value(key: string, offset = 0): number {
    const column = this.layout.columns.get(key);
    return column === undefined ? 0 : this.values[column + offset]!;
  }

  /** `width` values from `key` into `into` (zeros when the key is missing). */
  read(key: string, into: Float64Array): Float64Array {
    const column = this.layout.columns.get(key);
    if (column === undefined) into.fill(0);
    else into.set(this.values.subarray(column, column + into.length));
    return into;
  }
}

/** Accumulates one sample's values by key before they are laid out. */
class Accumulator implements SampleWriter {
  readonly widths = new Map<string, number>();
  private readonly sums = new Map<string, Float64Array>();

  add(key: string, value: number): void {
    const sums = this.sums.get(key) ?? this.create(key, 1);
    sums[0] = sums[0]! + value;
  }

  addAll(key: string, values: ArrayLike<number>): void {
    const sums = this.sums.get(key) ?? this.create(key, values.length);
    for (let index = 0; index < sums.length; index++) sums[index] = sums[index]! + (values[index] ?? 0);
  }

  private create(key: string, width: number): Float64Array {
    const sums = new Float64Array(width);
    this.sums.set(key, sums);
    this.widths.set(key, width);
    return sums;
  }

  write(layout: Layout): Float64Array {
    const values = new Float64Array(layout.size);
    for (const [key, sums] of this.sums) values.set(sums, layout.columns.get(key)!);
    return values;
  }
}

/**
 * The in-process history: every `sampleSeconds` it reads the registry (and
 * the process's CPU, memory and event-loop delay, measured here so that
 * Prometheus's own windows are left alone) into a ring buffer of
 * `historySamples` samples. Started by the first request to the dashboard;
 * its timer is unref()ed and never keeps the process alive.
 *
 * @example
 * ```ts
 * const sampler = new Sampler(resolveDashboardOptions({ registry }));
 * sampler.start();
 * sampler.since(Date.now() - 60_000);
 * sampler.stop();
 * ```
 */
export class Sampler {
  readonly options: ResolvedDashboardOptions;
  /** Tracked values per key family (routes, statuses...), capped and sticky so rates stay continuous. */
  readonly tracked = new Map<string, Set<string>>();
  private readonly ring: (Sample | undefined)[];
  private head = 0;
  private count = 0;
  private layout = new Layout();
  private readonly keys: KeyMemo = new WeakMap();
  private timer: NodeJS.Timeout | undefined;
  private delay: IntervalHistogram | undefined;

  constructor(options: ResolvedDashboardOptions) {
    this.options = options;
    this.ring = new Array<Sample | undefined>(options.historySamples).fill(undefined);
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Starts sampling (idempotent): one sample now, then one every `sampleSeconds`. */
  start(): void {
    if (this.timer !== undefined) return;
    this.delay = monitorEventLoopDelay({ resolution: 20 });
    this.delay.enable();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.options.sampleSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.delay?.disable();
    this.delay = undefined;
  }

  /** Takes one sample now. Never throws: a failing read leaves the history as it was. */
  sample(now = Date.now()): void {
    try {
      const accumulator = new Accumulator();
      readRegistry(this.options, accumulator, (family, value, cap) => this.fold(family, value, cap), this.keys);
      this.readProcess(accumulator);
      this.layout = this.layout.extendedWith(accumulator.widths);
      this.push(new Sample(now, this.layout, accumulator.write(this.layout)));
    } catch {
      // A metric replaced under our feet or a /proc hiccup: skip this sample.
    }
  }

  /** Samples at or after `from` (Unix ms), oldest first, plus the one just before (the base of the first rate). */
  since(from: number): Sample[] {
    const samples: Sample[] = [];
    for (let index = 0; index < this.count; index++) {
      const sample = this.ring[(this.head - 1 - index + this.ring.length) % this.ring.length]!;
      samples.push(sample);
      if (sample.time < from) break;
    }
    return samples.reverse();
  }

  /** Samples kept. */
  get size(): number {
    return this.count;
  }

  /** Time of the newest sample (Unix ms), or undefined before the first. */
  get newest(): number | undefined {
    return this.count === 0 ? undefined : this.ring[(this.head - 1 + this.ring.length) % this.ring.length]!.time;
  }

  /** Time of the oldest sample kept (Unix ms), or undefined before the first. */
  get oldest(): number | undefined {
    return this.count === 0 ? undefined : this.ring[(this.head - this.count + this.ring.length) % this.ring.length]!.time;
  }

  private push(sample: Sample): void {
    this.ring[this.head] = sample;
    this.head = (this.head + 1) % this.ring.length;
    this.count = Math.min(this.count + 1, this.ring.length);
  }

  /** `value` while the family tracks fewer than `cap` values (or already tracks it), else `other`. */
  private fold(family: string, value: string, cap: number): string {
    let set = this.tracked.get(family);
    if (set === undefined) this.tracked.set(family, (set = new Set()));
    if (set.has(value)) return value;
    if (set.size < cap) {
      set.add(value);
      return value;
    }
    return family === 'route' ? OTHER_ROUTES : OTHER;
  }

  private readProcess(into: Accumulator): void {
    const cpu = process.cpuUsage();
    into.add('cpuUser', cpu.user / 1e6);
    into.add('cpuSystem', cpu.system / 1e6);
    const memory = process.memoryUsage();
    into.add('rss', memory.rss);
    into.add('heapUsed', memory.heapUsed);
    into.add('heapTotal', memory.heapTotal);
    into.add('external', memory.external);
    const delay = this.delay;
    if (delay !== undefined && delay.count > 0) {
      // The histogram counts the timer's own 20 ms resolution: lag is what exceeds it.
      into.add('lag', Math.max(0, delay.mean - 20e6) / 1e9);
      into.add('lag99', Math.max(0, delay.percentile(99) - 20e6) / 1e9);
      delay.reset();
    }
  }
}

/**
 * Where routes beyond `maxRoutes` are summed.
 *
 * @example
 * ```ts
 * data.routes.find((row) => row.route === OTHER_ROUTES);
 * ```
 */
export const OTHER_ROUTES = '(other routes)';
/**
 * Where other capped families (statuses, exception types, events) are summed.
 *
 * @example
 * ```ts
 * sample.value(`s:${OTHER}`);
 * ```
 */
export const OTHER = '(other)';
