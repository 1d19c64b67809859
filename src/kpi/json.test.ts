import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/random.js';
import { flatJson } from './json.js';

describe('flatJson', () => {
  it('writes exactly what JSON.stringify writes for flat objects', () => {
    const cases: unknown[] = [
      {},
      { label: 'cat', score: 0.93 },
      { a: -0, b: NaN, c: Infinity, d: -Infinity, e: 1e21, f: 5e-7, g: true, h: false, i: null },
      { skip: undefined, fn: () => 1, sym: Symbol('s'), kept: 'x' },
      { 2: 'two', 1: 'one', b: 'b', a: 'a' },
      { 'é': 'ü', emoji: 'caf\u00e9', cjk: '日本' },
    ];
    for (const value of cases) expect(flatJson(value)).toBe(JSON.stringify(value));
  });

  it('leaves everything else to JSON.stringify', () => {
    const polluted = Object.create({ inherited: 1 }) as Record<string, unknown>;
    polluted['own'] = 1;
    class Thing { a = 1; }
    const fallbacks: unknown[] = [
      null, 'text', 42, [1, 2], new Date(0), new Thing(), polluted, Object.create(null),
      { nested: { a: 1 } }, { list: [1] }, { big: 1n }, { toJSON: () => 'x' },
      { quote: 'a"b' }, { slash: 'a\\b' }, { newline: 'a\nb' }, { nul: 'a\u0000b' }, { pair: '😀' }, { lone: '\ud800' },
      { 'key"quote': 1 }, { 'key\nline': 1 },
    ];
    for (const value of fallbacks) expect(flatJson(value)).toBeUndefined();
  });

  it('agrees with JSON.stringify on random flat objects', () => {
    const random = seededRandom(7);
    const alphabet = ['a', 'b', 'Z', '0', ' ', 'é', '"', '\\', '\n', '😀', '\u0001', '/'];
    const text = (): string => Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const values = [(): unknown => text(), (): unknown => random() * 1e6 - 5e5, (): unknown => Math.floor(random() * 100), (): unknown => random() < 0.5, (): unknown => null, (): unknown => undefined];
    let fast = 0;
    for (let round = 0; round < 5000; round++) {
      const object: Record<string, unknown> = {};
      const fields = Math.floor(random() * 5);
      for (let field = 0; field < fields; field++) object[text() || `k${field}`] = values[Math.floor(random() * values.length)]!();
      const json = flatJson(object);
      if (json !== undefined) {
        fast++;
        expect(json).toBe(JSON.stringify(object));
      }
    }
    expect(fast).toBeGreaterThan(1000);
  });
});
