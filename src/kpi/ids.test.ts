import { describe, expect, it } from 'vitest';
import { IdGenerator, createIdGenerator, uuidString, uuidTimeMs, writeUuid } from './ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('time-ordered ids', () => {
  it('are version 7 UUIDs carrying the record time', () => {
    const nextId = createIdGenerator();
    const now = Date.now();
    const id = nextId(now);
    expect(id).toMatch(UUID_V7);
    expect(uuidTimeMs(id)).toBe(now);
  });

  it('strictly increase within a generator, even many per millisecond and when the clock goes back', () => {
    const nextId = createIdGenerator();
    const ids: string[] = [];
    const base = 1_720_000_000_000;
    for (let index = 0; index < 20_000; index++) ids.push(nextId(base + Math.floor(index / 5000)));
    ids.push(nextId(base - 1000)); // clock stepped back
    ids.push(nextId(base + 10));
    for (let index = 1; index < ids.length; index++) expect(ids[index]! > ids[index - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('differ across generators in the same millisecond', () => {
    const first = createIdGenerator();
    const second = createIdGenerator();
    expect(first(1000)).not.toBe(second(1000));
  });

  it('write the same 16 bytes as their text', () => {
    const generator = new IdGenerator();
    const times = new Float64Array(3);
    const counters = new Uint32Array(3);
    generator.next(1_720_000_000_000, times, counters, 0);
    for (let index = 0; index < 20_000; index++) generator.next(1_720_000_000_001, times, counters, 1);
    generator.next(2 ** 47 + 5, times, counters, 2);
    for (let row = 0; row < 3; row++) {
      const bytes = Buffer.alloc(16);
      writeUuid(bytes, 0, times[row]!, counters[row]!, generator.node);
      const text = uuidString(times[row]!, counters[row]!, generator.node);
      expect(text).toMatch(UUID_V7);
      expect(bytes.toString('hex')).toBe(text.replace(/-/g, ''));
    }
    expect(counters[1]).toBe(19_999);
  });
});
