/**
 * Sparse exponential ("native") histogram buckets, as Prometheus defines them:
 * at schema `s`, bucket `i` holds values in (2^((i-1)/2^s), 2^(i/2^s)], the
 * zero bucket holds |v| <= zeroThreshold, negative values mirror positive
 * ones. Counts live in dense typed-array windows over the populated index
 * range, so an observation touches numbers only; the window grows (rarely)
 * when a value lands outside it.
 */
import { LookoutError } from './errors.js';
import { fastBucketIndex, IndexTables, MAX_SCHEMA, MIN_SCHEMA } from './native-index.js';

export { bucketIndex, fastBucketIndex, IndexTables, infinityIndex, MAX_SCHEMA, MIN_SCHEMA } from './native-index.js';

/**
 * Options of a native histogram (client_golang semantics).
 *
 * @example
 * ```ts
 * const native: NativeHistogramOptions = { schema: 3, zeroThreshold: 1e-9, maxBuckets: 160 };
 * ```
 */
export interface NativeHistogramOptions {
  /** Resolution, -4..8: each bucket is 2^(2^-schema) times wider than the previous one. Default 3 (factor 1.09). */
  readonly schema?: number;
  /** Or the largest acceptable growth factor per bucket (> 1); the schema is the finest one that satisfies it, as client_golang picks it. */
  readonly bucketFactor?: number;
  /** Values with |v| <= this go to the zero bucket. Default 2^-128, as client_golang. */
  readonly zeroThreshold?: number;
  /** Most populated buckets (positive and negative) before the resolution is halved. Default 160. */
  readonly maxBuckets?: number;
}

/** client_golang's DefNativeHistogramZeroThreshold, 2^-128. */
export const DEFAULT_ZERO_THRESHOLD = 2.938735877055719e-39;
const DEFAULT_SCHEMA = 3;
const DEFAULT_MAX_BUCKETS = 160;
/** A window spans at most this many bucket widths; wider data halves the resolution too (memory stays bounded). */
export const MAX_WINDOW = 4096;

/** Resolved native options. */
export interface NativeConfig {
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly maxBuckets: number;
}

/**
 * Checks and resolves native histogram options; bad ones throw
 * `LOOKOUT_E_INVALID_SCHEMA`, `LOOKOUT_E_INVALID_ZERO_THRESHOLD` or
 * `LOOKOUT_E_INVALID_BUCKET_LIMIT`.
 *
 * @example
 * ```ts
 * resolveNative('x_seconds', { bucketFactor: 1.1 }); // { schema: 3, zeroThreshold: 2.9e-39, maxBuckets: 160 }
 * ```
 */
export function resolveNative(metricName: string, options: NativeHistogramOptions | true): NativeConfig {
  const given: NativeHistogramOptions = options === true ? {} : options;
  if (typeof given !== 'object' || given === null) {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `histogram ${metricName}: native must be true or an options object`);
  }
  let schema = DEFAULT_SCHEMA;
  if (given.schema !== undefined && given.bucketFactor !== undefined) {
    throw new LookoutError('LOOKOUT_E_INVALID_SCHEMA', `histogram ${metricName}: give native.schema or native.bucketFactor, not both`);
  }
  if (given.schema !== undefined) {
    if (!Number.isInteger(given.schema) || given.schema < MIN_SCHEMA || given.schema > MAX_SCHEMA) {
      throw new LookoutError('LOOKOUT_E_INVALID_SCHEMA', `histogram ${metricName}: native.schema must be an integer from ${MIN_SCHEMA} to ${MAX_SCHEMA}, got ${String(given.schema)}`);
    }
    schema = given.schema;
  } else if (given.bucketFactor !== undefined) {
    if (typeof given.bucketFactor !== 'number' || !(given.bucketFactor > 1) || given.bucketFactor === Infinity) {
      throw new LookoutError('LOOKOUT_E_INVALID_SCHEMA', `histogram ${metricName}: native.bucketFactor must be a finite number > 1, got ${String(given.bucketFactor)}`);
    }
    schema = schemaForFactor(given.bucketFactor);
  }
  const zeroThreshold = given.zeroThreshold ?? DEFAULT_ZERO_THRESHOLD;
  if (typeof zeroThreshold !== 'number' || !Number.isFinite(zeroThreshold) || zeroThreshold < 0) {
    throw new LookoutError('LOOKOUT_E_INVALID_ZERO_THRESHOLD', `histogram ${metricName}: native.zeroThreshold must be a finite number >= 0, got ${String(zeroThreshold)}`);
  }
  const maxBuckets = given.maxBuckets ?? DEFAULT_MAX_BUCKETS;
  if (!Number.isInteger(maxBuckets) || maxBuckets < 1) {
    throw new LookoutError('LOOKOUT_E_INVALID_BUCKET_LIMIT', `histogram ${metricName}: native.maxBuckets must be a positive integer, got ${String(maxBuckets)}`);
  }
  return { schema, zeroThreshold, maxBuckets };
}

/**
 * The schema client_golang picks for a bucket factor: the finest whose
 * factor 2^(2^-schema) does not exceed it, clamped to -4..8.
 *
 * @example
 * ```ts
 * schemaForFactor(1.1); // 3 (factor 1.0905)
 * schemaForFactor(2); // 0
 * ```
 */
export function schemaForFactor(bucketFactor: number): number {
  const floor = Math.floor(Math.log2(Math.log2(bucketFactor)));
  if (floor <= -MAX_SCHEMA) return MAX_SCHEMA;
  if (floor >= -MIN_SCHEMA) return MIN_SCHEMA;
  return 0 - floor;
}

/**
 * Counts of one sign: a dense window over bucket indexes
 * `[offset, offset + counts.length)`.
 */
export class BucketWindow {
  counts: Float64Array = new Float64Array(0);
  offset = 0;
  /** Buckets with a non-zero count. */
  populated = 0;

  /** Adds one to bucket `index`; false when the window would need more than MAX_WINDOW slots. */
  add(index: number): boolean {
    let slot = index - this.offset;
    const counts = this.counts;
    if (slot < 0 || slot >= counts.length) {
      if (!this.grow(index)) return false;
      slot = index - this.offset;
    }
    if (this.counts[slot]!++ === 0) this.populated++;
    return true;
  }

  /**
   * Adds `count` to bucket `index` (merging another histogram's bucket); false
   * when the window would need more than MAX_WINDOW slots.
   */
  addCount(index: number, count: number): boolean {
    if (count === 0) return true;
    let slot = index - this.offset;
    if (slot < 0 || slot >= this.counts.length) {
      if (!this.grow(index)) return false;
      slot = index - this.offset;
    }
    if (this.counts[slot] === 0) this.populated++;
    this.counts[slot]! += count;
    return true;
  }

  /** The populated buckets as flat (index, count) pairs, lowest index first. */
  pairs(): number[] {
    const pairs: number[] = [];
    const counts = this.counts;
    for (let slot = 0; slot < counts.length; slot++) if (counts[slot] !== 0) pairs.push(this.offset + slot, counts[slot]!);
    return pairs;
  }

  /** Halves the resolution: bucket i becomes ceil(i / 2). */
  halve(): void {
    const counts = this.counts;
    if (counts.length === 0) return;
    const first = this.offset;
    const newOffset = (first + 1) >> 1;
    const newLength = ((first + counts.length - 1 + 1) >> 1) - newOffset + 1;
    const merged = new Float64Array(newLength);
    let populated = 0;
    for (let slot = 0; slot < counts.length; slot++) {
      const count = counts[slot]!;
      if (count === 0) continue;
      const target = ((first + slot + 1) >> 1) - newOffset;
      if (merged[target] === 0) populated++;
      merged[target]! += count;
    }
    this.counts = merged;
    this.offset = newOffset;
    this.populated = populated;
  }

  /** Lowest and highest populated index, or undefined when empty. */
  range(): [number, number] | undefined {
    const counts = this.counts;
    let first = 0;
    while (first < counts.length && counts[first] === 0) first++;
    if (first === counts.length) return undefined;
    let last = counts.length - 1;
    while (counts[last] === 0) last--;
    return [this.offset + first, this.offset + last];
  }

  private grow(index: number): boolean {
    const counts = this.counts;
    const range = this.range();
    const low = range === undefined ? index : Math.min(range[0], index);
    const high = range === undefined ? index : Math.max(range[1], index);
    const needed = high - low + 1;
    if (needed > MAX_WINDOW) return false;
    // Room on both sides so that a drifting range does not reallocate every time.
    const length = Math.min(MAX_WINDOW, Math.max(16, needed * 2));
    const spare = length - needed;
    const offset = low - (spare >> 1);
    const next = new Float64Array(length);
    if (range !== undefined) next.set(counts.subarray(range[0] - this.offset, range[1] - this.offset + 1), range[0] - offset);
    this.counts = next;
    this.offset = offset;
    return true;
  }
}

/**
 * The native part of one histogram series: schema, zero bucket and the two
 * bucket windows. NaN is counted by the caller (count and sum) but in no
 * bucket; ±Inf go one bucket above the largest finite value's.
 *
 * @example
 * ```ts
 * const buckets = new NativeBuckets({ schema: 3, zeroThreshold: 0, maxBuckets: 160 });
 * buckets.observe(0.25);
 * ```
 */
export class NativeBuckets {
  schema: number;
  readonly zeroThreshold: number;
  zeroCount = 0;
  /** ±Inf observations, kept apart so that one does not stretch the windows; exposed at `infinityIndex(schema)`. */
  positiveInfinity = 0;
  negativeInfinity = 0;
  readonly positive = new BucketWindow();
  readonly negative = new BucketWindow();
  private readonly maxBuckets: number;
  /** The bucket index tables of the current schema. */
  private tables: IndexTables;

  constructor(config: NativeConfig) {
    this.schema = config.schema;
    this.tables = new IndexTables(config.schema);
    this.zeroThreshold = config.zeroThreshold;
    this.maxBuckets = config.maxBuckets;
  }

  /** Puts one value in its bucket (NaN in none). */
  observe(value: number): void {
    if (value > this.zeroThreshold) {
      if (value === Infinity) this.positiveInfinity++;
      else this.place(this.positive, value);
    } else if (value < -this.zeroThreshold) {
      if (value === -Infinity) this.negativeInfinity++;
      else this.place(this.negative, -value);
    } else if (value === value) {
      this.zeroCount++;
    }
  }

  private place(window: BucketWindow, absValue: number): void {
    const populated = window.populated;
    while (!window.add(fastBucketIndex(this.tables, absValue))) {
      // Too wide for the window: coarser buckets until it fits (at schema -4 every finite double does).
      if (this.schema === MIN_SCHEMA) return;
      this.reduce();
    }
    // Within the limit before this value (every change ends with this check), so only a new bucket can exceed it.
    if (window.populated !== populated)
      while (this.positive.populated + this.negative.populated > this.maxBuckets && this.schema > -4 /* MIN_SCHEMA, a literal on the hot path */) this.reduce();
  }

  /**
   * The buckets as plain numbers, for sending to another process: schema, zero
   * count, +Inf and -Inf counts, the number of positive buckets and their
   * (index, count) pairs, then the same for the negative ones.
   *
   * @example
   * ```ts
   * const numbers = series.native!.toNumbers(); // [3, 0, 0, 0, 1, 8, 1, 0]
   * ```
   */
  toNumbers(): number[] {
    const positive = this.positive.pairs();
    const negative = this.negative.pairs();
    return [this.schema, this.zeroCount, this.positiveInfinity, this.negativeInfinity, positive.length / 2, ...positive, negative.length / 2, ...negative];
  }

  /**
   * Adds buckets written by {@link toNumbers} (another process's histogram of
   * the same declaration), starting at `numbers[start]`; returns the index
   * after them. Exact: both sides are brought to the coarser of the two schemas
   * first (a bucket of a finer schema lies wholly inside one of a coarser one),
   * then counts add up, as Prometheus adds native histograms.
   *
   * @example
   * ```ts
   * merged.native!.absorb(worker.native!.toNumbers(), 0);
   * ```
   */
  absorb(numbers: readonly number[], start: number): number {
    const schema = numbers[start]!;
    while (this.schema > schema && this.schema > MIN_SCHEMA) this.reduce();
    this.zeroCount += numbers[start + 1]!;
    this.positiveInfinity += numbers[start + 2]!;
    this.negativeInfinity += numbers[start + 3]!;
    let cursor = start + 4;
    for (const window of [this.positive, this.negative]) {
      const count = numbers[cursor]!;
      const end = cursor + 1 + 2 * count;
      for (let pair = cursor + 1; pair < end; pair += 2) {
        // To this side's schema, which the loop below may have lowered since the last pair.
        let index = numbers[pair]!;
        for (let step = this.schema; step < schema; step++) index = (index + 1) >> 1;
        while (!window.addCount(index, numbers[pair + 1]!)) {
          if (this.schema === MIN_SCHEMA) break;
          this.reduce();
          index = (index + 1) >> 1;
        }
      }
      cursor = end;
    }
    while (this.positive.populated + this.negative.populated > this.maxBuckets && this.schema > MIN_SCHEMA) this.reduce();
    return cursor;
  }

  /** Halves the resolution of both signs (client_golang's doubleBucketWidth). */
  private reduce(): void {
    this.schema--;
    this.tables = new IndexTables(this.schema);
    this.positive.halve();
    this.negative.halve();
  }
}
