/**
 * The exposition checked by real third-party parsers: `promtool check metrics`
 * for the text format, and the strict OpenMetrics parser of Debian's
 * python3-prometheus-client for OpenMetrics.
 */
import { spawnSync } from 'node:child_process';
import { Counter as PromCounter, Gauge as PromGauge, Histogram as PromHistogram, Registry as PromRegistry, Summary as PromSummary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { Registry } from './registry.js';
import { registerRuntimeMetrics } from './runtime.js';
import { seededRandom as random } from '../../test/support/random.js';

/** Debian's interpreter, which has python3-prometheus-client (not a pyenv one on PATH). */
const PYTHON = '/usr/bin/python3';
const PARSE_OPENMETRICS = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = sys.stdin.buffer.read().decode('utf-8')
families = []
for family in text_string_to_metric_families(text):
    families.append({'name': family.name, 'type': family.type, 'unit': family.unit, 'help': family.documentation,
        'samples': [{'name': s.name, 'labels': s.labels, 'value': repr(s.value),
                     'exemplar': None if s.exemplar is None else {'labels': s.exemplar.labels, 'value': repr(s.exemplar.value)}}
                    for s in family.samples]})
json.dump(families, sys.stdout, ensure_ascii=True)
`;

interface ParsedFamily {
  name: string;
  type: string;
  unit: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: string; exemplar: { labels: Record<string, string>; value: string } | null }[];
}

const hasPromtool = await probe('promtool (Debian prometheus)', () => hasCommand('promtool', ['--version']));
const hasParser = await probe('python3-prometheus-client OpenMetrics parser', () => hasCommand(PYTHON, ['-c', 'import prometheus_client.openmetrics.parser']));

/** promtool's verdict: exit status and everything it printed. */
function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: Buffer.from(text, 'utf8'), encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function parseOpenMetrics(text: string): { status: number | null; families: ParsedFamily[]; error: string } {
  const result = spawnSync(PYTHON, ['-c', PARSE_OPENMETRICS], { input: Buffer.from(text, 'utf8'), encoding: 'utf8', timeout: 30_000, maxBuffer: 256 * 1024 * 1024 });
  const families = result.status === 0 ? (JSON.parse(result.stdout) as ParsedFamily[]) : [];
  return { status: result.status, families, error: result.stderr };
}

/** What a parser reads back for a label value we were given (lone surrogates become U+FFFD). */
function wellFormed(value: string): string {
  return Buffer.from(value, 'utf8').toString('utf8');
}

const NASTY_VALUES = [
  '',
  'plain',
  'q"uote',
  'back\\slash',
  'trailing\\',
  'new\nline',
  '\\n literally',
  '\\"',
  '"}',
  'cr\r tab\t nul\u0000 bell\u0007 del\u007f',
  'c1 \u0085 ls \u2028 ps \u2029 bom \uFEFF',
  'é 日本語 Ω',
  'emoji 🎉👩‍👩‍👧',
  'lone high \uD800',
  'lone low \uDC00 x',
  '# comment',
  'x # {trace_id="y"} 1 2',
  '{a="b"},c=d',
  ' leading and trailing ',
  'l'.repeat(5000),
];
const NASTY_HELP = 'Help with "quotes", \\ backslash,\nnewline, é 🎉 and \uD800';

function fullRegistry(): { registry: Registry; stop: () => void } {
  const registry = new Registry({ defaultLabels: { app: 'e2e "app"\\' } });
  const runtime = registerRuntimeMetrics(registry);
  const requests = registry.counter({ name: 'e2e_requests_total', help: NASTY_HELP, labelNames: ['route', 'method'] });
  NASTY_VALUES.forEach((route, index) => requests.labels({ route, method: 'GET' }).incWithExemplar(index + 1, `4bf92f3577b34da6a3ce929d0e0e47${String(index).padStart(2, '0')}`));
  const temperature = registry.gauge({ name: 'e2e_temperature_celsius', help: 'T.', unit: 'celsius', labelNames: ['probe'] });
  for (const [probe, value] of [['nan', Number.NaN], ['inf', Infinity], ['minus_inf', -Infinity], ['cold', -40.5], ['tiny', 1e-300]] as const) temperature.labels({ probe }).set(value);
  const duration = registry.histogram({ name: 'e2e_request_duration_seconds', help: 'D.', unit: 'seconds', labelNames: ['route'], buckets: [0.01, 0.1, 1, 10] });
  for (const route of NASTY_VALUES.slice(0, 8)) {
    const series = duration.labels({ route });
    series.observe(0.005);
    series.observeWithExemplar(0.5, 'trace-half');
    series.observeWithExemplar(100, 'trace-slow');
  }
  const delta = registry.histogram({ name: 'e2e_delta', help: 'Negative buckets.', buckets: [-1, 0, 1] });
  delta.observe(-0.5);
  delta.observe(3);
  const size = registry.summary({ name: 'e2e_payload_size_bytes', help: 'S.', unit: 'bytes', labelNames: ['model'], percentiles: [0, 0.5, 0.99, 1] });
  for (let value = 1; value <= 1000; value++) size.labels({ model: 'mlp "v2"' }).observe(value);
  size.labels({ model: 'empty' });
  registry.info({ name: 'e2e_build', help: 'Build.', labelNames: ['version', 'commit'] }).set({ version: '1.2.3\n', commit: 'a"b\\c' });
  const mode = registry.stateSet({ name: 'e2e_mode', help: 'Mode.', labelNames: ['model'], states: ['idle', 'serving "hot"', 'new\nline'] });
  mode.labels({ model: 'mlp' }).set('serving "hot"');
  registry.gauge({ name: 'e2e_unused', help: 'No series yet.', labelNames: ['k'] });
  const capped = registry.counter({ name: 'e2e_capped_total', help: 'Capped.', labelNames: ['path'], maxSeries: 2 });
  for (const path of ['/a', '/b', '/c', '/d', '/e']) capped.labels({ path }).inc();

  const promRegistry = new PromRegistry();
  new PromCounter({ name: 'pc_jobs_total', help: 'PC "jobs".', labelNames: ['queue'], registers: [promRegistry] }).inc({ queue: 'a"b\nc' }, 2);
  new PromGauge({ name: 'pc_depth', help: 'Depth.', registers: [promRegistry] }).set(4);
  new PromHistogram({ name: 'pc_latency_seconds', help: 'L.', buckets: [0.1, 1], registers: [promRegistry] }).observe(0.3);
  new PromSummary({ name: 'pc_size_bytes', help: 'S.', percentiles: [0.5], registers: [promRegistry] }).observe(3);
  registry.mergePromClient(promRegistry);
  return { registry, stop: () => runtime.stop() };
}

describe.skipIf(!hasPromtool)('promtool check metrics', () => {
  it('rejects broken exposition (the check is not vacuous)', () => {
    expect(promtool('# HELP x X.\n# TYPE x gauge\nx{a="unescaped"quote"} 1\n').status).not.toBe(0);
    expect(promtool('# HELP x_total X.\n# TYPE x_total gauge\nx_total 1\n').output).toContain('non-counter metrics should not have "_total" suffix');
  });

  it('accepts every metric type, runtime metrics, nasty labels and a merged prom-client registry, printing nothing', async () => {
    const { registry, stop } = fullRegistry();
    try {
      const text = await registry.metrics('text');
      expect(text).toContain('e2e_requests_total{app=');
      const verdict = promtool(text);
      expect(verdict.output).toBe('');
      expect(verdict.status).toBe(0);
    } finally {
      stop();
    }
  });
});

describe.skipIf(!hasParser)('strict OpenMetrics parser (python3-prometheus-client)', () => {
  it('rejects broken exposition (the parser is not vacuous)', () => {
    expect(parseOpenMetrics('# TYPE x gauge\nx 1\n').status).not.toBe(0); // no # EOF
    expect(parseOpenMetrics('# TYPE x counter\nx_total -1\n# EOF\n').status).not.toBe(0);
  });

  it('parses every family, with exemplars, and reads back every nasty label value', async () => {
    const { registry, stop } = fullRegistry();
    try {
      const text = await registry.metrics('openmetrics');
      const parsed = parseOpenMetrics(text);
      expect(parsed.error).toBe('');
      expect(parsed.status).toBe(0);
      const byName = new Map(parsed.families.map((family) => [family.name, family]));
      const expected: Record<string, [type: string, unit: string]> = {
        lookout_series_overflow: ['counter', ''],
        lookout_collect_errors: ['counter', ''],
        e2e_requests: ['counter', ''],
        e2e_temperature_celsius: ['gauge', 'celsius'],
        e2e_request_duration_seconds: ['histogram', 'seconds'],
        e2e_delta: ['histogram', ''],
        e2e_payload_size_bytes: ['summary', 'bytes'],
        e2e_build: ['info', ''],
        e2e_mode: ['stateset', ''],
        e2e_unused: ['gauge', ''],
        e2e_capped: ['counter', ''],
        process_cpu_seconds: ['counter', 'seconds'],
        process_resident_memory_bytes: ['gauge', 'bytes'],
        nodejs_eventloop_lag_seconds: ['gauge', 'seconds'],
        nodejs_eventloop_utilization_ratio: ['gauge', 'ratio'],
        nodejs_gc_duration_seconds: ['histogram', 'seconds'],
        nodejs_version: ['info', ''],
        pc_jobs: ['counter', ''],
        pc_depth: ['gauge', ''],
        pc_latency_seconds: ['histogram', ''],
        pc_size_bytes: ['summary', ''],
      };
      for (const [name, [type, unit]] of Object.entries(expected)) {
        expect(byName.get(name)?.type, name).toBe(type);
        expect(byName.get(name)?.unit, name).toBe(unit);
      }
      const requests = byName.get('e2e_requests')!;
      expect(requests.help).toBe(wellFormed(NASTY_HELP));
      expect(new Set(requests.samples.map((sample) => sample.labels['route']))).toEqual(new Set(NASTY_VALUES.map(wellFormed)));
      expect(requests.samples.every((sample) => sample.labels['app'] === 'e2e "app"\\')).toBe(true);
      expect(requests.samples.every((sample) => sample.exemplar?.labels['trace_id']?.startsWith('4bf92f3577b34da6a3ce929d0e0e47'))).toBe(true);
      const buckets = byName.get('e2e_request_duration_seconds')!.samples.filter((sample) => sample.exemplar !== null);
      expect(buckets.map((sample) => sample.labels['le'])).toContain('+Inf');
      expect(buckets.map((sample) => sample.exemplar!.labels['trace_id'])).toContain('trace-slow');
      expect(byName.get('e2e_delta')!.samples.map((sample) => sample.name)).not.toContain('e2e_delta_sum');
      expect(byName.get('e2e_build')!.samples[0]!.labels).toMatchObject({ version: '1.2.3\n', commit: 'a"b\\c' });
      expect(byName.get('e2e_mode')!.samples.map((sample) => sample.labels['e2e_mode'])).toEqual(['idle', 'serving "hot"', 'new\nline']);
      expect(byName.get('e2e_capped')!.samples.map((sample) => sample.labels['path'])).toEqual(['/a', '/b', '__overflow__']);
      expect(byName.get('lookout_series_overflow')!.samples).toEqual([expect.objectContaining({ labels: { app: 'e2e "app"\\', metric: 'e2e_capped' }, value: '3' })]);
    } finally {
      stop();
    }
  });
});


function randomLabelValue(next: () => number): string {
  const roll = next();
  const length = roll < 0.02 ? 1000 + Math.floor(next() * 20_000) : Math.floor(next() * 40);
  let value = '';
  for (let index = 0; index < length; index++) {
    const kind = next();
    if (kind < 0.25) value += String.fromCharCode(0x20 + Math.floor(next() * 95)); // printable ASCII
    else if (kind < 0.4) value += '"\\\n{}=,# '[Math.floor(next() * 10)]!;
    else if (kind < 0.5) value += String.fromCharCode(Math.floor(next() * 0x20)); // C0 controls, NUL included
    else if (kind < 0.55) value += String.fromCharCode(0x7f + Math.floor(next() * 0x21)); // DEL and C1 controls
    else if (kind < 0.75) value += String.fromCharCode(0xa0 + Math.floor(next() * (0xd800 - 0xa0))); // BMP below surrogates
    else if (kind < 0.8) value += String.fromCharCode(0xe000 + Math.floor(next() * 0x2000)); // BMP above surrogates
    else if (kind < 0.9) value += String.fromCodePoint(0x10000 + Math.floor(next() * 0x100000)); // astral
    else value += String.fromCharCode(0xd800 + Math.floor(next() * 0x800)); // lone surrogate halves
  }
  return value;
}

describe.skipIf(!hasPromtool || !hasParser)('fuzz: 2,000 random label values', () => {
  it('promtool and the OpenMetrics parser accept them all and read every value back', async () => {
    const seed = Number(process.env['LOOKOUT_FUZZ_SEED'] ?? Date.now() % 1_000_000);
    console.log(`fuzz seed ${seed} (replay with LOOKOUT_FUZZ_SEED=${seed})`);
    const next = random(seed);
    const values = Array.from({ length: 2000 }, () => randomLabelValue(next));
    const registry = new Registry();
    const counter = registry.counter({ name: 'fuzz_values_total', help: `Fuzz: ${randomLabelValue(next)}`, labelNames: ['value'], maxSeries: 5000 });
    const histogram = registry.histogram({ name: 'fuzz_seconds', help: `Fuzz: ${randomLabelValue(next)}`, labelNames: ['value'], buckets: [1], maxSeries: 5000 });
    values.forEach((value, index) => {
      counter.labels({ value }).incWithExemplar(1, `t${index}`);
      if (index % 10 === 0) histogram.labels({ value }).observeWithExemplar(index % 3, `t${index}`);
    });

    const text = await registry.metrics('text');
    const verdict = promtool(text);
    expect(verdict.output).toBe('');
    expect(verdict.status).toBe(0);

    const parsed = parseOpenMetrics(await registry.metrics('openmetrics'));
    expect(parsed.error).toBe('');
    expect(parsed.status).toBe(0);
    const fuzz = parsed.families.find((family) => family.name === 'fuzz_values')!;
    const expected = new Set(values.map(wellFormed));
    expect(counter.seriesCount).toBe(expected.size);
    expect(fuzz.samples).toHaveLength(expected.size);
    expect(new Set(fuzz.samples.map((sample) => sample.labels['value']))).toEqual(expected);
    console.log(`fuzz: ${values.length} values (${expected.size} distinct, longest ${Math.max(...values.map((value) => value.length))} chars), ${text.length} chars of text accepted`);
  });
});
