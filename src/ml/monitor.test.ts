import { describe, expect, it } from 'vitest';
import { seededRandom as seeded } from '../../test/support/random.js';
import type { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { createModelMonitor, REJECT_REASONS, type ModelMonitor } from './monitor.js';
import { fitReference, type FeatureSpec, type ModelReference, type ReferenceRow } from './reference.js';
import { histogramCounts, jensenShannonDistance, ksFromCounts, psi } from './stats.js';

const FEATURES: FeatureSpec[] = [
  { name: 'amount', kind: 'numeric' },
  { name: 'age', kind: 'numeric' },
  { name: 'region', kind: 'categorical' },
];
const CLASSES = ['ok', 'review', 'fraud'];
const REGIONS = ['eu', 'us', 'apac'];

function rows(seed: number, size: number, shift = 0, newRegion = false): ReferenceRow[] {
  const random = seeded(seed);
  return Array.from({ length: size }, () => ({
    input: { amount: random() * 100 + shift, age: 20 + random() * 50, region: newRegion && random() < 0.3 ? 'latam' : REGIONS[Math.floor(random() * 3)]! },
    output: { label: CLASSES[Math.floor(random() * 3)]!, confidence: 0.4 + random() * 0.6 },
  }));
}

const reference = fitReference({ features: FEATURES, classes: CLASSES }, rows(1, 2000));

function setup(extra: { minSamples?: number } = {}): { registry: Registry; monitor: ModelMonitor; clock: { now: number } } {
  const registry = new Registry();
  const clock = { now: 1_000_000 };
  const monitor = createModelMonitor({ registry, model: { name: 'fraud', version: '1' }, features: FEATURES, predictions: { classes: CLASSES }, reference, window: { intervals: 4, intervalMs: 1000 }, now: () => clock.now, ...extra });
  return { registry, monitor, clock };
}

function sample(registry: Registry, name: string, labels: Record<string, string>): number | undefined {
  const metric = registry.get(name);
  const series = metric?.series.find((candidate) => Object.entries(labels).every(([key, value]) => candidate.labelValues[metric.labelNames.indexOf(key)] === value));
  return (series as { value?: number } | undefined)?.value;
}

describe('createModelMonitor: setup errors', () => {
  const base = { registry: new Registry(), model: { name: 'm', version: '1' }, features: FEATURES, predictions: { classes: CLASSES }, reference };
  const cases: [string, Record<string, unknown>, string][] = [
    ['no registry', { registry: undefined }, 'LOOKOUT_E_ML_OPTION'],
    ['empty version', { model: { name: 'm', version: '' } }, 'LOOKOUT_E_ML_OPTION'],
    ['no features', { features: [] }, 'LOOKOUT_E_ML_FEATURES'],
    ['duplicate feature', { features: [FEATURES[0], FEATURES[0]] }, 'LOOKOUT_E_ML_FEATURES'],
    ['unknown kind', { features: [{ name: 'x', kind: 'text' }] }, 'LOOKOUT_E_ML_FEATURES'],
    ['reference of another shape', { reference: { ...reference, features: { amount: reference.features['amount'] } } }, 'LOOKOUT_E_ML_REFERENCE'],
    ['reference not a snapshot', { reference: [1, 2, 3] }, 'LOOKOUT_E_ML_REFERENCE'],
    ['reference counts of the wrong length', { reference: { ...reference, features: { ...reference.features, age: { kind: 'numeric', edges: [1, 2], counts: [1] } } } }, 'LOOKOUT_E_ML_REFERENCE'],
    ['reference edges not increasing', { reference: { ...reference, features: { ...reference.features, age: { kind: 'numeric', edges: [2, 1], counts: [1, 1, 1] } } } }, 'LOOKOUT_E_ML_REFERENCE'],
    ['reference with other classes', { predictions: { classes: ['ok', 'fraud'] } }, 'LOOKOUT_E_ML_REFERENCE'],
    ['window of zero intervals', { window: { intervals: 0 } }, 'LOOKOUT_E_ML_OPTION'],
  ];
  for (const [name, override, code] of cases) {
    it(`${name}: ${code}`, () => {
      expect(() => createModelMonitor({ ...base, registry: new Registry(), ...override } as never)).toThrow(expect.objectContaining({ code }) as LookoutError);
    });
  }
});

describe('observe', () => {
  it('counts into the window and the drift equals the statistics of the same counts', () => {
    const { registry, monitor } = setup();
    const current = rows(2, 1000, 30, true);
    for (const row of current) monitor.observe(row.input, row.output);
    const report = monitor.refresh();
    expect(report.observations).toBe(1000);
    const amounts = current.map((row) => row.input.amount as number);
    const expected = reference.features['amount']!;
    const counts = histogramCounts(amounts, expected.kind === 'numeric' ? expected.edges : []);
    expect(report.features['amount']).toEqual({ psi: psi(expected.counts, counts), ks: ksFromCounts(expected.counts, counts), js: jensenShannonDistance(expected.counts, counts) });
    expect(report.features['amount']!['psi']).toBeGreaterThan(0.2);
    expect(report.features['age']!['psi']).toBeLessThan(0.1);
    // 30 % of regions are 'latam', unseen: they fold into "other".
    const regionRef = reference.features['region']!;
    expect(regionRef.kind === 'categorical' && regionRef.values.length).toBe(3);
    const vocabulary = regionRef.kind === 'categorical' ? regionRef.values : [];
    const regionCounts = [...vocabulary.map((name) => current.filter((row) => row.input.region === name).length), current.filter((row) => row.input.region === 'latam').length];
    expect(report.features['region']!['js']).toBeCloseTo(jensenShannonDistance(regionRef.counts, regionCounts), 12);
    expect(report.features['region']!['ks']).toBeUndefined();
    expect(sample(registry, 'model_feature_drift', { feature: 'amount', method: 'psi', model_version: '1' })).toBeCloseTo(report.features['amount']!['psi']!, 12);
    expect(sample(registry, 'model_predictions_total', { class: 'ok', model_version: '1' })).toBe(current.filter((row) => row.output.label === 'ok').length);
  });

  it('rejects bad input by reason, never throws, and counts nothing of a rejected call', async () => {
    const { registry, monitor } = setup();
    const good = { amount: 1, age: 30, region: 'eu' };
    const throwing = Object.defineProperty({ age: 1, region: 'eu' }, 'amount', { enumerable: true, get: () => { throw new Error('boom'); } });
    const bad: [unknown, unknown, (typeof REJECT_REASONS)[number]][] = [
      [null, { label: 'ok' }, 'not_an_object'],
      ['text', { label: 'ok' }, 'not_an_object'],
      [good, undefined, 'not_an_object'],
      [{ age: 30, region: 'eu' }, { label: 'ok' }, 'missing_feature'],
      [{ ...good, extra: 1 }, { label: 'ok' }, 'extra_feature'],
      [{ ...good, amount: '12' }, { label: 'ok' }, 'wrong_type'],
      [{ ...good, region: 3 }, { label: 'ok' }, 'wrong_type'],
      [{ ...good, amount: Number.NaN }, { label: 'ok' }, 'non_finite'],
      [{ ...good, age: Infinity }, { label: 'ok' }, 'non_finite'],
      [good, { label: 'cat' }, 'unknown_class'],
      [good, { label: 'ok', confidence: 1.5 }, 'bad_confidence'],
      [good, { label: 'ok', confidence: Number.NaN }, 'bad_confidence'],
      [throwing, { label: 'ok' }, 'internal'],
    ];
    for (const [input, output] of bad) expect(() => monitor.observe(input, output)).not.toThrow();
    for (const reason of REJECT_REASONS) {
      expect(sample(registry, 'lookout_ml_rejected', { reason }), reason).toBe(bad.filter(([, , expected]) => expected === reason).length);
    }
    expect(monitor.refresh().observations).toBe(0);
    expect(monitor.snapshot().features['amount']!.counts.every((count) => count === 0)).toBe(true);
    monitor.observe(good, { label: 'ok' });
    expect(monitor.refresh().observations).toBe(1);
    const text = (await registry.metrics()) as string;
    expect(text).toContain('lookout_ml_rejected_total{reason="extra_feature"} 1');
  });

  it('reports no drift below minSamples, and the window forgets intervals that slid out', () => {
    const { registry, monitor, clock } = setup({ minSamples: 100 });
    for (const row of rows(3, 99)) monitor.observe(row.input, row.output);
    expect(monitor.refresh().features).toEqual({});
    expect(sample(registry, 'model_feature_drift', { feature: 'amount', method: 'psi' })).toBeUndefined();
    for (const row of rows(4, 300, 50)) monitor.observe(row.input, row.output);
    expect(monitor.refresh().features['amount']!['psi']).toBeGreaterThan(1);
    // Four intervals of 1 s: after 2 s the shifted rows are still in; after 4 s they are gone.
    // With an injected clock there is no timer: refresh() moves the window on.
    clock.now += 2000;
    monitor.refresh();
    for (const row of rows(5, 400)) monitor.observe(row.input, row.output);
    expect(monitor.refresh().observations).toBe(799);
    clock.now += 2000;
    expect(monitor.refresh().observations).toBe(400);
    expect(monitor.refresh().features['amount']!['psi']).toBeLessThan(0.1);
    clock.now += 60_000;
    expect(monitor.refresh().observations).toBe(0);
  });
});

describe('versions and references', () => {
  it('setModel starts an empty window on the new reference and drops the old version\'s drift series', () => {
    const { registry, monitor } = setup({ minSamples: 50 });
    const shifted = rows(6, 500, 40);
    for (const row of shifted) monitor.observe(row.input, row.output);
    expect(monitor.refresh().features['amount']!['psi']).toBeGreaterThan(1);
    const retrained: ModelReference = fitReference({ features: FEATURES, classes: CLASSES }, rows(7, 2000, 40));
    monitor.setModel({ version: '2', reference: JSON.parse(JSON.stringify(retrained)) as ModelReference });
    expect(monitor.version).toBe('2');
    for (const row of rows(8, 500, 40)) monitor.observe(row.input, row.output);
    const report = monitor.refresh();
    expect(report.version).toBe('2');
    expect(report.features['amount']!['psi']).toBeLessThan(0.1);
    expect(sample(registry, 'model_feature_drift', { model_version: '1', feature: 'amount', method: 'psi' })).toBeUndefined();
    // Counters keep each version's totals.
    expect(sample(registry, 'model_predictions_total', { model_version: '1', class: 'ok' })).toBeGreaterThan(0);
    expect(sample(registry, 'model_predictions_total', { model_version: '2', class: 'ok' })).toBeGreaterThan(0);
    expect(() => monitor.setModel({ version: '3', reference: { format: 'nope' } as never })).toThrow(/LOOKOUT_E_ML_REFERENCE/);
    expect(monitor.version).toBe('2');
  });

  it('a snapshot of a window is a reference: the same traffic against it shows no drift', () => {
    const { monitor } = setup({ minSamples: 50 });
    for (const row of rows(9, 1000, 25, true)) monitor.observe(row.input, row.output);
    const snapshot = JSON.parse(JSON.stringify(monitor.snapshot())) as ModelReference;
    monitor.setModel({ version: '1b', reference: snapshot });
    for (const row of rows(10, 1000, 25, true)) monitor.observe(row.input, row.output);
    const report = monitor.refresh();
    for (const feature of ['amount', 'age']) expect(report.features[feature]!['psi'], feature).toBeLessThan(0.1);
  });

  it('versions beyond maxVersions fold into the overflow series; feedback counts by version', () => {
    const registry = new Registry();
    const monitor = createModelMonitor({ registry, model: { name: 'm', version: 'v0' }, features: FEATURES, predictions: { classes: CLASSES }, reference, maxVersions: 2, now: () => 0 });
    for (let index = 1; index <= 4; index++) {
      monitor.setModel({ version: `v${index}` });
      monitor.observe({ amount: 1, age: 30, region: 'eu' }, { label: 'ok', confidence: 0.9 });
      monitor.feedback(index % 2 === 0);
    }
    expect(registry.get('model_prediction_confidence')!.seriesCount).toBeLessThanOrEqual(3);
    expect(registry.get('model_predictions')!.seriesCount).toBeLessThanOrEqual(2 * CLASSES.length + 1);
    expect(registry.get('model_feedback')!.seriesCount).toBeLessThanOrEqual(2 * 2 + 1);
    monitor.close();
  });

  it('request latency and errors by version, and model_version_info names the version each one replaced', async () => {
    const { registry, monitor } = setup();
    const info = async () => (await registry.metrics()).split('\n').filter((line) => line.startsWith('model_version_info'));
    expect(await info()).toEqual(['model_version_info{model="fraud",model_version="1",previous_version=""} 1']);
    monitor.request(0.02, false);
    monitor.request(0.3, true);
    monitor.setModel({ version: '2' });
    expect(await info()).toEqual(['model_version_info{model="fraud",model_version="2",previous_version="1"} 1']);
    monitor.request(0.004, false);
    monitor.request(0.006, false);
    // A response of the old version (a job that started before the retrain) keeps its label.
    monitor.request(0.5, true, '1');
    monitor.request(Number.NaN, false);
    monitor.request(-1, false);
    const text = await registry.metrics();
    const count = (version: string, outcome: string) => Number(new RegExp(`^model_request_duration_seconds_count\\{model="fraud",model_version="${version}",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect([count('1', 'ok'), count('1', 'error'), count('2', 'ok'), count('2', 'error')]).toEqual([1, 2, 2, 0]);
    expect(text).toMatch(/^model_request_duration_seconds_sum\{model="fraud",model_version="2",outcome="ok"\} 0\.01$/m);
    expect(sample(registry, 'lookout_ml_rejected', { reason: 'non_finite' })).toBe(2);
    monitor.setModel({ version: '2' });
    expect(await info()).toEqual(['model_version_info{model="fraud",model_version="2",previous_version="1"} 1']);
  });

  it('memory per feature is fixed by bins and intervals, whatever the traffic', () => {
    const { monitor } = setup();
    const before = monitor.memoryBytes();
    for (const row of rows(11, 5000, 10, true)) monitor.observe(row.input, row.output);
    expect(monitor.memoryBytes()).toEqual(before);
    // 10 bins (11 cells with the open ends... quantile edges: 9 inner) × (4 intervals × 4 + 8) + edges.
    expect(before['amount']).toBe(10 * (4 * 4 + 8) + 9 * 8);
    expect(before['region']).toBe(4 * (4 * 4 + 8));
  });
});
