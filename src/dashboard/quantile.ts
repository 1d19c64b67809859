/**
 * A quantile from histogram buckets, the way Prometheus's `histogram_quantile`
 * computes it: find the bucket holding the rank, interpolate linearly inside
 * it (from 0 for the first bucket when its bound is positive), and answer the
 * highest finite bound when the rank falls in `+Inf`. Null without observations.
 *
 * `counts` are per-bucket (not cumulative) and hold one more slot than
 * `bounds`: the `+Inf` bucket, as `HistogramSeries.counts` does.
 *
 * @example
 * ```ts
 * histogramQuantile(0.5, [0.1, 1], [0, 10, 0]); // 0.55
 * ```
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: ArrayLike<number>): number | null {
  let total = 0;
  for (let index = 0; index < counts.length; index++) total += Math.max(0, counts[index]!);
  if (!(total > 0) || bounds.length === 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let index = 0; index < bounds.length; index++) {
    const inBucket = Math.max(0, counts[index]!);
    if (cumulative + inBucket >= rank && inBucket > 0) {
      const upper = bounds[index]!;
      const lower = index === 0 ? (upper > 0 ? 0 : upper) : bounds[index - 1]!;
      return lower + (upper - lower) * ((rank - cumulative) / inBucket);
    }
    cumulative += inBucket;
  }
  return bounds[bounds.length - 1]!;
}
