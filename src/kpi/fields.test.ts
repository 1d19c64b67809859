import { describe, expect, it } from 'vitest';
import { checkText, serializeArgs, type FieldVerdict } from './fields.js';

function verdict(): FieldVerdict {
  return { problem: undefined, detail: '' };
}

describe('serializeArgs', () => {
  it('returns JSON text for plain values', () => {
    const result = verdict();
    expect(serializeArgs({ label: 'cat', score: 0.5, tags: ['a'] }, 8192, result)).toBe('{"label":"cat","score":0.5,"tags":["a"]}');
    expect(serializeArgs('text', 8192, result)).toBe('"text"');
    expect(result.problem).toBeUndefined();
  });

  it.each([
    ['a circular object', (() => { const value: Record<string, unknown> = {}; value['self'] = value; return value; })(), /circular/i],
    ['a BigInt', { count: 10n }, /BigInt/],
    ['a bare function', () => 1, /function/],
    ['a symbol', Symbol('x'), /symbol/],
    ['a NUL character', { text: 'a\0b' }, /NUL/],
    ['a lone surrogate', { text: '\ud800x' }, /surrogate/],
  ])('refuses %s as invalid', (_name, args, message) => {
    const result = verdict();
    expect(serializeArgs(args, 8192, result)).toBeNull();
    expect(result.problem).toBe('invalid');
    expect(result.detail).toMatch(message);
  });

  it('keeps escaped backslashes that only look like a \\u0000 escape, and surrogate pairs', () => {
    const result = verdict();
    expect(serializeArgs({ text: '\\u0000 and \\\\ud800' }, 8192, result)).toBe(JSON.stringify({ text: '\\u0000 and \\\\ud800' }));
    expect(serializeArgs({ emoji: '😀' }, 8192, result)).toBe('{"emoji":"😀"}');
    expect(result.problem).toBeUndefined();
  });

  it('leaves functions inside objects out, as JSON.stringify does', () => {
    expect(serializeArgs({ keep: 1, drop: () => 2 }, 8192, verdict())).toBe('{"keep":1}');
  });

  it('measures the limit in UTF-8 bytes, exactly', () => {
    const ascii = { text: 'x'.repeat(100) }; // 111 bytes of JSON
    expect(serializeArgs(ascii, 111, verdict())).not.toBeNull();
    const tooBig = verdict();
    expect(serializeArgs(ascii, 110, tooBig)).toBeNull();
    expect(tooBig.problem).toBe('too_large');
    const accented = { text: 'é'.repeat(50) }; // 11 + 100 bytes, 61 characters
    expect(serializeArgs(accented, 111, verdict())).not.toBeNull();
    const result = verdict();
    expect(serializeArgs(accented, 110, result)).toBeNull();
    expect(result.detail).toMatch(/111 bytes/);
  });
});

describe('checkText', () => {
  it('accepts strings, numbers for user, and nothing', () => {
    const result = verdict();
    expect(checkText('user', 'u-1', 10, true, result)).toBe('u-1');
    expect(checkText('user', 42, 10, true, result)).toBe('42');
    expect(checkText('model', undefined, 10, false, result)).toBeNull();
    expect(checkText('model', null, 10, false, result)).toBeNull();
    expect(result.problem).toBeUndefined();
  });

  it('refuses other types and long values', () => {
    const wrongType = verdict();
    expect(checkText('model', 3, 10, false, wrongType)).toBeNull();
    expect(wrongType.problem).toBe('invalid');
    const long = verdict();
    expect(checkText('user', 'x'.repeat(11), 10, true, long)).toBeNull();
    expect(long.problem).toBe('too_large');
  });
});
