import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { seededRandom as seeded } from '../../test/support/random.js';
import { DRIFT_ALERT_THRESHOLDS } from './reference.js';
import { binIndex, histogramCounts, jensenShannonDistance, ksFromCounts, ksTwoSample, psi, PSI_EPSILON, quantileEdges } from './stats.js';

// Fixed synthetic data: the tests' seeded PRNG (mulberry32) and Box-Muller normals, so every run sees
// the same numbers.
function normals(seed: number, size: number, mean: number, sd: number): number[] {
  const random = seeded(seed);
  return Array.from({ length: size }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}
function categories(seed: number, size: number, weights: Record<string, number>): string[] {
  const random = seeded(seed);
  const entries = Object.entries(weights);
  const sum = entries.reduce((acc, [, weight]) => acc + weight, 0);
  return Array.from({ length: size }, () => {
    let draw = random() * sum;
    for (const [name, weight] of entries) if ((draw -= weight) < 0) return name;
    return entries[entries.length - 1]![0];
  });
}

// Straightforward exact computations, written from the definitions, independent of stats.ts.
function exactKs(a: number[], b: number[]): number {
  let largest = 0;
  for (const x of [...a, ...b]) {
    const fa = a.filter((value) => value <= x).length / a.length;
    const fb = b.filter((value) => value <= x).length / b.length;
    largest = Math.max(largest, Math.abs(fa - fb));
  }
  return largest;
}
function proportions(counts: number[]): number[] {
  const sum = counts.reduce((acc, count) => acc + count, 0);
  return counts.map((count) => count / sum);
}
function exactPsi(expected: number[], actual: number[]): number {
  const e = proportions(expected).map((value) => Math.max(value, PSI_EPSILON));
  const a = proportions(actual).map((value) => Math.max(value, PSI_EPSILON));
  return e.reduce((acc, value, index) => acc + (a[index]! - value) * Math.log(a[index]! / value), 0);
}
function exactJs(pCounts: number[], qCounts: number[]): number {
  const p = proportions(pCounts);
  const q = proportions(qCounts);
  const m = p.map((value, index) => (value + q[index]!) / 2);
  const kl = (x: number[]) => x.reduce((acc, value, index) => (value === 0 ? acc : acc + value * Math.log(value / m[index]!)), 0);
  return Math.sqrt((kl(p) + kl(q)) / 2 / Math.LN2);
}
function exactBinnedKs(reference: number[], current: number[]): number {
  const p = proportions(reference);
  const q = proportions(current);
  let largest = 0;
  for (let cut = 1; cut <= p.length; cut++) {
    const sum = (x: number[]) => x.slice(0, cut).reduce((acc, value) => acc + value, 0);
    largest = Math.max(largest, Math.abs(sum(p) - sum(q)));
  }
  return largest;
}

const SIZE = 1000;
const BINS = 10;
const reference = normals(1, SIZE, 0, 1);
const numericCases = {
  'no change': normals(2, SIZE, 0, 1),
  'shifted mean (+0.5 sd)': normals(3, SIZE, 0.5, 1),
  'changed variance (sd x2)': normals(4, SIZE, 0, 2),
} as const;
const edges = quantileEdges(reference, BINS);
const referenceCounts = histogramCounts(reference, edges);

// Tolerances: the same formulas in another order of summation agree to 1e-12; the binned KS
// is compared with the exact one within the largest proportion one bin holds (its bound).
const FLOAT_TOLERANCE = 1e-12;

describe('numeric drift statistics on fixed synthetic data', () => {
  for (const [name, current] of Object.entries(numericCases)) {
    it(`${name}: PSI, binned KS, JS match the exact computations; exact KS matches brute force`, () => {
      const currentCounts = histogramCounts(current, edges);
      expect(Math.abs(psi(referenceCounts, currentCounts) - exactPsi(referenceCounts, currentCounts))).toBeLessThan(FLOAT_TOLERANCE);
      expect(Math.abs(jensenShannonDistance(referenceCounts, currentCounts) - exactJs(referenceCounts, currentCounts))).toBeLessThan(FLOAT_TOLERANCE);
      expect(Math.abs(ksFromCounts(referenceCounts, currentCounts) - exactBinnedKs(referenceCounts, currentCounts))).toBeLessThan(FLOAT_TOLERANCE);
      const exact = exactKs(reference, current);
      expect(Math.abs(ksTwoSample(reference, current) - exact)).toBeLessThan(FLOAT_TOLERANCE);
      const widestBin = Math.max(...proportions(referenceCounts), ...proportions(currentCounts));
      const binned = ksFromCounts(referenceCounts, currentCounts);
      expect(binned).toBeLessThanOrEqual(exact + FLOAT_TOLERANCE);
      expect(exact - binned).toBeLessThanOrEqual(widestBin);
    });
  }

  it('no change stays below the alert thresholds; every change crosses the PSI one', () => {
    const scores = Object.fromEntries(
      Object.entries(numericCases).map(([name, current]) => {
        const counts = histogramCounts(current, edges);
        return [name, { psi: psi(referenceCounts, counts), ks: ksFromCounts(referenceCounts, counts), js: jensenShannonDistance(referenceCounts, counts) }];
      }),
    );
    console.log('drift scores (10 quantile bins, 1000 vs 1000 samples):', JSON.stringify(scores, (_, value: unknown) => (typeof value === 'number' ? Number(value.toFixed(4)) : value)));
    const still = scores['no change']!;
    expect(still.psi).toBeLessThan(DRIFT_ALERT_THRESHOLDS.psi);
    expect(still.ks).toBeLessThan(DRIFT_ALERT_THRESHOLDS.ks);
    expect(still.js).toBeLessThan(DRIFT_ALERT_THRESHOLDS.js);
    for (const name of ['shifted mean (+0.5 sd)', 'changed variance (sd x2)']) {
      expect(scores[name]!.psi).toBeGreaterThan(DRIFT_ALERT_THRESHOLDS.psi);
      expect(scores[name]!.js).toBeGreaterThan(DRIFT_ALERT_THRESHOLDS.js);
    }
    expect(scores['shifted mean (+0.5 sd)']!.ks).toBeGreaterThan(DRIFT_ALERT_THRESHOLDS.ks);
  });
});

describe('categorical drift statistics', () => {
  const vocabulary = ['eu', 'us', 'apac'];
  const countsOf = (values: string[]) => [...vocabulary.map((name) => values.filter((value) => value === name).length), values.filter((value) => !vocabulary.includes(value)).length];
  const base = countsOf(categories(10, SIZE, { eu: 5, us: 3, apac: 2 }));
  const cases = {
    'no change': countsOf(categories(11, SIZE, { eu: 5, us: 3, apac: 2 })),
    'new category (20% "latam", folded into other)': countsOf(categories(12, SIZE, { eu: 4, us: 2.4, apac: 1.6, latam: 2 })),
  };
  for (const [name, counts] of Object.entries(cases)) {
    it(`${name}: PSI and JS match the exact computations`, () => {
      expect(Math.abs(psi(base, counts) - exactPsi(base, counts))).toBeLessThan(FLOAT_TOLERANCE);
      expect(Math.abs(jensenShannonDistance(base, counts) - exactJs(base, counts))).toBeLessThan(FLOAT_TOLERANCE);
    });
  }
  it('a new category crosses the thresholds, no change does not', () => {
    expect(psi(base, cases['no change'])).toBeLessThan(DRIFT_ALERT_THRESHOLDS.psi);
    expect(jensenShannonDistance(base, cases['no change'])).toBeLessThan(DRIFT_ALERT_THRESHOLDS.js);
    // The empty "other" bin of the reference is floored at epsilon: PSI grows large, but finite.
    const moved = psi(base, cases['new category (20% "latam", folded into other)']);
    expect(Number.isFinite(moved) && moved > 1).toBe(true);
    expect(jensenShannonDistance(base, cases['new category (20% "latam", folded into other)'])).toBeGreaterThan(DRIFT_ALERT_THRESHOLDS.js);
  });
});

describe('edges and bins', () => {
  it('quantile edges interpolate as NumPy does and bins follow (edge, edge]', () => {
    expect(quantileEdges([1, 2, 3, 4, 5, 6, 7, 8], 4)).toEqual([2.75, 4.5, 6.25]);
    expect(quantileEdges([1, 1, 1, 1, 2], 4)).toEqual([1]);
    const bounds = Float64Array.of(1, 2, 3);
    expect([0, 1, 1.5, 2, 3, 9].map((value) => binIndex(bounds, value))).toEqual([0, 0, 1, 1, 2, 3]);
  });
  it('empty sides give NaN, never a throw', () => {
    expect(psi([0, 0], [1, 1])).toBeNaN();
    expect(ksFromCounts([1, 1], [0, 0])).toBeNaN();
    expect(jensenShannonDistance([], [])).toBeNaN();
    expect(ksTwoSample([], [1])).toBeNaN();
  });
});

const hasScipy = spawnSync('python3', ['-c', 'import scipy, numpy'], { encoding: 'utf8' }).status === 0;
if (!hasScipy) console.warn('SKIPPED: SciPy comparison (python3 with scipy and numpy not found; apt-get install python3-scipy)');
const requireScipy = process.env['REQUIRE_E2E'] === '1';

describe.skipIf(!hasScipy && !requireScipy)('against SciPy (subprocess)', () => {
  it('ks_2samp, jensenshannon(base=2) and a NumPy PSI agree within 1e-9', () => {
    const payload = Object.entries(numericCases).map(([name, current]) => ({ name, current, counts: histogramCounts(current, edges) }));
    const script = `
import json, sys
import numpy as np
from scipy.stats import ks_2samp
from scipy.spatial.distance import jensenshannon
data = json.load(sys.stdin)
ref = np.array(data['reference']); ref_counts = np.array(data['referenceCounts'], dtype=float)
out = {}
for case in data['cases']:
    counts = np.array(case['counts'], dtype=float)
    e = np.maximum(ref_counts / ref_counts.sum(), ${PSI_EPSILON}); a = np.maximum(counts / counts.sum(), ${PSI_EPSILON})
    out[case['name']] = {
        'ks': float(ks_2samp(ref, np.array(case['current'])).statistic),
        'js': float(jensenshannon(ref_counts, counts, base=2)),
        'psi': float(np.sum((a - e) * np.log(a / e))),
    }
print(json.dumps(out))
`;
    const run = spawnSync('python3', ['-c', script], { input: JSON.stringify({ reference, referenceCounts, cases: payload }), encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const scipy = JSON.parse(run.stdout) as Record<string, { ks: number; js: number; psi: number }>;
    for (const { name, current, counts } of payload) {
      const theirs = scipy[name]!;
      expect(Math.abs(ksTwoSample(reference, current) - theirs.ks), name).toBeLessThan(1e-9);
      expect(Math.abs(jensenShannonDistance(referenceCounts, counts) - theirs.js), name).toBeLessThan(1e-9);
      expect(Math.abs(psi(referenceCounts, counts) - theirs.psi), name).toBeLessThan(1e-9);
    }
  });
});
