import { describe, expect, it } from 'vitest';
import { braces, escapeHelp, escapeLabelValue, formatCanonical, formatValue, joinPairs, labelPairs } from './format.js';
import { Registry } from './registry.js';

describe('formatValue', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [1, '1'],
    [-3.5, '-3.5'],
    [0.1, '0.1'],
    [1e-7, '1e-7'],
    [2 ** 53, '9007199254740992'],
    [1e21, '1e+21'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [Number.NaN, 'NaN'],
  ])('formats %s as %s', (value, text) => {
    expect(formatValue(value)).toBe(text);
    // Whatever we write must read back as the same number (Go's ParseFloat and Python's float agree on these spellings).
    if (!Number.isNaN(value)) expect(Number(text.replace('Inf', 'Infinity'))).toBe(value === 0 ? 0 : value);
  });
});

describe('formatCanonical (le and quantile labels)', () => {
  it.each([
    [1, '1.0'],
    [0, '0.0'],
    [-1, '-1.0'],
    [10, '10.0'],
    [0.25, '0.25'],
    [0.005, '0.005'],
    [2.5, '2.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('writes %s as %s', (value, text) => {
    expect(formatCanonical(value)).toBe(text);
  });
});

describe('escapeLabelValue', () => {
  it('leaves plain and non-ASCII text alone', () => {
    for (const value of ['', 'GET', '/users/:id', 'é日本語🎉', 'tab\there', 'cr\rhere', '# not a comment', '{a="b"}']) {
      expect(escapeLabelValue(value)).toBe(value.replace(/"/g, '\\"'));
    }
  });

  it('escapes backslash, double quote and newline, in that order', () => {
    expect(escapeLabelValue('a"b')).toBe('a\\"b');
    expect(escapeLabelValue('a\\b')).toBe('a\\\\b');
    expect(escapeLabelValue('a\nb')).toBe('a\\nb');
    // A backslash before a quote must not swallow the quote's escape.
    expect(escapeLabelValue('\\"')).toBe('\\\\\\"');
    expect(escapeLabelValue('\\n')).toBe('\\\\n');
    expect(escapeLabelValue('"\n\\')).toBe('\\"\\n\\\\');
  });

  it('replaces lone surrogates with U+FFFD and keeps valid pairs', () => {
    expect(escapeLabelValue('a\uD800b')).toBe('a\uFFFDb');
    expect(escapeLabelValue('a\uDC00b')).toBe('a\uFFFDb');
    expect(escapeLabelValue('\uDC00\uD800')).toBe('\uFFFD\uFFFD');
    expect(escapeLabelValue('end\uD83D')).toBe('end\uFFFD');
    expect(escapeLabelValue('\uD83D\uDE00')).toBe('😀');
    expect(escapeLabelValue('"\uD800"')).toBe('\\"\uFFFD\\"');
    // The result always encodes to valid UTF-8 and back.
    const escaped = escapeLabelValue('x\uDFFF\uD800y');
    expect(Buffer.from(escaped, 'utf8').toString('utf8')).toBe(escaped);
  });
});

describe('escapeHelp', () => {
  it('escapes backslash and newline in both formats, double quotes only in OpenMetrics', () => {
    const help = 'Say "hi" \\ then\nbreak';
    expect(escapeHelp(help, false)).toBe('Say "hi" \\\\ then\\nbreak');
    expect(escapeHelp(help, true)).toBe('Say \\"hi\\" \\\\ then\\nbreak');
  });

  it('replaces lone surrogates', () => {
    expect(escapeHelp('bad \uD800', false)).toBe('bad \uFFFD');
    expect(escapeHelp('bad \uDC00', true)).toBe('bad \uFFFD');
  });
});

describe('label pair helpers', () => {
  it('renders, joins and wraps pairs', () => {
    expect(labelPairs(['method', 'route'], ['GET', '/a "b"'])).toBe('method="GET",route="/a \\"b\\""');
    expect(labelPairs([], [])).toBe('');
    expect(joinPairs('', '')).toBe('');
    expect(joinPairs('a="1"', '')).toBe('a="1"');
    expect(joinPairs('', 'b="2"')).toBe('b="2"');
    expect(joinPairs('a="1"', 'b="2"')).toBe('a="1",b="2"');
    expect(braces('')).toBe('');
    expect(braces('a="1"')).toBe('{a="1"}');
  });
});

describe('escaping in rendered output', () => {
  const nasty = 'q"uote \\back\nline é 日本 🎉 \uD800 \t # } , =';
  const escaped = 'q\\"uote \\\\back\\nline é 日本 🎉 \uFFFD \t # } , =';

  it('escapes label values, default labels and HELP in the text format', async () => {
    const registry = new Registry({ defaultLabels: { app: 'a"b' } });
    registry.gauge({ name: 'g', help: 'Help "with" \\ and\nnewline', labelNames: ['v'] }).labels({ v: nasty }).set(1);
    const text = await registry.metrics('text');
    expect(text).toContain('# HELP g Help "with" \\\\ and\\nnewline\n');
    expect(text).toContain(`g{app="a\\"b",v="${escaped}"} 1\n`);
    // Only the escaped newline: every line is a comment, a sample, or empty at the end.
    for (const line of text.split('\n').slice(0, -1)) expect(line).toMatch(/^(# (HELP|TYPE) |[a-z_]+[{ ])/);
  });

  it('escapes the same way in OpenMetrics, plus quotes in HELP', async () => {
    const registry = new Registry();
    registry.counter({ name: 'c', help: 'Help "q"', labelNames: ['v'] }).labels({ v: nasty }).inc();
    const text = await registry.metrics('openmetrics');
    expect(text).toContain('# HELP c Help \\"q\\"\n');
    expect(text).toContain(`c_total{v="${escaped}"} 1\n`);
  });

  it('stringifies number and boolean label values', async () => {
    const registry = new Registry();
    const counter = registry.counter({ name: 'c', help: 'x', labelNames: ['code', 'ok'] });
    counter.labels({ code: 200, ok: true }).inc();
    expect(counter.labels({ code: '200', ok: 'true' })).toBe(counter.labels({ code: 200, ok: true }));
    expect(await registry.metrics()).toContain('c_total{code="200",ok="true"} 1\n');
  });
});
