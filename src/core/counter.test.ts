import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

describe('Counter', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_700_000_000_500);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('adds _total to the samples and keeps the family name without it', () => {
    const registry = new Registry();
    const withSuffix = registry.counter({ name: 'jobs_total', help: 'Jobs done.' });
    const without = registry.counter({ name: 'tasks', help: 'Tasks done.' });
    expect(withSuffix.name).toBe('jobs');
    expect(without.name).toBe('tasks');
    withSuffix.inc();
    without.inc(2);
    expect(family(withSuffix, 'text')).toBe('# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 1\n');
    expect(family(without, 'text')).toBe('# HELP tasks_total Tasks done.\n# TYPE tasks_total counter\ntasks_total 2\n');
    expect(family(withSuffix, 'openmetrics')).toBe('# TYPE jobs counter\n# HELP jobs Jobs done.\njobs_total 1\n');
    expect(registry.get('jobs_total')).toBe(withSuffix);
    expect(registry.get('jobs')).toBe(withSuffix);
  });

  it('renders 0 before the first increment, and a UNIT line only in OpenMetrics', () => {
    const cpu = new Registry().counter({ name: 'cpu_seconds_total', help: 'CPU.', unit: 'seconds' });
    expect(family(cpu, 'text')).toBe('# HELP cpu_seconds_total CPU.\n# TYPE cpu_seconds_total counter\ncpu_seconds_total 0\n');
    expect(family(cpu, 'openmetrics')).toBe('# TYPE cpu_seconds counter\n# UNIT cpu_seconds seconds\n# HELP cpu_seconds CPU.\ncpu_seconds_total 0\n');
  });

  it('only goes up', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x' });
    counter.inc();
    counter.inc(2.5);
    counter.inc(0);
    expect(counter.value).toBe(3.5);
    for (const bad of [-1, Number.NaN, -Infinity]) {
      expect(() => counter.inc(bad)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_COUNTER_DECREASE' }));
    }
    expect(counter.value).toBe(3.5);
  });

  it('mirrors an external total with setTotal, never negative', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x' });
    const series = counter.labels({});
    series.setTotal(12.25);
    expect(counter.value).toBe(12.25);
    expect(() => series.setTotal(-1)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_COUNTER_DECREASE' }));
    expect(family(counter, 'text')).toContain('\nc_total 12.25\n');
  });

  it('binds each label set once, in creation order', () => {
    const registry = new Registry({ defaultLabels: { app: 'api' } });
    const requests = registry.counter({ name: 'requests_total', help: 'Requests.', labelNames: ['method', 'status'] });
    const ok = requests.labels({ method: 'GET', status: '200' });
    expect(requests.labels({ status: '200', method: 'GET' })).toBe(ok);
    ok.inc();
    ok.inc();
    requests.labels({ method: 'POST', status: '500' }).inc(3);
    expect(family(requests, 'text')).toBe(
      '# HELP requests_total Requests.\n# TYPE requests_total counter\n' +
        'requests_total{app="api",method="GET",status="200"} 2\n' +
        'requests_total{app="api",method="POST",status="500"} 3\n',
    );
    expect(requests.seriesCount).toBe(2);
  });

  it('labels({}) on an unlabelled counter is the counter itself (one series, not two)', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x' });
    counter.labels({}).inc(4);
    counter.inc();
    expect(counter.seriesCount).toBe(1);
    expect(family(counter, 'text')).toBe('# HELP c_total x\n# TYPE c_total counter\nc_total 5\n');
  });

  it('removes and resets series', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x', labelNames: ['k'] });
    counter.labels({ k: 'a' }).inc();
    counter.labels({ k: 'b' }).inc();
    counter.remove({ k: 'a' });
    expect(family(counter, 'text')).toBe('# HELP c_total x\n# TYPE c_total counter\nc_total{k="b"} 1\n');
    expect(counter.labels({ k: 'a' }).value).toBe(0);
    counter.reset();
    expect(counter.seriesCount).toBe(0);
    const unlabelled = new Registry().counter({ name: 'u', help: 'x' });
    unlabelled.inc(3);
    unlabelled.reset();
    expect(unlabelled.value).toBe(0);
    expect(family(unlabelled, 'text')).toBe('# HELP u_total x\n# TYPE u_total counter\nu_total 0\n');
  });

  it('carries an exemplar in OpenMetrics only', () => {
    const counter = new Registry().counter({ name: 'requests_total', help: 'R.', labelNames: ['route'] });
    const series = counter.labels({ route: '/users/:id' });
    series.inc();
    series.incWithExemplar(2, '4bf92f3577b34da6a3ce929d0e0e4736');
    expect(family(counter, 'openmetrics')).toBe(
      '# TYPE requests counter\n# HELP requests R.\n' +
        'requests_total{route="/users/:id"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 2 1700000000.5\n',
    );
    expect(family(counter, 'text')).toBe('# HELP requests_total R.\n# TYPE requests_total counter\nrequests_total{route="/users/:id"} 3\n');
    // The latest exemplar wins.
    vi.setSystemTime(1_700_000_001_000);
    series.incWithExemplar(1, 'abc');
    expect(family(counter, 'openmetrics')).toContain('requests_total{route="/users/:id"} 4 # {trace_id="abc"} 1 1700000001\n');
  });

  it('bounds and escapes exemplar trace ids', () => {
    const counter = new Registry().counter({ name: 'c', help: 'x' });
    const series = counter.labels({});
    series.incWithExemplar(1, 'a'.repeat(200));
    expect(series.exemplarTraceId).toBe('a'.repeat(64));
    series.incWithExemplar(1, 'q"\\\n');
    expect(family(counter, 'openmetrics')).toContain('c_total 2 # {trace_id="q\\"\\\\\\n"} 1 1700000000.5\n');
    expect(() => series.incWithExemplar(-1, 't')).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_COUNTER_DECREASE' }));
  });
});
