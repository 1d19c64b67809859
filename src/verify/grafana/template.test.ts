import { describe, expect, it } from 'vitest';
import { interpolate, prometheusFormatter, sqlFormatter, type VariableValue } from './template.js';

const single = (name: string, value: string): VariableValue => ({ name, multi: false, includeAll: false, selected: [value], options: [value] });
const all = (name: string, options: string[], allValue?: string): VariableValue => ({ name, multi: true, includeAll: true, allValue, selected: 'all', options });

describe('Prometheus formatter (§3.1)', () => {
  it('escapes only \\ and \' for a single-value variable', () => {
    expect(interpolate('{a="$v"}', [single('v', "it's\\x.y")], {}, prometheusFormatter)).toBe('{a="it\\\\\'s\\\\x.y"}');
  });

  it('regex-escapes a multi variable with one selection, without parentheses', () => {
    const variable: VariableValue = { name: 'v', multi: true, includeAll: false, selected: ['a.b'], options: ['a.b', 'c'] };
    expect(interpolate('$v', [variable], {}, prometheusFormatter)).toBe('a\\\\.b');
  });

  it('inserts a custom All value raw, and every option without one', () => {
    expect(interpolate('{job=~"$job"}', [all('job', ['a.b', 'c'], '.*')], {}, prometheusFormatter)).toBe('{job=~".*"}');
    expect(interpolate('{job=~"$job"}', [all('job', ['a.b', 'c'])], {}, prometheusFormatter)).toBe('{job=~"(a\\\\.b|c)"}');
  });

  it('leaves unknown names and back-end variables verbatim; $var is greedy', () => {
    const text = 'rate(x{h="$hostname"}[$__rate_interval]) $__interval ${host}name [[host]]';
    expect(interpolate(text, [single('host', 'h1')], {}, prometheusFormatter)).toBe('rate(x{h="$hostname"}[$__rate_interval]) $__interval h1name h1');
  });
});

describe('SQL formatter (§3.2)', () => {
  it('doubles quotes without adding any for a single value; quotes multi values', () => {
    expect(interpolate("WHERE u = '$u'", [single('u', "O'Brien")], {}, sqlFormatter)).toBe("WHERE u = 'O''Brien'");
    expect(interpolate('WHERE u IN ($u)', [all('u', ['a', "b'c"])], {}, sqlFormatter)).toBe("WHERE u IN ('a','b''c')");
  });

  it('substitutes scoped variables: $__interval text, $__interval_ms number', () => {
    expect(interpolate('$__interval $__interval_ms $__timeFilter(t)', [], { __interval: '1m', __interval_ms: 60000 }, sqlFormatter)).toBe('1m 60000 $__timeFilter(t)');
  });
});

describe('explicit formats (§3.3)', () => {
  const host = all('host', ['a', 'b']);
  it.each([
    ['${host:csv}', 'a,b'],
    ['${host:pipe}', 'a|b'],
    ['${host:regex}', '(a|b)'],
    ['${host:raw}', 'a,b'],
    ['${host:sqlstring}', "'a','b'"],
    ['${host:singlequote}', "'a','b'"],
    ['${host:doublequote}', '"a","b"'],
    ['${host:json}', '["a","b"]'],
    ['${host:glob}', '{a,b}'],
    ['[[host:csv]]', 'a,b'],
  ])('%s → %s', (input, output) => {
    expect(interpolate(input, [host], {}, prometheusFormatter)).toBe(output);
  });

  it('refuses what it cannot reproduce (browser-local dates, unknown formats)', () => {
    expect(() => interpolate('${__from:date:YYYY-MM-DD}', [], { __from: 0 }, sqlFormatter)).toThrow('LOOKOUT_E_VERIFY_UNSUPPORTED');
    expect(() => interpolate('${host:nope}', [host], {}, sqlFormatter)).toThrow('LOOKOUT_E_VERIFY_UNSUPPORTED');
  });
});
