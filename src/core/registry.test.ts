import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { OVERFLOW_LABEL_VALUE } from './metric.js';
import { Registry } from './registry.js';

const SELF_METRICS_TEXT =
  '# HELP lookout_series_overflow_total Calls that resolved to a metric\'s overflow series because the metric had reached its series cap.\n' +
  '# TYPE lookout_series_overflow_total counter\n' +
  '# HELP lookout_collect_errors_total Collect callbacks or merged registries that failed during a render.\n' +
  '# TYPE lookout_collect_errors_total counter\n';

describe('Registry', () => {
  it('renders its own metrics, then every metric in registration order', async () => {
    const registry = new Registry();
    registry.gauge({ name: 'b_gauge_value', help: 'B.' }).set(2);
    registry.counter({ name: 'a_total', help: 'A.' }).inc();
    expect(await registry.metrics()).toBe(`${SELF_METRICS_TEXT}# HELP b_gauge_value B.\n# TYPE b_gauge_value gauge\nb_gauge_value 2\n# HELP a_total A.\n# TYPE a_total counter\na_total 1\n`);
    expect(registry.list().map((metric) => metric.name)).toEqual(['lookout_series_overflow', 'lookout_collect_errors', 'b_gauge_value', 'a']);
  });

  it('ends OpenMetrics with exactly one # EOF and text with none', async () => {
    const registry = new Registry();
    registry.counter({ name: 'a_total', help: 'A.' }).inc();
    const openMetrics = await registry.metrics('openmetrics');
    expect(openMetrics.endsWith('a_total 1\n# EOF\n')).toBe(true);
    expect(openMetrics.match(/# EOF/g)).toHaveLength(1);
    expect(await registry.metrics('text')).not.toContain('# EOF');
    expect(await registry.metrics()).toBe(await registry.metrics('text'));
  });

  it('finds, lists and removes metrics by family or sample name', async () => {
    const registry = new Registry();
    const jobs = registry.counter({ name: 'jobs_total', help: 'x' });
    expect(registry.get('jobs_total')).toBe(jobs);
    expect(registry.get('jobs')).toBe(jobs);
    expect(registry.get('nope')).toBeUndefined();
    expect(registry.remove('jobs_total')).toBe(true);
    expect(registry.remove('jobs_total')).toBe(false);
    expect(await registry.metrics()).not.toContain('jobs');
    // The name is free again.
    registry.gauge({ name: 'jobs', help: 'y' }).set(1);
    expect(await registry.metrics()).toContain('\njobs 1\n');
  });

  it('runs collectors and metric collect callbacks before rendering, awaiting async ones', async () => {
    const registry = new Registry();
    let pool = 3;
    const size = registry.gauge({ name: 'pool_size', help: 'x' });
    registry.addCollector(() => size.set(pool));
    registry.gauge({
      name: 'later_value',
      help: 'x',
      collect: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        registry.get('later_value')!.labels({}).set(pool * 10);
      },
    });
    expect(await registry.metrics()).toContain('\npool_size 3\n# HELP later_value x\n# TYPE later_value gauge\nlater_value 30\n');
    pool = 4;
    expect(await registry.metrics()).toContain('\npool_size 4\n# HELP later_value x\n# TYPE later_value gauge\nlater_value 40\n');
  });

  it('counts a failing collector or collect callback and still renders', async () => {
    const registry = new Registry();
    registry.addCollector(() => {
      throw new Error('boom');
    });
    registry.addCollector(() => Promise.reject(new Error('async boom')));
    registry.gauge({ name: 'flaky', help: 'x', collect: () => { throw new Error('no'); } }).set(7);
    const text = await registry.metrics();
    expect(text).toContain('lookout_collect_errors_total{metric="collector"} 2\n');
    expect(text).toContain('lookout_collect_errors_total{metric="flaky"} 1\n');
    expect(text).toContain('\nflaky 7\n');
  });

  it('streams chunks of about 64 KB that add up to the whole answer', async () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: 'g', help: 'x', labelNames: ['k'], maxSeries: 20_000 });
    for (let index = 0; index < 10_000; index++) gauge.labels({ k: `value-${index}` }).set(index);
    const chunks: string[] = [];
    for await (const chunk of registry.render('openmetrics')) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.length).toBeGreaterThanOrEqual(64 * 1024);
      expect(chunk.length).toBeLessThan(80 * 1024);
      expect(chunk.endsWith('\n')).toBe(true);
    }
    expect(chunks.join('')).toBe(await registry.metrics('openmetrics'));
    expect(chunks.join('').split('\n').filter((line) => line.startsWith('g{'))).toHaveLength(10_000);
  });
});

describe('series cap', () => {
  it('folds label sets beyond the cap into one overflow series and counts each fold', async () => {
    const registry = new Registry({ maxSeriesPerMetric: 2 });
    const requests = registry.counter({ name: 'requests_total', help: 'x', labelNames: ['route', 'method'] });
    const first = requests.labels({ route: '/a', method: 'GET' });
    requests.labels({ route: '/b', method: 'GET' }).inc();
    const overflow = requests.labels({ route: '/c', method: 'GET' });
    expect(requests.labels({ route: '/d', method: 'POST' })).toBe(overflow);
    expect(overflow.labelValues).toEqual([OVERFLOW_LABEL_VALUE, OVERFLOW_LABEL_VALUE]);
    overflow.inc(5);
    // Known label sets keep working after the cap is hit.
    expect(requests.labels({ route: '/a', method: 'GET' })).toBe(first);
    first.inc();
    expect(requests.seriesCount).toBe(3);
    const text = await registry.metrics();
    expect(text).toContain(
      'requests_total{route="/a",method="GET"} 1\nrequests_total{route="/b",method="GET"} 1\nrequests_total{route="__overflow__",method="__overflow__"} 5\n',
    );
    expect(text).toContain('lookout_series_overflow_total{metric="requests"} 2\n');
  });

  it('lets a metric set its own cap over the registry default', async () => {
    const registry = new Registry({ maxSeriesPerMetric: 1 });
    const gauge = registry.gauge({ name: 'g', help: 'x', labelNames: ['k'], maxSeries: 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) gauge.labels({ k }).set(1);
    expect(gauge.maxSeries).toBe(3);
    expect(gauge.seriesCount).toBe(4);
    expect(await registry.metrics()).toContain('lookout_series_overflow_total{metric="g"} 2\n');
  });

  it('starts counting again after reset', async () => {
    const registry = new Registry();
    const gauge = registry.gauge({ name: 'g', help: 'x', labelNames: ['k'], maxSeries: 1 });
    gauge.labels({ k: 'a' }).set(1);
    gauge.labels({ k: 'b' }).set(2);
    gauge.reset();
    gauge.labels({ k: 'c' }).set(3);
    expect(gauge.seriesCount).toBe(1);
    expect(await registry.metrics()).toContain('\ng{k="c"} 3\n');
  });

  it('keeps the series count constant and the heap flat for 100,000 distinct label values', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = new Registry();
    const histogram = registry.histogram({ name: 'http_request_duration_seconds', help: 'x', labelNames: ['route'], maxSeries: 100 });
    for (let index = 0; index < 100; index++) histogram.labels({ route: `/known/${index}` }).observe(0.1);
    await registry.metrics();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let index = 0; index < 100_000; index++) histogram.labels({ route: `/junk/${index}/${Math.random()}` }).observe(0.01);
    const text = await registry.metrics();
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`100,000 junk label values on a 100-series cap: ${histogram.seriesCount} series, heap growth ${(growth / 1024).toFixed(0)} KiB`);
    expect(histogram.seriesCount).toBe(101);
    expect(text).toContain('lookout_series_overflow_total{metric="http_request_duration_seconds"} 100000\n');
    expect(text).toContain('http_request_duration_seconds_count{route="__overflow__"} 100000\n');
    expect(text.split('\n').filter((line) => line.startsWith('http_request_duration_seconds_count{'))).toHaveLength(101);
    expect(growth).toBeLessThan(1024 * 1024);
  });
});
