/**
 * Sliding-window quantiles with bounded memory and a relative-error guarantee.
 * Each age bucket is a log-scaled sketch (DDSketch style: every value lands in
 * the bucket `ceil(log_gamma |v|)`, so any reported quantile is within
 * `relativeError` of a true observation). Old buckets rotate out; a query
 * merges the live ones.
 */

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
  private readonly sketches: Sketch[];
  private readonly bucketMillis: number;
  private readonly logGamma: number;
  private readonly gamma: number;
  private readonly now: () => number;

  constructor(options: { maxAgeSeconds: number; ageBuckets: number; relativeError: number; now?: () => number }) {
    this.gamma = (1 + options.relativeError) / (1 - options.relativeError);
    this.logGamma = Math.log(this.gamma);
    this.bucketMillis = (options.maxAgeSeconds * 1000) / options.ageBuckets;
    this.now = options.now ?? Date.now;
    this.sketches = Array.from({ length: options.ageBuckets }, () => ({ epoch: -1, positive: new Map(), negative: new Map(), zero: 0, count: 0, min: Infinity, max: -Infinity }));
  }

  observe(value: number): void {
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
    sketch.count++;
    if (value < sketch.min) sketch.min = value;
    if (value > sketch.max) sketch.max = value;
    if (value > 1e-12) increment(sketch.positive, this.indexOf(value));
    else if (value < -1e-12) increment(sketch.negative, this.indexOf(-value));
    else sketch.zero++;
  }

  /** Quantiles over the live window; NaN for each when the window is empty. */
  quantiles(qs: readonly number[]): number[] {
    const oldest = Math.floor(this.now() / this.bucketMillis) - this.sketches.length + 1;
    const positive = new Map<number, number>();
    const negative = new Map<number, number>();
    let zero = 0;
    let total = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const sketch of this.sketches) {
      if (sketch.epoch < oldest || sketch.count === 0) continue;
      merge(positive, sketch.positive);
      merge(negative, sketch.negative);
      zero += sketch.zero;
      total += sketch.count;
      min = Math.min(min, sketch.min);
      max = Math.max(max, sketch.max);
    }
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

function merge(into: Map<number, number>, from: Map<number, number>): void {
  for (const [key, count] of from) into.set(key, (into.get(key) ?? 0) + count);
}
