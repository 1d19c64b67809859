import { describe, expect, it } from 'vitest';
import { histogramQuantile } from './quantile.js';

describe('histogramQuantile (Prometheus semantics)', () => {
  const bounds = [0.1, 0.5, 1];

  it('interpolates inside the bucket holding the rank, from 0 in the first bucket', () => {
    expect(histogramQuantile(0.5, bounds, [10, 0, 0, 0])).toBeCloseTo(0.05);
    expect(histogramQuantile(0.5, bounds, [0, 10, 0, 0])).toBeCloseTo(0.3);
    expect(histogramQuantile(0.95, bounds, [50, 40, 10, 0])).toBeCloseTo(0.75);
    expect(histogramQuantile(0.9, bounds, [50, 40, 10, 0])).toBeCloseTo(0.5);
  });

  it('answers the highest finite bound for ranks in +Inf, and null without observations', () => {
    expect(histogramQuantile(0.99, bounds, [1, 0, 0, 99])).toBe(1);
    expect(histogramQuantile(0.5, bounds, [0, 0, 0, 0])).toBeNull();
    expect(histogramQuantile(0.5, [], [3])).toBeNull();
  });

  it('skips empty buckets before the rank', () => {
    expect(histogramQuantile(0.5, bounds, [0, 0, 4, 0])).toBeCloseTo(0.75);
  });
});
