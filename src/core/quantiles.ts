/**
 * Sliding-window quantiles with bounded memory and a relative-error guarantee.
 * Each age bucket is a log-scaled sketch (DDSketch style: every value lands in
 * the bucket `ceil(log_gamma |v|)`, so any reported quantile is within
 * `relativeError` of a true observation). Old buckets rotate out; a query
 * merges the live ones.
 */
import { LookoutError } from './errors.js';

/**
 * A live window flattened to plain numbers, e.g. to cross a process boundary.
 * Sketches with the same `relativeError` merge exactly: the merged quantiles
 * keep the same relative-error guarantee as one sketch fed every value.
 *
 * @example
 * ```ts
 * const sketch: QuantileSketch = window.snapshot();
 * other.absorb(sketch);
 * ```
 */
export interface QuantileSketch {
  readonly relativeError: number;
  /** Bucket index and count pairs, flat: `[index, count, index, count, ...]`. */
  readonly positive: number[];
  readonly negative: number[];
  readonly zero: number;
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

interface Sketch {
  epoch: number;
  positive: Map<number, number>;
  negative: Map<number, number>;
  zero: number;
  count: number;
  min: number;
  max: number;
}

/**
 * @example
 * ```ts
 * const window = new SlidingQuantiles({ maxAgeSeconds: 600, ageBuckets: 5, relativeError: 0.01 });
 * window.observe(0.2);
 * window.quantiles([0.5, 0.99]);
 * ```
 */
export class SlidingQuantiles {
  readonly relativeError: number;
  private readonly sketches: Sketch[];
  private readonly bucketMillis: number;
  private readonly logGamma: number;
  private readonly gamma: number;
  private readonly now: () => number;

  constructor(options: { maxAgeSeconds: number; ageBuckets: number; relativeError: number; now?: () => number }) {
    this.relativeError = options.relativeError;
    this.gamma = (1 + options.relativeError) / (1 - options.relativeError);
    this.logGamma = Math.log(this.gamma);
    this.bucketMillis = (options.maxAgeSeconds * 1000) / options.ageBuckets;
    this.now = options.now ?? Date.now;
    this.sketches = Array.from({ length: options.ageBuckets }, () => ({ epoch: -1, positive: new Map(), negative: new Map(), zero: 0, count: 0, min: Infinity, max: -Infinity }));
  }

  observe(value: number): void {
    const sketch = this.current();
    sketch.count++;
    if (value < sketch.min) sketch.min = value;
    if (value > sketch.max) sketch.max = value;
    if (value > 1e-12) increment(sketch.positive, this.indexOf(value));
    else if (value < -1e-12) increment(sketch.negative, this.indexOf(-value));
    else sketch.zero++;
  }

  /** Quantiles over the live window; NaN for each when the window is empty. */
  quantiles(qs: readonly number[]): number[] {
    const { positive, negative, zero, count: total, min, max } = this.live();
    if (total === 0) return qs.map(() => Number.NaN);
    // Ascending values: negatives from the largest magnitude down, zero, then positives.
    const ordered: [number, number][] = [];
    for (const index of [...negative.keys()].sort((a, b) => b - a)) ordered.push([-this.valueOf(index), negative.get(index)!]);
    if (zero > 0) ordered.push([0, zero]);
    for (const index of [...positive.keys()].sort((a, b) => a - b)) ordered.push([this.valueOf(index), positive.get(index)!]);
    // A bucket's representative value may lie outside what was observed
    // (100.49 for a lone 100): clamping to the window's extremes only moves it
    // closer, and the extremes themselves are known exactly.
    return qs.map((q) => {
      if (q <= 0) return min;
      if (q >= 1) return max;
      const rank = q * (total - 1);
      let seen = 0;
      for (const [value, count] of ordered) {
        seen += count;
        if (seen > rank) return Math.min(Math.max(value, min), max);
      }
      return max;
    });
  }

  /**
   * The live window as plain numbers (see {@link QuantileSketch}).
   *
   * @example
   * ```ts
   * const sketch = window.snapshot();
   * ```
   */
  snapshot(): QuantileSketch {
    const { positive, negative, zero, count, min, max } = this.live();
    return { relativeError: this.relativeError, positive: flat(positive), negative: flat(negative), zero, count, min, max };
  }

  /**
   * Adds another window's observations (a {@link snapshot} of a sketch with
   * the same relative error) to the current age bucket.
   *
   * @example
   * ```ts
   * merged.absorb(workerWindow.snapshot());
   * ```
   */
  absorb(sketch: QuantileSketch): void {
    if (sketch.relativeError !== this.relativeError) {
      throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `cannot merge a sketch of relative error ${sketch.relativeError} into one of ${this.relativeError}`);
    }
    if (sketch.count === 0) return;
    const into = this.current();
    for (let index = 0; index < sketch.positive.length; index += 2) add(into.positive, sketch.positive[index]!, sketch.positive[index + 1]!);
    for (let index = 0; index < sketch.negative.length; index += 2) add(into.negative, sketch.negative[index]!, sketch.negative[index + 1]!);
    into.zero += sketch.zero;
    into.count += sketch.count;
    if (sketch.min < into.min) into.min = sketch.min;
    if (sketch.max > into.max) into.max = sketch.max;
  }

  /** The live age buckets merged into one. */
  private live(): { positive: Map<number, number>; negative: Map<number, number>; zero: number; count: number; min: number; max: number } {
    const oldest = Math.floor(this.now() / this.bucketMillis) - this.sketches.length + 1;
    const live = { positive: new Map<number, number>(), negative: new Map<number, number>(), zero: 0, count: 0, min: Infinity, max: -Infinity };
    for (const sketch of this.sketches) {
      if (sketch.epoch < oldest || sketch.count === 0) continue;
      merge(live.positive, sketch.positive);
      merge(live.negative, sketch.negative);
      live.zero += sketch.zero;
      live.count += sketch.count;
      live.min = Math.min(live.min, sketch.min);
      live.max = Math.max(live.max, sketch.max);
    }
    return live;
  }

  /** The age bucket of now, cleared when it starts a new epoch. */
  private current(): Sketch {
    const epoch = Math.floor(this.now() / this.bucketMillis);
    const sketch = this.sketches[epoch % this.sketches.length]!;
    if (sketch.epoch !== epoch) {
      sketch.epoch = epoch;
      sketch.positive.clear();
      sketch.negative.clear();
      sketch.zero = 0;
      sketch.count = 0;
      sketch.min = Infinity;
      sketch.max = -Infinity;
    }
    return sketch;
  }

  private indexOf(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) / this.logGamma);
  }

  private valueOf(index: number): number {
    return (2 * this.gamma ** index) / (this.gamma + 1);
  }
}

function increment(map: Map<number, number>, key: number): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function add(map: Map<number, number>, key: number, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

function flat(map: Map<number, number>): number[] {
  const pairs: number[] = [];
  for (const [key, count] of map) pairs.push(key, count);
  return pairs;
}

function merge(into: Map<number, number>, from: Map<number, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}
