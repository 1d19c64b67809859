import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry as PromRegistry, Summary as PromSummary, collectDefaultMetrics } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Registry } from './registry.js';
import { registerRuntimeMetrics } from './runtime.js';

function promClientRegistry(): PromRegistry {
  const registry = new PromRegistry();
  const jobs = new PromCounter({ name: 'pc_jobs_total', help: 'Jobs "done"\nby queue.', labelNames: ['queue'], registers: [registry] });
  jobs.inc({ queue: 'a"b\\c\nd é' }, 3);
  new PromGauge({ name: 'pc_temperature_celsius', help: 'Temperature.', registers: [registry] }).set(-2.5);
  new PromHistogram({ name: 'pc_latency_seconds', help: 'Latency.', buckets: [0.1, 1], labelNames: ['route'], registers: [registry] }).observe({ route: '/x' }, 0.5);
  new PromSummary({ name: 'pc_size_bytes', help: 'Size.', percentiles: [0.5, 1], registers: [registry] }).observe(10);
  return registry;
}

/** The block of lines from `# HELP name` or `# TYPE name` up to the next family. */
function familyBlock(text: string, name: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `));
  if (start < 0) throw new Error(`family ${name} not found`);
  let end = start + 1;
  while (end < lines.length && (!lines[end]!.startsWith('# ') || lines[end]!.split(' ')[2] === name) && lines[end] !== '') end++;
  return lines.slice(start, end).join('\n');
}

describe('mergePromClient', () => {
  it('renders a prom-client registry in the text format', async () => {
    const registry = new Registry();
    registry.mergePromClient(promClientRegistry());
    const text = await registry.metrics('text');
    expect(familyBlock(text, 'pc_jobs_total')).toBe(
      '# HELP pc_jobs_total Jobs "done"\\nby queue.\n# TYPE pc_jobs_total counter\npc_jobs_total{queue="a\\"b\\\\c\\nd é"} 3',
    );
    expect(familyBlock(text, 'pc_temperature_celsius')).toBe('# HELP pc_temperature_celsius Temperature.\n# TYPE pc_temperature_celsius gauge\npc_temperature_celsius -2.5');
    expect(familyBlock(text, 'pc_latency_seconds')).toBe(
      '# HELP pc_latency_seconds Latency.\n# TYPE pc_latency_seconds histogram\n' +
        'pc_latency_seconds_bucket{le="0.1",route="/x"} 0\n' +
        'pc_latency_seconds_bucket{le="1.0",route="/x"} 1\n' +
        'pc_latency_seconds_bucket{le="+Inf",route="/x"} 1\n' +
        'pc_latency_seconds_sum{route="/x"} 0.5\n' +
        'pc_latency_seconds_count{route="/x"} 1',
    );
    expect(familyBlock(text, 'pc_size_bytes')).toBe(
      '# HELP pc_size_bytes Size.\n# TYPE pc_size_bytes summary\npc_size_bytes{quantile="0.5"} 10\npc_size_bytes{quantile="1.0"} 10\npc_size_bytes_sum 10\npc_size_bytes_count 1',
    );
    expect(text).not.toContain('# EOF');
  });

  it('renders it in OpenMetrics: counter families without _total, escaped HELP, # EOF last', async () => {
    const registry = new Registry();
    registry.counter({ name: 'own_total', help: 'Own.' }).inc();
    registry.mergePromClient(promClientRegistry());
    const text = await registry.metrics('openmetrics');
    expect(familyBlock(text, 'pc_jobs')).toBe('# TYPE pc_jobs counter\n# HELP pc_jobs Jobs \\"done\\"\\nby queue.\npc_jobs_total{queue="a\\"b\\\\c\\nd é"} 3');
    expect(familyBlock(text, 'pc_latency_seconds')).toContain('\npc_latency_seconds_bucket{le="1.0",route="/x"} 1\n');
    expect(familyBlock(text, 'pc_size_bytes')).toContain('\npc_size_bytes{quantile="1.0"} 10\n');
    expect(text.indexOf('own_total 1')).toBeLessThan(text.indexOf('pc_jobs_total'));
    expect(text.endsWith('pc_size_bytes_count 1\n# EOF\n')).toBe(true);
    expect(text.match(/# EOF/g)).toHaveLength(1);
  });

  it('skips families whose names clash with lookout\'s, counts them, in the same scrape', async () => {
    const registry = new Registry();
    registry.counter({ name: 'jobs_total', help: 'lookout jobs' }).inc(7);
    registry.info({ name: 'build', help: 'lookout build', labelNames: ['version'] }).set({ version: '2' });
    registry.gauge({ name: 'temp', help: 'lookout temp' }).set(1);
    const promRegistry = new PromRegistry();
    new PromCounter({ name: 'jobs_total', help: 'pc jobs', registers: [promRegistry] }).inc(100);
    new PromGauge({ name: 'build_info', help: 'pc build', registers: [promRegistry] }).set(1);
    new PromGauge({ name: 'temp', help: 'pc temp', registers: [promRegistry] }).set(99);
    new PromGauge({ name: 'pc_only', help: 'pc only', registers: [promRegistry] }).set(5);
    registry.mergePromClient(promRegistry);
    for (const format of ['text', 'openmetrics'] as const) {
      const text = await registry.metrics(format);
      expect(text).not.toContain('pc jobs');
      expect(text).not.toContain('pc build');
      expect(text).not.toContain('pc temp');
      expect(text).toContain('\njobs_total 7\n');
      expect(text).toContain('\ntemp 1\n');
      expect(text).toContain('\npc_only 5\n');
      expect(text.match(/^# TYPE (jobs|jobs_total|build|build_info|temp) /gm)).toHaveLength(3);
    }
    const text = await registry.metrics();
    // Three scrapes so far, each counting each clash once.
    for (const name of ['jobs_total', 'build_info', 'temp']) expect(text).toContain(`lookout_collect_errors_total{metric="${name}"} 3\n`);
  });

  it('writes a family once when two merged registries both have it', async () => {
    const registry = new Registry();
    for (const value of [1, 2]) {
      const promRegistry = new PromRegistry();
      new PromGauge({ name: 'shared_value', help: 'Shared.', registers: [promRegistry] }).set(value);
      registry.mergePromClient(promRegistry);
    }
    const text = await registry.metrics();
    expect(text.match(/^shared_value /gm)).toEqual(['shared_value ']);
    expect(text).toContain('\nshared_value 1\n');
    expect(text).toContain('lookout_collect_errors_total{metric="shared_value"} 1\n');
  });

  it('counts a failing prom-client registry and renders everything else', async () => {
    const registry = new Registry();
    registry.gauge({ name: 'still_here', help: 'x' }).set(1);
    registry.mergePromClient({ getMetricsAsJSON: () => Promise.reject(new Error('collect failed')) });
    registry.mergePromClient(promClientRegistry());
    const text = await registry.metrics('openmetrics');
    expect(text).toContain('lookout_collect_errors_total{metric="prom-client"} 1\n');
    expect(text).toContain('\nstill_here 1\n');
    expect(text).toContain('\npc_jobs_total{');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('merges prom-client default metrics next to lookout runtime metrics without duplicate families', async () => {
    const promRegistry = new PromRegistry();
    collectDefaultMetrics({ register: promRegistry });
    const registry = new Registry();
    const runtime = registerRuntimeMetrics(registry);
    try {
      registry.mergePromClient(promRegistry);
      for (const format of ['text', 'openmetrics'] as const) {
        const text = await registry.metrics(format);
        const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]!);
        expect(new Set(families).size).toBe(families.length);
        // lookout's own version of the clashing ones wins.
        expect(text).toContain('# HELP nodejs_version');
        expect(text).not.toContain('Node.js version info.');
        expect(text).toContain('nodejs_eventloop_lag_p50_seconds');
      }
      expect(await registry.metrics()).toMatch(/^lookout_collect_errors_total\{metric="process_cpu_user_seconds_total"\} \d+$/m);
    } finally {
      runtime.stop();
    }
  });
});
