import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import { startInferenceApi, type InferenceApi } from './app.js';
import { isLoopback, parseFault } from './faults.js';
import { CLIENT_SERIES_CAP } from './metrics.js';

const START = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ points: [[0.1, 0.2]] }) };

describe('parseFault', () => {
  it('reads each kind with its defaults', () => {
    expect(parseFault('errors:/inference/start:50%')).toMatchObject({ kind: 'errors', route: '/inference/start', ratio: 0.5 });
    expect(parseFault('errors:/inference/start')).toMatchObject({ ratio: 1 });
    expect(parseFault('latency:/inference/start:300ms')).toMatchObject({ kind: 'latency', ms: 300 });
    expect(parseFault('hang:/model')).toMatchObject({ kind: 'hang', route: '/model', ms: 3000 });
    expect(parseFault('latency:*:1s')).toMatchObject({ kind: 'latency', route: '*', ms: 1000 });
    expect(parseFault('kpi-store-down')).toMatchObject({ kind: 'kpi-store-down' });
    expect(parseFault('memory-leak:20mb')).toMatchObject({ kind: 'memory-leak', mibPerSecond: 20 });
    expect(parseFault('event-loop-block:1.5s')).toMatchObject({ kind: 'event-loop-block', ms: 1500 });
    expect(parseFault('cardinality')).toMatchObject({ kind: 'cardinality' });
  });

  it.each(['nope', 'errors:/x:0', 'errors:/x:150%', 'latency:/x', 'latency:x:1s', 'latency:/x:2m', 'memory-leak:1000mb', 'kpi-store-down:now', 'cardinality:x'])('refuses %s with LOOKOUT_E_FAULT', (spec) => {
    expect(() => parseFault(spec)).toThrow('LOOKOUT_E_FAULT');
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.1', '::', 'example.com', undefined].map(isLoopback)).toEqual([false, false, false, false, false]);
  });
});

describe('fault injection in the reference API', () => {
  let api: InferenceApi;
  const store = new MemoryStore();
  beforeAll(async () => {
    api = await startInferenceApi({ store, flushIntervalMs: 20, faults: true });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('is off by default (no /faults route) and refused on a non-loopback address', async () => {
    const plain = await startInferenceApi({ store: new MemoryStore() });
    try {
      expect(plain.faults).toBeUndefined();
      expect((await fetch(`${plain.url}/faults`)).status).toBe(404);
    } finally {
      await plain.close();
    }
    await expect(startInferenceApi({ store: new MemoryStore(), faults: true, host: '0.0.0.0' })).rejects.toThrow('LOOKOUT_E_FAULTS_REFUSED');
  });

  it('errors, latency and hang change the answers of the route only, and stop when cleared', async () => {
    const inject = async (fault: string) => (await fetch(`${api.url}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault }) })).json();
    expect(await inject('errors:/inference/start:100%')).toEqual({ faults: ['errors:/inference/start:100%'] });
    expect((await fetch(`${api.url}/inference/start`, START)).status).toBe(500);
    expect((await fetch(`${api.url}/model`)).status).toBe(200);
    await inject('latency:/model:300ms');
    let started = performance.now();
    expect((await fetch(`${api.url}/model`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await inject('hang:/model:200ms');
    started = performance.now();
    expect((await fetch(`${api.url}/model`)).status).toBe(504);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(((await (await fetch(`${api.url}/faults`)).json()) as { faults: string[] }).faults).toHaveLength(3);
    expect((await fetch(`${api.url}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"fault":"bogus"}' })).status).toBe(400);
    expect(await (await fetch(`${api.url}/faults`, { method: 'DELETE' })).json()).toEqual({ faults: [] });
    expect((await fetch(`${api.url}/inference/start`, START)).status).toBe(202);
  });

  it('kpi-store-down fails the store until cleared (lookout_kpi_store_up goes 0, then 1)', async () => {
    const up = async () => (await api.registry.metrics()).match(/^lookout_kpi_store_up (\d)/m)?.[1];
    api.faults!.inject(parseFault('kpi-store-down'));
    await fetch(`${api.url}/model`);
    await expect.poll(up, { timeout: 5000 }).toBe('0');
    api.faults!.clear();
    await fetch(`${api.url}/model`);
    await expect.poll(up, { timeout: 10_000 }).toBe('1');
  });

  it('event-loop-block blocks the loop; memory-leak grows the resident memory', async () => {
    api.faults!.inject(parseFault('event-loop-block:150ms'));
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 400));
    api.faults!.clear('event-loop-block');
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    const before = process.memoryUsage().rss;
    api.faults!.inject(parseFault('memory-leak:50mb'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(process.memoryUsage().rss - before).toBeGreaterThan(10 * 1024 * 1024);
    api.faults!.clear();
  });

  it('cardinality overflows the x-client counter (one series per request) and frees its series when cleared', async () => {
    const text = async () => api.registry.metrics();
    const overflowed = async () => Number((await text()).match(/^lookout_series_overflow_total\{metric="inference_client_requests"\} (\d+)/m)?.[1] ?? 0);
    const series = async () => (await text()).split('\n').filter((line) => line.startsWith('inference_client_requests_total{')).length;
    const before = await overflowed();
    api.faults!.inject(parseFault('cardinality'));
    for (let index = 0; index < CLIENT_SERIES_CAP + 4; index++) await fetch(`${api.url}/model`, { headers: { 'x-client': 'web' } });
    expect(await overflowed()).toBeGreaterThan(before);
    expect((await text())).toMatch(/^inference_client_requests_total\{client="web#1"\} 1/m);
    api.faults!.clear();
    const after = await overflowed();
    // The injected series are gone: a new client gets a series of its own again, no overflow.
    expect((await text())).not.toMatch(/client="web#/);
    await fetch(`${api.url}/model`, { headers: { 'x-client': 'after-the-fix' } });
    expect(await overflowed()).toBe(after);
    expect(await series()).toBeLessThanOrEqual(CLIENT_SERIES_CAP + 1);
    expect((await text())).toMatch(/^inference_client_requests_total\{client="after-the-fix"\} 1/m);
  });
});
