import { describe, expect, it } from 'vitest';
import { EventBuffer } from './buffer.js';
import { IdGenerator } from './ids.js';

describe('EventBuffer', () => {
  it('is a FIFO across the ring boundary', () => {
    const buffer = new EventBuffer(4);
    const ids = new IdGenerator();
    for (let round = 0; round < 5; round++) {
      buffer.push('e', round * 10, `a${round}`, null, null, round);
      buffer.push('e', round * 10 + 1, `b${round}`, 'm', '{}', null);
      buffer.push('e', round * 10 + 2, `c${round}`, null, null, null);
      const batch = buffer.take(2, ids);
      expect(batch.users).toEqual([`a${round}`, `b${round}`]);
      expect(batch.values).toEqual([round, null]);
      expect(batch.models).toEqual([null, 'm']);
      expect(buffer.take(10, ids).users).toEqual([`c${round}`]);
      expect(buffer.size).toBe(0);
    }
  });

  it('discards the oldest events', () => {
    const buffer = new EventBuffer(3);
    for (let index = 0; index < 3; index++) buffer.push('e', index, String(index), null, null, null);
    expect(buffer.discard(2)).toBe(2);
    buffer.push('e', 3, '3', null, null, null);
    expect(buffer.take(10, new IdGenerator()).users).toEqual(['2', '3']);
    expect(buffer.discard(5)).toBe(0);
  });
});
