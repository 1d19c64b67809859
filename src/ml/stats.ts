/**
 * Drift statistics over binned counts: population stability index, Kolmogorov–Smirnov
 * statistic and Jensen–Shannon distance, plus the exact two-sample KS statistic and the
 * quantile bin edges the monitor's histograms use. Pure functions, no allocation in the
 * binned ones (they run at scrape time over the window's counts).
 *
 * @example
 * ```ts
 * psi([50, 50], [30, 70]);                  // 0.1695
 * ksFromCounts([50, 50], [30, 70]);         // 0.2
 * jensenShannonDistance([50, 50], [30, 70]); // 0.1468
 * ```
 */

/** Added to empty bins' proportions in {@link psi} so a bin empty on one side gives a finite score. */
export const PSI_EPSILON = 1e-4;

function total(counts: ArrayLike<number>, length: number): number {
  let sum = 0;
  for (let index = 0; index < length; index++) sum += counts[index]!;
  return sum;
}

/**
 * Population stability index of `actual` against `expected` (same bins):
 * Σ (a − e) · ln(a / e) over the bins' proportions, each floored at `epsilon`.
 * Usual reading: < 0.1 no change, 0.1–0.25 moderate, > 0.25 large. NaN when either side is empty.
 *
 * @example
 * ```ts
 * psi([25, 25, 25, 25], [10, 20, 30, 40]); // 0.2282
 * ```
 */
export function psi(expected: ArrayLike<number>, actual: ArrayLike<number>, epsilon = PSI_EPSILON, length = Math.min(expected.length, actual.length)): number {
  const expectedTotal = total(expected, length);
  const actualTotal = total(actual, length);
  if (expectedTotal <= 0 || actualTotal <= 0) return Number.NaN;
  let sum = 0;
  for (let index = 0; index < length; index++) {
    const e = Math.max(expected[index]! / expectedTotal, epsilon);
    const a = Math.max(actual[index]! / actualTotal, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/**
 * Kolmogorov–Smirnov statistic of two histograms over the same ordered bins: the largest
 * difference of their cumulative proportions at the bin edges. It is at most the exact
 * statistic of the samples behind them, and below it by no more than the largest proportion
 * one bin holds on either side. NaN when either side is empty.
 *
 * @example
 * ```ts
 * ksFromCounts([10, 10, 0], [0, 10, 10]); // 0.5
 * ```
 */
export function ksFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>, length = Math.min(reference.length, current.length)): number {
  const referenceTotal = total(reference, length);
  const currentTotal = total(current, length);
  if (referenceTotal <= 0 || currentTotal <= 0) return Number.NaN;
  let referenceCdf = 0;
  let currentCdf = 0;
  let largest = 0;
  for (let index = 0; index < length; index++) {
    referenceCdf += reference[index]! / referenceTotal;
    currentCdf += current[index]! / currentTotal;
    largest = Math.max(largest, Math.abs(referenceCdf - currentCdf));
  }
  return largest;
}

/**
 * Jensen–Shannon distance (base 2, so within [0, 1]) of two histograms over the same bins:
 * the square root of the JS divergence, as SciPy's `scipy.spatial.distance.jensenshannon(p, q, base=2)`.
 * NaN when either side is empty.
 *
 * @example
 * ```ts
 * jensenShannonDistance([1, 0], [0, 1]); // 1
 * ```
 */
export function jensenShannonDistance(p: ArrayLike<number>, q: ArrayLike<number>, length = Math.min(p.length, q.length)): number {
  const pTotal = total(p, length);
  const qTotal = total(q, length);
  if (pTotal <= 0 || qTotal <= 0) return Number.NaN;
  let divergence = 0;
  for (let index = 0; index < length; index++) {
    const pi = p[index]! / pTotal;
    const qi = q[index]! / qTotal;
    const mi = (pi + qi) / 2;
    if (pi > 0) divergence += pi * Math.log2(pi / mi);
    if (qi > 0) divergence += qi * Math.log2(qi / mi);
  }
  return Math.sqrt(Math.max(0, divergence / 2));
}

/**
 * The exact two-sample Kolmogorov–Smirnov statistic of raw samples (as SciPy's `ks_2samp(a, b).statistic`).
 * Sorts copies of the inputs: for fitting and tests, not the request path.
 *
 * @example
 * ```ts
 * ksTwoSample([1, 2, 3], [2, 3, 4]); // 0.3333
 * ```
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const left = Float64Array.from(a).sort();
  const right = Float64Array.from(b).sort();
  if (left.length === 0 || right.length === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < left.length && j < right.length) {
    const value = Math.min(left[i]!, right[j]!);
    while (i < left.length && left[i]! <= value) i++;
    while (j < right.length && right[j]! <= value) j++;
    largest = Math.max(largest, Math.abs(i / left.length - j / right.length));
  }
  return largest;
}

/**
 * Inner bin edges at the `bins`-quantiles of `samples` (so the reference fills the bins about
 * equally), duplicates removed: `bins − 1` edges at most, giving that many + 1 bins with the open
 * ends. Non-finite samples are ignored.
 *
 * @example
 * ```ts
 * quantileEdges([1, 2, 3, 4, 5, 6, 7, 8], 4); // [2.75, 4.5, 6.25]
 * ```
 */
export function quantileEdges(samples: ArrayLike<number>, bins: number): number[] {
  const sorted = Float64Array.from(samples).filter(Number.isFinite).sort();
  if (sorted.length === 0) return [];
  const edges: number[] = [];
  for (let step = 1; step < bins; step++) {
    // Linear interpolation between order statistics (NumPy's default quantile method).
    const position = (step / bins) * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(low + 1, sorted.length - 1);
    const edge = sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
    if (edges.length === 0 || edge > edges[edges.length - 1]!) edges.push(edge);
  }
  return edges;
}

/**
 * Index of the bin `value` falls in, for inner `edges` sorted ascending: bin i holds
 * edges[i − 1] < value ≤ edges[i] (bin 0 everything ≤ edges[0], the last everything above the last edge).
 *
 * @example
 * ```ts
 * binIndex(Float64Array.of(1, 2, 3), 2.5); // 2
 * ```
 */
export function binIndex(edges: Float64Array, value: number): number {
  let low = 0;
  let high = edges.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value > edges[middle]!) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Counts of `samples` in the bins of {@link binIndex} (non-finite samples are skipped).
 *
 * @example
 * ```ts
 * histogramCounts([0.5, 1.5, 2.5], [1, 2]); // [1, 1, 1]
 * ```
 */
export function histogramCounts(samples: ArrayLike<number>, edges: readonly number[]): number[] {
  const bounds = Float64Array.from(edges);
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let index = 0; index < samples.length; index++) {
    const value = samples[index]!;
    if (Number.isFinite(value)) counts[binIndex(bounds, value)]!++;
  }
  return counts;
}
