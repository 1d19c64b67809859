import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_BUCKETS, exponentialBuckets, linearBuckets } from './histogram.js';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('bucket helpers', () => {
  it('builds exponential and linear buckets', () => {
    expect(exponentialBuckets(100, 10, 4)).toEqual([100, 1000, 10000, 100000]);
    expect(exponentialBuckets(1, 2, 1)).toEqual([1]);
    expect(linearBuckets(0, 5, 3)).toEqual([0, 5, 10]);
    expect(DEFAULT_BUCKETS).toEqual([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });

  it.each([
    () => exponentialBuckets(0, 2, 3),
    () => exponentialBuckets(1, 1, 3),
    () => exponentialBuckets(1, 2, 0),
    () => exponentialBuckets(1, 2, 1.5),
    () => linearBuckets(0, 0, 3),
    () => linearBuckets(0, 1, 0),
  ])('rejects bad helper arguments (%#)', (build) => {
    expect(build).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_BUCKETS' }));
  });

  it.each([[[]], [[2, 1]], [[1, 1]], [[1, Number.NaN]], [[-Infinity, 1]], [[Infinity]]])('rejects buckets %j', (buckets) => {
    expect(() => new Registry().histogram({ name: 'h', help: 'x', buckets })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_BUCKETS' }));
  });

  it('drops an explicit +Inf bound (it is always there)', () => {
    expect(new Registry().histogram({ name: 'h', help: 'x', buckets: [1, Infinity] }).buckets).toEqual([1]);
  });
});

describe('Histogram', () => {
  it('counts into cumulative buckets, le being inclusive', () => {
    const histogram = new Registry().histogram({ name: 'latency_seconds', help: 'Latency.', buckets: [0.1, 1, 2.5] });
    for (const value of [0.05, 0.1, 0.2, 1, 3, 100, -1]) histogram.observe(value);
    expect(family(histogram, 'text')).toBe(
      '# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n' +
        'latency_seconds_bucket{le="0.1"} 3\n' +
        'latency_seconds_bucket{le="1.0"} 5\n' +
        'latency_seconds_bucket{le="2.5"} 5\n' +
        'latency_seconds_bucket{le="+Inf"} 7\n' +
        'latency_seconds_sum 103.35\n' +
        'latency_seconds_count 7\n',
    );
  });

  it('renders canonical le values, labels and units in OpenMetrics', () => {
    const registry = new Registry({ defaultLabels: { app: 'api' } });
    const histogram = registry.histogram({ name: 'size_bytes', help: 'Size.', unit: 'bytes', labelNames: ['route'], buckets: [1, 10, 1e21] });
    histogram.labels({ route: '/a' }).observe(5);
    expect(family(histogram, 'openmetrics')).toBe(
      '# TYPE size_bytes histogram\n# UNIT size_bytes bytes\n# HELP size_bytes Size.\n' +
        'size_bytes_bucket{app="api",route="/a",le="1.0"} 0\n' +
        'size_bytes_bucket{app="api",route="/a",le="10.0"} 1\n' +
        'size_bytes_bucket{app="api",route="/a",le="1e+21"} 1\n' +
        'size_bytes_bucket{app="api",route="/a",le="+Inf"} 1\n' +
        'size_bytes_sum{app="api",route="/a"} 5\n' +
        'size_bytes_count{app="api",route="/a"} 1\n',
    );
  });

  it('uses the default buckets', () => {
    const histogram = new Registry().histogram({ name: 'h_seconds', help: 'x' });
    expect(histogram.buckets).toEqual(DEFAULT_BUCKETS);
    const les = [...family(histogram, 'text').matchAll(/le="([^"]+)"/g)].map((match) => match[1]);
    expect(les).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1.0', '2.5', '5.0', '10.0', '+Inf']);
  });

  it('finds the same bucket with many bounds (binary search) as a linear scan', () => {
    const bounds = linearBuckets(0, 0.5, 40);
    const histogram = new Registry().histogram({ name: 'h', help: 'x', buckets: bounds });
    const expected = new Array<number>(bounds.length + 1).fill(0);
    let seed = 7;
    for (let index = 0; index < 5000; index++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const value = index % 10 === 0 ? bounds[index % bounds.length]! : (seed / 2 ** 31) * 22 - 1;
      histogram.observe(value);
      const bucket = bounds.findIndex((bound) => value <= bound);
      expected[bucket === -1 ? bounds.length : bucket]!++;
    }
    expect([...histogram.labels({}).counts]).toEqual(expected);
  });

  it('rejects NaN without counting it', () => {
    const histogram = new Registry().histogram({ name: 'h', help: 'x', buckets: [1] });
    expect(() => histogram.observe(Number.NaN)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_VALUE' }));
    const series = histogram.labels({});
    expect(() => series.observeWithExemplar(Number.NaN, 't')).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_VALUE' }));
    expect(series.count).toBe(0);
    expect(series.sum).toBe(0);
  });

  it('times a block of work', async () => {
    const histogram = new Registry().histogram({ name: 'h_seconds', help: 'x', buckets: [0.001, 10] });
    const end = histogram.startTimer();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seconds = end();
    expect(seconds).toBeGreaterThan(0.015);
    expect(seconds).toBeLessThan(5);
    expect(histogram.labels({}).sum).toBe(seconds);
    expect(family(histogram, 'text')).toContain('h_seconds_bucket{le="10.0"} 1\n');
  });

  it('keeps one exemplar per bucket, rendered in OpenMetrics only', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_125);
    const histogram = new Registry().histogram({ name: 'req_seconds', help: 'R.', labelNames: ['route'], buckets: [0.1, 1] });
    const series = histogram.labels({ route: '/x' });
    series.observe(0.05);
    series.observeWithExemplar(0.5, 'trace-a');
    series.observeWithExemplar(0.7, 'trace-b');
    series.observeWithExemplar(5, 'trace-c');
    expect(family(histogram, 'openmetrics')).toBe(
      '# TYPE req_seconds histogram\n# HELP req_seconds R.\n' +
        'req_seconds_bucket{route="/x",le="0.1"} 1\n' +
        'req_seconds_bucket{route="/x",le="1.0"} 3 # {trace_id="trace-b"} 0.7 1700000000.125\n' +
        'req_seconds_bucket{route="/x",le="+Inf"} 4 # {trace_id="trace-c"} 5 1700000000.125\n' +
        'req_seconds_sum{route="/x"} 6.25\n' +
        'req_seconds_count{route="/x"} 4\n',
    );
    expect(family(histogram, 'text')).not.toContain('#  {');
    expect(family(histogram, 'text')).not.toContain('trace_id');
  });

  it('leaves _sum and _count out of OpenMetrics when buckets or observations are negative', () => {
    const registry = new Registry();
    const temperature = registry.histogram({ name: 'temp_celsius', help: 'T.', buckets: [-10, 0, 10] });
    temperature.observe(-5);
    temperature.observe(3);
    expect(family(temperature, 'openmetrics')).toBe(
      '# TYPE temp_celsius histogram\n# HELP temp_celsius T.\n' +
        'temp_celsius_bucket{le="-10.0"} 0\n' +
        'temp_celsius_bucket{le="0.0"} 1\n' +
        'temp_celsius_bucket{le="10.0"} 2\n' +
        'temp_celsius_bucket{le="+Inf"} 2\n',
    );
    expect(family(temperature, 'text')).toContain('temp_celsius_sum -2\ntemp_celsius_count 2\n');

    const delta = registry.histogram({ name: 'delta', help: 'D.', labelNames: ['k'], buckets: [1] });
    delta.labels({ k: 'neg' }).observe(-3);
    delta.labels({ k: 'pos' }).observe(3);
    const text = family(delta, 'openmetrics');
    expect(text).not.toContain('delta_sum{k="neg"}');
    expect(text).toContain('delta_bucket{k="neg",le="+Inf"} 1\n');
    expect(text).toContain('delta_sum{k="pos"} 3\ndelta_count{k="pos"} 1\n');
  });
});
