import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { mergeSources } from './merge.js';
import { encodeAll, encodeRegistries, fromWire, toWire, type FamilyWire } from './wire.js';

function bigRegistry(series: number): Registry {
  const registry = new Registry({ defaultLabels: { app: 'api' } });
  const latency = registry.histogram({ name: 'latency_seconds', help: 'L.', labelNames: ['route'], buckets: [0.1, 1], maxSeries: series });
  const hits = registry.counter({ name: 'hits_total', help: 'H.', labelNames: ['route'], maxSeries: series });
  for (let index = 0; index < series; index++) {
    latency.labels({ route: `/r/${index}` }).observe(index % 3);
    hits.labels({ route: `/r/${index}` }).inc(index);
  }
  return registry;
}

const mergeOptions = { gaugeMode: () => 'sum' as const, workerLabel: 'worker' };

describe('wire format', () => {
  it('spells non-finite numbers as strings', () => {
    expect([Infinity, -Infinity, Number.NaN, 1.5].map(toWire)).toEqual(['+Inf', '-Inf', 'NaN', 1.5]);
    expect(['+Inf', '-Inf', 'NaN', 1.5].map((value) => fromWire(value as never))).toEqual([Infinity, -Infinity, Number.NaN, 1.5]);
  });

  it('declares a family once per slice, with default labels first and flat arrays', async () => {
    const families = await encodeAll([bigRegistry(2)]);
    const latency = families.find((family) => family.name === 'latency_seconds')!;
    expect(latency).toMatchObject({ type: 'histogram', labelNames: ['app', 'route'], buckets: [0.1, 1], labelValues: ['api', '/r/0', 'api', '/r/1'] });
    expect(latency.numbers).toEqual([1, 0, 0, 0, 1, 0, 1, 0, 1, 1]);
  });

  it('cuts big registries into chunks (by size and by time) that merge to the same answer', async () => {
    const registry = bigRegistry(3000);
    const whole = await encodeAll([registry], { maxNumbers: Number.MAX_SAFE_INTEGER, sliceMs: 1e9 });
    const chunks: FamilyWire[][] = [];
    for await (const chunk of encodeRegistries([registry], { maxNumbers: 5000, sliceMs: 1e9 })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.reduce((size, family) => size + family.numbers.length + family.labelValues.length, 0)).toBeLessThan(5000 + 64 * 8);
    let timeSliced = 0;
    for await (const _chunk of encodeRegistries([registry], { sliceMs: 0 })) timeSliced++;
    expect(timeSliced).toBeGreaterThan(3000 / 64);
    const one = await (await mergeSources([{ worker: '1', stale: false, families: whole }], mergeOptions)).metrics();
    const sliced = await (await mergeSources([{ worker: '1', stale: false, families: chunks.flat() }], mergeOptions)).metrics();
    expect(sliced).toBe(one);
    expect(one).toContain('hits_total{app="api",route="/r/2999"} 2999\n');
  });

  it('copes with series removed between chunks', async () => {
    const registry = bigRegistry(1000);
    const hits = registry.get('hits_total')!;
    let parts = 0;
    for await (const _chunk of encodeRegistries([registry], { maxNumbers: 500 })) {
      if (parts++ === 2) hits.reset();
    }
    expect(parts).toBeGreaterThan(3);
  });

  it('skips a family an earlier registry already gave, and excluded ones', async () => {
    const first = new Registry();
    first.counter({ name: 'x_total', help: 'first' });
    const second = new Registry();
    second.counter({ name: 'x_total', help: 'second' });
    second.counter({ name: 'y_total', help: 'y' });
    const families = await encodeAll([first, second], { exclude: new Set(['y']) });
    expect(families.filter((family) => family.name === 'x').map((family) => family.help)).toEqual(['first']);
    expect(families.some((family) => family.name === 'y')).toBe(false);
  });
});
