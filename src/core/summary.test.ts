import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Summary', () => {
  it('renders quantiles with canonical labels, then all-time _sum and _count', () => {
    const summary = new Registry().summary({ name: 'payload_size_bytes', help: 'Sizes.', unit: 'bytes', percentiles: [0, 0.5, 0.9, 1] });
    summary.observe(100);
    const expectedSamples =
      'payload_size_bytes{quantile="0.0"} 100\n' +
      'payload_size_bytes{quantile="0.5"} 100\n' +
      'payload_size_bytes{quantile="0.9"} 100\n' +
      'payload_size_bytes{quantile="1.0"} 100\n' +
      'payload_size_bytes_sum 100\n' +
      'payload_size_bytes_count 1\n';
    expect(family(summary, 'text')).toBe(`# HELP payload_size_bytes Sizes.\n# TYPE payload_size_bytes summary\n${expectedSamples}`);
    expect(family(summary, 'openmetrics')).toBe(
      `# TYPE payload_size_bytes summary\n# UNIT payload_size_bytes bytes\n# HELP payload_size_bytes Sizes.\n${expectedSamples}`,
    );
  });

  it('puts quantile after the other labels', () => {
    const summary = new Registry({ defaultLabels: { app: 'api' } }).summary({ name: 's', help: 'x', labelNames: ['model'], percentiles: [0.99] });
    summary.labels({ model: 'mlp' }).observe(2);
    expect(family(summary, 'text')).toContain('s{app="api",model="mlp",quantile="0.99"} 2\ns_sum{app="api",model="mlp"} 2\ns_count{app="api",model="mlp"} 1\n');
  });

  it('reports NaN quantiles for an empty window but keeps sum and count', () => {
    const summary = new Registry().summary({ name: 's', help: 'x' });
    expect(family(summary, 'text').split('\n').slice(2, -1)).toEqual([
      's{quantile="0.5"} NaN',
      's{quantile="0.9"} NaN',
      's{quantile="0.99"} NaN',
      's_sum 0',
      's_count 0',
    ]);
  });

  it('estimates quantiles within the configured relative error', () => {
    const summary = new Registry().summary({ name: 's', help: 'x', percentiles: [0.5, 0.9, 0.99], relativeError: 0.02 });
    for (let value = 1; value <= 10_000; value++) summary.observe(value);
    const samples = family(summary, 'text');
    for (const [q, truth] of [['0.5', 5000], ['0.9', 9000], ['0.99', 9900]] as const) {
      const estimate = Number(new RegExp(`s\\{quantile="${q}"\\} (\\S+)`).exec(samples)![1]);
      expect(Math.abs(estimate - truth) / truth, `q=${q} estimate ${estimate}`).toBeLessThanOrEqual(0.02);
    }
    expect(samples).toContain('s_sum 50005000\ns_count 10000\n');
  });

  it('slides its window (maxAgeSeconds / ageBuckets) while _sum and _count stay all-time', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const summary = new Registry().summary({ name: 's', help: 'x', percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 3 });
    for (let index = 0; index < 10; index++) summary.observe(1);
    vi.setSystemTime(30_000);
    for (let index = 0; index < 10; index++) summary.observe(50);
    vi.setSystemTime(65_000);
    expect(family(summary, 'text')).toContain('s{quantile="0.5"} 50\ns_sum 510\ns_count 20\n');
    vi.setSystemTime(100_000);
    expect(family(summary, 'text')).toContain('s{quantile="0.5"} NaN\ns_sum 510\ns_count 20\n');
  });

  it('validates its options with stable codes', () => {
    const registry = new Registry();
    for (const percentiles of [[-0.1], [1.5], [Number.NaN]]) {
      expect(() => registry.summary({ name: 's', help: 'x', percentiles })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_QUANTILES' }));
    }
    for (const options of [{ maxAgeSeconds: 0 }, { ageBuckets: 0 }, { ageBuckets: 1.5 }, { relativeError: 0 }, { relativeError: 1 }]) {
      expect(() => registry.summary({ name: 's', help: 'x', ...options })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_OPTION' }));
    }
    const summary = registry.summary({ name: 's', help: 'x' });
    expect(() => summary.observe(Number.NaN)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_VALUE' }));
    expect(summary.labels({}).count).toBe(0);
  });
});
