import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Gauge', () => {
  it('sets, increments and decrements', () => {
    const gauge = new Registry().gauge({ name: 'queue_depth', help: 'Jobs waiting.' });
    expect(gauge.value).toBe(0);
    gauge.set(10);
    gauge.inc();
    gauge.inc(4);
    gauge.dec();
    gauge.dec(20);
    expect(gauge.value).toBe(-6);
    expect(family(gauge, 'text')).toBe('# HELP queue_depth Jobs waiting.\n# TYPE queue_depth gauge\nqueue_depth -6\n');
    expect(family(gauge, 'openmetrics')).toBe('# TYPE queue_depth gauge\n# HELP queue_depth Jobs waiting.\nqueue_depth -6\n');
  });

  it('writes non-finite values the way Prometheus parsers read them', () => {
    const gauge = new Registry().gauge({ name: 'g', help: 'x', labelNames: ['k'] });
    gauge.labels({ k: 'pos' }).set(Infinity);
    gauge.labels({ k: 'neg' }).set(-Infinity);
    gauge.labels({ k: 'nan' }).set(Number.NaN);
    gauge.labels({ k: 'small' }).set(1.5e-9);
    expect(family(gauge, 'text').split('\n').slice(2, -1)).toEqual(['g{k="pos"} +Inf', 'g{k="neg"} -Inf', 'g{k="nan"} NaN', 'g{k="small"} 1.5e-9']);
  });

  it('rejects a value that is not a number', () => {
    const gauge = new Registry().gauge({ name: 'g', help: 'x' });
    expect(() => gauge.set('3' as unknown as number)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_VALUE' }));
    expect(gauge.value).toBe(0);
  });

  it('sets the current Unix time in seconds', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_250);
    const gauge = new Registry().gauge({ name: 'last_success_time_seconds', help: 'x', unit: 'seconds' });
    gauge.setToCurrentTime();
    expect(family(gauge, 'openmetrics')).toBe(
      '# TYPE last_success_time_seconds gauge\n# UNIT last_success_time_seconds seconds\n# HELP last_success_time_seconds x\nlast_success_time_seconds 1700000000.25\n',
    );
  });

  it('renders labelled series with default labels first', () => {
    const gauge = new Registry({ defaultLabels: { app: 'api', region: 'eu' } }).gauge({ name: 'pool', help: 'x', labelNames: ['state'] });
    gauge.labels({ state: 'idle' }).set(3);
    gauge.labels({ state: 'busy' }).set(1);
    expect(family(gauge, 'text')).toBe('# HELP pool x\n# TYPE pool gauge\npool{app="api",region="eu",state="idle"} 3\npool{app="api",region="eu",state="busy"} 1\n');
  });

  it('has no series until a labelled gauge is used, and the family still renders', () => {
    const gauge = new Registry().gauge({ name: 'g', help: 'x', labelNames: ['k'] });
    expect(gauge.seriesCount).toBe(0);
    expect(family(gauge, 'text')).toBe('# HELP g x\n# TYPE g gauge\n');
  });
});
