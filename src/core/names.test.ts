import { describe, expect, it } from 'vitest';
import { LookoutError } from './errors.js';
import { assertHelp, assertLabelNames, assertMetricName, assertNoReservedSuffix, assertUnit } from './names.js';
import { Registry } from './registry.js';

/** Runs `action` and returns the LookoutError code it throws (fails when it does not throw one). */
function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(LookoutError);
    const lookoutError = error as LookoutError;
    expect(lookoutError.name).toBe('LookoutError');
    expect(lookoutError.message.startsWith(`${lookoutError.code}: `)).toBe(true);
    return lookoutError.code;
  }
  throw new Error('expected a LookoutError, nothing was thrown');
}

describe('metric names', () => {
  it.each(['a', '_x', 'http_requests', 'ns:sub_name', ':colon_first', 'A1_b2'])('accepts %j', (name) => {
    expect(() => assertMetricName(name)).not.toThrow();
    expect(new Registry().gauge({ name, help: 'ok' }).name).toBe(name);
  });

  it.each(['', '1abc', 'a-b', 'a b', 'café', 'a.b', 'a{b}', 'a"b', 'a\nb'])('rejects %j with LOOKOUT_E_INVALID_NAME', (name) => {
    expect(codeOf(() => assertMetricName(name))).toBe('LOOKOUT_E_INVALID_NAME');
    expect(codeOf(() => new Registry().gauge({ name, help: 'x' }))).toBe('LOOKOUT_E_INVALID_NAME');
  });

  it('rejects a non-string name', () => {
    expect(codeOf(() => assertMetricName(42 as unknown as string))).toBe('LOOKOUT_E_INVALID_NAME');
  });

  it('rejects a state set name with a colon (it is also a label name)', () => {
    expect(codeOf(() => new Registry().stateSet({ name: 'a:b', help: 'x', states: ['on'] }))).toBe('LOOKOUT_E_INVALID_NAME');
  });
});

describe('label names', () => {
  it('accepts valid, distinct names', () => {
    expect(() => assertLabelNames('m', ['method', '_route', 'a1'])).not.toThrow();
  });

  it.each(['a-b', '1a', 'a:b', '', 'é', 'a b'])('rejects %j with LOOKOUT_E_INVALID_LABEL_NAME', (label) => {
    expect(codeOf(() => new Registry().counter({ name: 'c', help: 'x', labelNames: [label] }))).toBe('LOOKOUT_E_INVALID_LABEL_NAME');
  });

  it('reserves names starting with __', () => {
    expect(codeOf(() => new Registry().gauge({ name: 'g', help: 'x', labelNames: ['__name__'] }))).toBe('LOOKOUT_E_RESERVED_LABEL');
    expect(codeOf(() => new Registry().gauge({ name: 'g', help: 'x', labelNames: ['__x'] }))).toBe('LOOKOUT_E_RESERVED_LABEL');
  });

  it('reserves le on histograms, quantile on summaries, the family name on state sets', () => {
    const registry = new Registry();
    expect(codeOf(() => registry.histogram({ name: 'h_seconds', help: 'x', labelNames: ['le'] }))).toBe('LOOKOUT_E_RESERVED_LABEL');
    expect(codeOf(() => registry.summary({ name: 's_seconds', help: 'x', labelNames: ['quantile'] }))).toBe('LOOKOUT_E_RESERVED_LABEL');
    expect(codeOf(() => registry.stateSet({ name: 'mode', help: 'x', labelNames: ['mode'], states: ['a'] }))).toBe('LOOKOUT_E_RESERVED_LABEL');
  });

  it('rejects a duplicate label name', () => {
    expect(codeOf(() => new Registry().counter({ name: 'c', help: 'x', labelNames: ['a', 'b', 'a'] }))).toBe('LOOKOUT_E_DUPLICATE_LABEL');
  });

  it('rejects a label that is already a registry default label', () => {
    const registry = new Registry({ defaultLabels: { app: 'api' } });
    expect(codeOf(() => registry.counter({ name: 'c', help: 'x', labelNames: ['app'] }))).toBe('LOOKOUT_E_DUPLICATE_LABEL');
  });

  it('validates registry default labels', () => {
    expect(codeOf(() => new Registry({ defaultLabels: { 'bad-name': 'x' } }))).toBe('LOOKOUT_E_INVALID_LABEL_NAME');
    expect(codeOf(() => new Registry({ defaultLabels: { le: '1' } }))).toBe('LOOKOUT_E_RESERVED_LABEL');
    expect(codeOf(() => new Registry({ defaultLabels: { quantile: '1' } }))).toBe('LOOKOUT_E_RESERVED_LABEL');
  });
});

describe('reserved suffixes', () => {
  it.each(['_total', '_created', '_bucket', '_count', '_sum', '_info', '_gcount', '_gsum'])('a gauge may not end with %s', (suffix) => {
    expect(codeOf(() => assertNoReservedSuffix(`queue${suffix}`, 'gauge'))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => new Registry().gauge({ name: `queue${suffix}`, help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
  });

  it('applies to every family type, after _total / _info are taken off', () => {
    const registry = new Registry();
    expect(codeOf(() => registry.histogram({ name: 'h_bucket', help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => registry.summary({ name: 's_count', help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => registry.counter({ name: 'c_total_total', help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => registry.counter({ name: 'c_created', help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => registry.info({ name: 'i_info_info', help: 'x' }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
    expect(codeOf(() => registry.stateSet({ name: 'st_sum', help: 'x', states: ['a'] }))).toBe('LOOKOUT_E_RESERVED_SUFFIX');
  });
});

describe('units and help', () => {
  it('requires a lower-case unit that ends the family name', () => {
    expect(() => assertUnit('latency_seconds', 'seconds')).not.toThrow();
    expect(codeOf(() => assertUnit('latency_seconds', 'Seconds'))).toBe('LOOKOUT_E_INVALID_UNIT');
    expect(codeOf(() => assertUnit('latency', 'seconds'))).toBe('LOOKOUT_E_INVALID_UNIT');
    expect(codeOf(() => assertUnit('latencyseconds', 'seconds'))).toBe('LOOKOUT_E_INVALID_UNIT');
    expect(codeOf(() => new Registry().gauge({ name: 'temp', help: 'x', unit: 'celsius' }))).toBe('LOOKOUT_E_INVALID_UNIT');
  });

  it('checks a counter unit against the family name (without _total)', () => {
    const counter = new Registry().counter({ name: 'cpu_seconds_total', help: 'x', unit: 'seconds' });
    expect(counter.name).toBe('cpu_seconds');
    expect(codeOf(() => new Registry().counter({ name: 'cpu_total', help: 'x', unit: 'total' }))).toBe('LOOKOUT_E_INVALID_UNIT');
  });

  it('refuses a unit on info and state set metrics (OpenMetrics forbids it)', () => {
    expect(codeOf(() => new Registry().info({ name: 'size_bytes', help: 'x', unit: 'bytes' }))).toBe('LOOKOUT_E_INVALID_UNIT');
    expect(codeOf(() => new Registry().stateSet({ name: 'size_bytes', help: 'x', unit: 'bytes', states: ['a'] }))).toBe('LOOKOUT_E_INVALID_UNIT');
  });

  it('requires help to be a string', () => {
    expect(() => assertHelp('m', '')).not.toThrow();
    expect(codeOf(() => assertHelp('m', undefined))).toBe('LOOKOUT_E_INVALID_HELP');
    expect(codeOf(() => new Registry().gauge({ name: 'g', help: 3 as unknown as string }))).toBe('LOOKOUT_E_INVALID_HELP');
  });
});

describe('registration errors', () => {
  it('rejects a second metric with the same family name, whatever the spelling', () => {
    const registry = new Registry();
    registry.counter({ name: 'jobs_total', help: 'x' });
    expect(codeOf(() => registry.counter({ name: 'jobs', help: 'x' }))).toBe('LOOKOUT_E_DUPLICATE_METRIC');
    expect(codeOf(() => registry.gauge({ name: 'jobs', help: 'x' }))).toBe('LOOKOUT_E_DUPLICATE_METRIC');
    registry.info({ name: 'build_info', help: 'x' });
    expect(codeOf(() => registry.gauge({ name: 'build', help: 'x' }))).toBe('LOOKOUT_E_DUPLICATE_METRIC');
    expect(codeOf(() => registry.counter({ name: 'lookout_series_overflow_total', help: 'x' }))).toBe('LOOKOUT_E_DUPLICATE_METRIC');
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxSeries %s', (maxSeries) => {
    expect(codeOf(() => new Registry().gauge({ name: 'g', help: 'x', maxSeries }))).toBe('LOOKOUT_E_INVALID_OPTION');
    expect(codeOf(() => new Registry({ maxSeriesPerMetric: maxSeries }))).toBe('LOOKOUT_E_INVALID_OPTION');
  });

  it('rejects wrong label sets and unlabelled use of a labelled metric', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x', labelNames: ['a', 'b'] });
    expect(codeOf(() => counter.labels({ a: '1' } as never))).toBe('LOOKOUT_E_LABELS');
    expect(codeOf(() => counter.labels({ a: '1', b: '2', c: '3' } as never))).toBe('LOOKOUT_E_LABELS');
    expect(codeOf(() => counter.labels({ a: '1', c: '3' } as never))).toBe('LOOKOUT_E_LABELS');
    expect(codeOf(() => counter.inc())).toBe('LOOKOUT_E_LABELS');
    expect(counter.seriesCount).toBe(0);
  });
});
