import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from '../core/registry.js';
import { resolveHttpOptions } from '../http/options.js';
import { createModelMonitor } from '../ml/monitor.js';
import { fitReference } from '../ml/reference.js';
import { HttpRecorder } from '../http/recorder.js';
import { memoryData } from './memory-source.js';
import { MAX_POINTS } from './numbers.js';
import { resolveDashboardOptions, type DashboardOptions } from './options.js';
import { OTHER_ROUTES, Sampler } from './sampler.js';

function setup(options: DashboardOptions = {}, http: Partial<Parameters<typeof resolveHttpOptions>[0]> = {}) {
  const registry = new Registry();
  const recorder = new HttpRecorder(resolveHttpOptions({ registry, ...http }));
  const sampler = new Sampler(resolveDashboardOptions({ registry, ...options }));
  const request = (route: string, status = 200, seconds = 0.02, method = 'GET'): void =>
    recorder.recordDirect({ path: route, method: ['GET', 'HEAD', 'POST'].indexOf(method), route, status, elapsedSeconds: seconds, requestBytes: 0, responseBytes: 10, headers: {}, error: undefined });
  return { registry, sampler, request };
}

const T0 = 1_700_000_000_000;

describe('in-process samples', () => {
  afterEach(() => vi.restoreAllMocks());

  it('turns counter samples into rates, ratios, percentiles and a route table with live totals', () => {
    const { sampler, request } = setup();
    request('/a');
    sampler.sample(T0);
    for (let index = 0; index < 10; index++) request('/a', index < 2 ? 500 : 200, index < 5 ? 0.02 : 0.4);
    for (let index = 0; index < 5; index++) request('/b');
    sampler.sample(T0 + 5000);
    request('/a'); // after the last sample: in the live total, not in the rates
    const data = memoryData(sampler, 300, T0 + 5000);
    const chart = (id: string) => Object.fromEntries(data.charts.find((c) => c.id === id)!.series.map((s) => [s.name, s.values]));
    expect(data.time).toEqual([(T0 + 5000) / 1000]);
    expect(chart('requests')).toEqual({ '/a': [2], '/b': [1] });
    expect(chart('status')).toEqual({ 200: [2.6], 500: [0.4] });
    expect(chart('errors')).toEqual({ 'all routes': [0.1333], '/a': [0.2] });
    // 10 of 15 in (0.01, 0.025]: the median interpolates to 0.01 + 0.015 * 7.5 / 10.
    expect(chart('latency')['p50']![0]).toBeCloseTo(0.02125, 5);
    expect(chart('latency')['p95']![0]).toBeGreaterThan(0.25);
    expect(data.routes).toEqual([
      { route: '/a', total: 12, rate: 2, errorRatio: 0.2, p95: expect.any(Number) as number },
      { route: '/b', total: 5, rate: 1, errorRatio: 0, p95: expect.any(Number) as number },
    ]);
    expect(data.routes[0]!.p95).toBeGreaterThan(0.25);
    expect(data.stats.find((stat) => stat.id === 'errors')).toEqual({ id: 'errors', value: 0.1333, level: 'bad' });
    expect(data.stats.find((stat) => stat.id === 'rps')?.value).toBe(3);
  });

  it('reads percentiles from native-only histograms through a grid of powers of two', () => {
    // Native only (no classic buckets besides +Inf): the page reads the sparse buckets themselves.
    const { sampler, request } = setup({}, { nativeHistograms: { schema: 3 }, buckets: [] });
    request('/a');
    sampler.sample(T0);
    // 90 requests around 30 ms, 10 around 3 s: p50 in (2^-6, 2^-5] = (15.6, 31.3] ms, p99 in (2, 4] s.
    for (let index = 0; index < 100; index++) request('/a', 200, index < 90 ? 0.03 : 3);
    sampler.sample(T0 + 5000);
    const data = memoryData(sampler, 300, T0 + 5000);
    const chart = (id: string) => Object.fromEntries(data.charts.find((c) => c.id === id)!.series.map((s) => [s.name, s.values]));
    const p50 = chart('latency')['p50']![0]!;
    const p99 = chart('latency')['p99']![0]!;
    expect(p50).toBeGreaterThan(2 ** -6);
    expect(p50).toBeLessThanOrEqual(2 ** -5);
    expect(p99).toBeGreaterThan(2);
    expect(p99).toBeLessThanOrEqual(4);
    expect(chart('latencyRoutes')['/a']![0]).toBeGreaterThan(2);
  });

  it('with a model monitor: drift per feature (a gap, not 0, below minSamples), prediction mix and accuracy by version', () => {
    const { registry, sampler } = setup();
    const features = [{ name: 'x', kind: 'numeric' }, { name: 'colour', kind: 'categorical' }] as const;
    const classes = ['a', 'b'];
    const rows = (shift: number) => Array.from({ length: 400 }, (_, index) => ({ input: { x: (index % 100) + shift, colour: index % 2 === 0 ? 'red' : 'blue' }, output: { label: index % 4 === 0 ? 'b' : 'a', confidence: 0.9 } }));
    const reference = fitReference({ features, classes }, rows(0));
    let clock = T0;
    const monitor = createModelMonitor({ registry, model: { name: 'm', version: '1' }, features, predictions: { classes }, reference, minSamples: 100, now: () => clock });
    sampler.sample(T0);
    for (const row of rows(0)) monitor.observe(row.input, row.output);
    for (let index = 0; index < 10; index++) monitor.feedback(index < 9);
    clock = T0 + 5000;
    sampler.sample(clock);
    // Shifted inputs: the drift of x rises, colour stays.
    for (const row of rows(60)) monitor.observe(row.input, row.output);
    clock = T0 + 7500;
    sampler.sample(clock);
    monitor.setModel({ version: '2' });
    for (let index = 0; index < 10; index++) monitor.feedback(index < 6);
    clock = T0 + 10_000;
    sampler.sample(clock);
    const data = memoryData(sampler, 300, clock);
    const chart = (id: string) => Object.fromEntries(data.charts.find((c) => c.id === id)!.series.map((s) => [s.name, s.values]));
    const drift = chart('drift');
    expect(Object.keys(drift)).toEqual(['colour', 'x', 'prediction class', 'prediction confidence']);
    expect(drift['x']![0]).toBeLessThan(0.05);
    expect(drift['x']![1]).toBeGreaterThan(0.2); // half the window shifted: above the alert's line
    expect(drift['colour']!.slice(0, 2).every((value) => value! < 0.05)).toBe(true);
    // Version 2's window is empty (setModel): no drift yet, drawn as a gap.
    expect(drift['x']![2]).toBeNull();
    expect(chart('predictionMix')).toEqual({ a: [0.75, 0.75, null], b: [0.25, 0.25, null] });
    expect(chart('accuracyByVersion')).toEqual({ v1: [0.9, null, null], v2: [null, null, 0.6] });
  });

  it('asks for patience before the second sample', () => {
    const { sampler, request } = setup();
    request('/a');
    sampler.sample(T0);
    const data = memoryData(sampler, 300, T0);
    expect(data.charts).toEqual([]);
    expect(data.notice).toMatch(/Collecting the first samples/);
  });

  it('stays bounded: ring size, routes tracked, lines per chart, points per series', () => {
    const { sampler, request } = setup({ maxRoutes: 3, sampleSeconds: 1, historyMinutes: 10 });
    const capacity = sampler.options.historySamples;
    for (let index = 0; index < capacity * 2; index++) {
      request(`/r${index % 1000}`, index % 7 === 0 ? 503 : 200);
      sampler.sample(T0 + index * 1000);
    }
    expect(sampler.size).toBe(capacity);
    const now = T0 + (capacity * 2 - 1) * 1000;
    const data = memoryData(sampler, 86_400, now);
    expect(data.time.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(data.routes.map((row) => row.route)).toHaveLength(4);
    expect(data.routes.map((row) => row.route)).toContain(OTHER_ROUTES);
    expect(data.routesOmitted).toBe(997);
    expect(data.routes.reduce((sum, row) => sum + row.total, 0)).toBe(capacity * 2);
    for (const chart of data.charts) {
      expect(chart.series.length).toBeLessThanOrEqual(12);
      for (const series of chart.series) expect(series.values.length).toBe(data.time.length);
    }
    expect(JSON.stringify(data).length).toBeLessThan(60_000);
  });

  it('reads series only: registry collectors (the runtime metrics\' windows) are not run', () => {
    const { registry, sampler, request } = setup();
    const collector = vi.fn();
    registry.addCollector(collector);
    request('/a');
    sampler.sample(T0);
    sampler.sample(T0 + 1000);
    expect(collector).not.toHaveBeenCalled();
  });

  it('counts a counter reset as a restart from zero', () => {
    const registry = new Registry();
    const sampler = new Sampler(resolveDashboardOptions({ registry }));
    const requests = registry.counter({ name: 'http_requests_total', help: 'Requests.', labelNames: ['route', 'status'] });
    requests.labels({ route: '/a', status: '200' }).inc(5);
    sampler.sample(T0);
    requests.reset();
    requests.labels({ route: '/a', status: '200' }).inc();
    sampler.sample(T0 + 1000);
    const chart = memoryData(sampler, 300, T0 + 1000).charts.find((candidate) => candidate.id === 'requests')!;
    expect(chart.series[0]!.values).toEqual([1]);
  });

  it('starts lazily with an unref()ed timer and stops', () => {
    const { sampler } = setup({ sampleSeconds: 60 });
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    expect(sampler.running).toBe(false);
    expect(sampler.size).toBe(0);
    sampler.start();
    sampler.start();
    expect(setInterval).toHaveBeenCalledTimes(1);
    expect((setInterval.mock.results[0]!.value as NodeJS.Timeout).hasRef()).toBe(false);
    expect(sampler.size).toBe(1);
    sampler.stop();
    expect(sampler.running).toBe(false);
  });
});
