import { describe, expect, it } from 'vitest';
import { SlidingQuantiles } from './quantiles.js';
import { seededRandom as random } from '../../test/support/random.js';


/** The observation the sketch targets: rank q * (n - 1), rounded down. */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QS = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1];

describe('SlidingQuantiles accuracy', () => {
  it.each([
    ['log-normal latencies', 0.01, (next: () => number) => Math.exp(Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next()) - 3)],
    ['uniform 0..1000', 0.01, (next: () => number) => next() * 1000],
    ['heavy tail', 0.05, (next: () => number) => 1 / (next() + 1e-6)],
    ['mixed signs with zeros', 0.01, (next: () => number) => (next() < 0.1 ? 0 : (next() - 0.5) * 200)],
  ])('%s: every quantile within the relative error (%s)', (_name, relativeError, draw) => {
    const next = random(42);
    const window = new SlidingQuantiles({ maxAgeSeconds: 600, ageBuckets: 5, relativeError, now: () => 1_000 });
    const values: number[] = [];
    for (let index = 0; index < 20_000; index++) {
      const value = draw(next);
      values.push(value);
      window.observe(value);
    }
    values.sort((a, b) => a - b);
    const estimates = window.quantiles(QS);
    QS.forEach((q, index) => {
      const truth = exact(values, q);
      const estimate = estimates[index]!;
      const error = truth === 0 ? Math.abs(estimate) : Math.abs(estimate - truth) / Math.abs(truth);
      expect(error, `q=${q}: estimate ${estimate}, true ${truth}`).toBeLessThanOrEqual(relativeError + 1e-12);
    });
    // The extremes are exact: never outside what was observed.
    expect(estimates[0]).toBe(values[0]);
    expect(estimates[QS.length - 1]).toBe(values[values.length - 1]);
  });

  it('reports a lone observation exactly, not its bucket representative', () => {
    const window = new SlidingQuantiles({ maxAgeSeconds: 60, ageBuckets: 2, relativeError: 0.01, now: () => 0 });
    window.observe(100);
    expect(window.quantiles([0, 0.5, 0.99, 1])).toEqual([100, 100, 100, 100]);
    window.observe(-3);
    expect(window.quantiles([0, 1])).toEqual([-3, 100]);
  });

  it('returns NaN for every quantile of an empty window', () => {
    const window = new SlidingQuantiles({ maxAgeSeconds: 60, ageBuckets: 2, relativeError: 0.01, now: () => 0 });
    expect(window.quantiles([0.5, 0.9])).toEqual([Number.NaN, Number.NaN]);
  });

  it('keeps bounded memory: one counter per log bucket, whatever the number of observations', () => {
    const window = new SlidingQuantiles({ maxAgeSeconds: 60, ageBuckets: 1, relativeError: 0.01, now: () => 0 });
    for (let index = 0; index < 100_000; index++) window.observe(1 + (index % 1000) / 1000);
    const sketch = (window as unknown as { sketches: { positive: Map<number, number> }[] }).sketches[0]!;
    // log(2) / log(1.01 / 0.99) is about 35 buckets between 1 and 2.
    expect(sketch.positive.size).toBeLessThanOrEqual(36);
  });
});

describe('SlidingQuantiles window', () => {
  it('rotates old observations out, one age bucket at a time', () => {
    let now = 0;
    // 60 s window in 3 buckets of 20 s.
    const window = new SlidingQuantiles({ maxAgeSeconds: 60, ageBuckets: 3, relativeError: 0.001, now: () => now });
    for (let index = 0; index < 100; index++) window.observe(1);
    now = 30_000;
    for (let index = 0; index < 300; index++) window.observe(100);
    const [low, high] = window.quantiles([0.1, 0.9]);
    expect(low).toBeCloseTo(1, 2);
    expect(Math.abs(high! - 100) / 100).toBeLessThanOrEqual(0.001);

    now = 59_999; // the bucket of t=0..20 s is still the oldest live one
    expect(window.quantiles([0])).toEqual([1]);
    now = 60_000; // it has now aged out
    expect(window.quantiles([0, 0.5, 1])).toEqual([100, 100, 100]);
    now = 79_999; // t=30 s lives in the 20..40 s bucket, live until 80 s
    expect(window.quantiles([0.5])).toEqual([100]);
    now = 80_000;
    expect(window.quantiles([0.5])).toEqual([Number.NaN]);
  });

  it('reuses a ring slot: a new epoch clears what the slot held', () => {
    let now = 0;
    const window = new SlidingQuantiles({ maxAgeSeconds: 2, ageBuckets: 2, relativeError: 0.01, now: () => now });
    window.observe(5);
    now = 2_000; // same slot as t=0 (epoch 2 % 2 == 0), two epochs later
    window.observe(7);
    expect(window.quantiles([0, 1])).toEqual([7, 7]);
  });
});
