import { describe, expect, it } from 'vitest';
import { Registry } from './registry.js';

describe('label set identity', () => {
  it('never lets two different label sets share a series (NUL inside values)', async () => {
    const registry = new Registry();
    const counter = registry.counter({ name: 'c', help: 'x', labelNames: ['a', 'b'] });
    const first = counter.labels({ a: 'x\u0000y', b: 'z' });
    const second = counter.labels({ a: 'x', b: 'y\u0000z' });
    const third = counter.labels({ a: 'x\u0000\u0002y', b: 'z' });
    expect(second).not.toBe(first);
    expect(third).not.toBe(first);
    expect(counter.labels({ a: 'x\u0000y', b: 'z' })).toBe(first);
    first.inc(1);
    second.inc(2);
    third.inc(3);
    expect(counter.seriesCount).toBe(3);
    expect(second.labelValues).toEqual(['x', 'y\u0000z']);
    const text = await registry.metrics();
    expect(text).toContain('c_total{a="x\u0000y",b="z"} 1\nc_total{a="x",b="y\u0000z"} 2\nc_total{a="x\u0000\u0002y",b="z"} 3\n');
    counter.remove({ a: 'x', b: 'y\u0000z' });
    expect(counter.seriesCount).toBe(2);
    expect(counter.labels({ a: 'x\u0000y', b: 'z' })).toBe(first);
  });

  it('treats values that differ only in lone surrogates as one series, as they are written', async () => {
    const registry = new Registry();
    const counter = registry.counter({ name: 'c', help: 'x', labelNames: ['v'] });
    counter.labels({ v: 'a\uD800' }).inc();
    counter.labels({ v: 'a\uDC00' }).inc();
    counter.labels({ v: 'a\uFFFD' }).inc();
    expect(counter.seriesCount).toBe(1);
    expect(counter.labels({ v: 'a\uDBFF' }).labelValues).toEqual(['a\uFFFD']);
    const text = await registry.metrics();
    expect(text.match(/^c_total\{/gm)).toHaveLength(1);
    expect(text).toContain('c_total{v="a\uFFFD"} 3\n');
  });

  it('does not count a lone-surrogate alias of a known series as overflow', async () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: 'g', help: 'x', labelNames: ['v'], maxSeries: 1 });
    gauge.labels({ v: '\uD800' }).set(1);
    expect(gauge.labels({ v: '\uDC00' })).toBe(gauge.labels({ v: '\uFFFD' }));
    expect(gauge.seriesCount).toBe(1);
    expect(await registry.metrics()).not.toMatch(/^lookout_series_overflow_total\{/m);
  });
});
