/**
 * The monitor's sliding window: a ring of `intervals` slots, each one flat row of bin counts
 * (every feature's bins, then the classes, then the confidence bins) in one preallocated
 * `Uint32Array`. Observing increments cells of the current row; time moves the row on (the
 * oldest row is cleared and reused); the window is the sum of the rows. Memory is fixed at
 * creation: `intervals × width × 4` bytes, plus `width × 8` for the sum.
 *
 * @example
 * ```ts
 * const window = new SlidingWindow({ width: 12, intervals: 10, intervalMs: 60_000, now: Date.now });
 * window.counts[window.base + 3]++; window.observations[window.slot]++;
 * const sum = window.sum(); // Float64Array(12)
 * ```
 */
export class SlidingWindow {
  /** All rows, `intervals × width` cells. */
  readonly counts: Uint32Array;
  /** Observations per row. */
  readonly observations: Uint32Array;
  readonly width: number;
  readonly intervals: number;
  readonly intervalMs: number;
  /** Offset of the current row in `counts`. */
  base = 0;
  /** Index of the current row. */
  slot = 0;
  private readonly now: () => number;
  private readonly total: Float64Array;
  private intervalNumber: number;

  constructor(options: { readonly width: number; readonly intervals: number; readonly intervalMs: number; readonly now: () => number }) {
    this.width = options.width;
    this.intervals = options.intervals;
    this.intervalMs = options.intervalMs;
    this.now = options.now;
    this.counts = new Uint32Array(options.width * options.intervals);
    this.observations = new Uint32Array(options.intervals);
    this.total = new Float64Array(options.width);
    this.intervalNumber = Math.floor(this.now() / this.intervalMs);
    this.moveTo(this.intervalNumber);
  }

  /**
   * Moves the current row to the interval the clock is in, clearing the rows of the intervals
   * skipped. A clock that went back keeps the current row.
   *
   * @example
   * ```ts
   * window.advance();
   * ```
   */
  advance(): void {
    const target = Math.floor(this.now() / this.intervalMs);
    if (!(target > this.intervalNumber)) return;
    const steps = Math.min(target - this.intervalNumber, this.intervals);
    for (let step = 1; step <= steps; step++) {
      const slot = (target - steps + step) % this.intervals;
      this.counts.fill(0, slot * this.width, (slot + 1) * this.width);
      this.observations[slot] = 0;
    }
    this.intervalNumber = target;
    this.moveTo(target);
  }

  /** Milliseconds until the next interval starts. @example setTimeout(tick, window.msToNextInterval()); */
  msToNextInterval(): number {
    return (this.intervalNumber + 1) * this.intervalMs - this.now();
  }

  /**
   * Sum of every row (the whole window), into a buffer reused between calls.
   *
   * @example
   * ```ts
   * const sum = window.sum();
   * ```
   */
  sum(): Float64Array {
    const total = this.total;
    total.fill(0);
    for (let slot = 0; slot < this.intervals; slot++) {
      const offset = slot * this.width;
      for (let cell = 0; cell < this.width; cell++) total[cell]! += this.counts[offset + cell]!;
    }
    return total;
  }

  /** Observations in the whole window. @example window.observationCount(); */
  observationCount(): number {
    let sum = 0;
    for (let slot = 0; slot < this.intervals; slot++) sum += this.observations[slot]!;
    return sum;
  }

  /** Forgets everything observed. @example window.clear(); */
  clear(): void {
    this.counts.fill(0);
    this.observations.fill(0);
  }

  /** Bytes held by the window's arrays. @example window.bytes; */
  get bytes(): number {
    return this.counts.byteLength + this.observations.byteLength + this.total.byteLength;
  }

  private moveTo(intervalNumber: number): void {
    this.slot = intervalNumber % this.intervals;
    this.base = this.slot * this.width;
  }
}
