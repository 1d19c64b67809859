/**
 * Native histograms: the cost of `observe` (native vs classic, same process,
 * interleaved rounds) and a scrape of 10,000 native series in protobuf vs
 * text (time, bytes, longest event-loop block), beside prom-client's classic
 * text render of the same 10,000 label sets.
 *
 *   npx tsx bench/native.ts          (BENCH_ONLY=native npm run bench writes BENCHMARKS.md)
 */
import { loadavg } from 'node:os';
import client from 'prom-client';
import { Registry } from '../src/index.js';
import { emit, median, ROUNDS, spread, writeSection } from './lib.js';

const OPS = 1_000_000;
const SERIES = 10_000;

function timeNs(body: () => void): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / OPS;
}

/** Latency-like values spread over ~3 decades, precomputed so the loop measures observe only. */
const VALUES = Float64Array.from({ length: 4096 }, (_, index) => 0.0005 * 1.0017 ** index);

function observeSetup(): Record<string, () => number> {
  const registry = new Registry();
  const native = registry.histogram({ name: 'native_seconds', help: 'n', native: { schema: 3 } });
  const nativeOnly = native.labels({} as never);
  const both = registry.histogram({ name: 'both_seconds', help: 'b', native: true, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] }).labels({} as never);
  const classic = registry.histogram({ name: 'classic_seconds', help: 'c' }).labels({} as never);
  const promRegistry = new client.Registry();
  const prom = new client.Histogram({ name: 'classic_seconds', help: 'c', registers: [promRegistry] });
  // The floor: the same loop reading the same values into a typed-array cell (a captured `let`
  // would allocate a heap number per addition), so each row shows what observe adds to it.
  const sink = new Float64Array(1);
  return {
    floor: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) sink[0]! += VALUES[index & 4095]!;
    }),
    native: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) nativeOnly.observe(VALUES[index & 4095]!);
    }),
    nativeAndClassic: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) both.observe(VALUES[index & 4095]!);
    }),
    classic: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) classic.observe(VALUES[index & 4095]!);
    }),
    promClient: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) prom.observe(VALUES[index & 4095]!);
    }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Render time, bytes, and the longest gap between 1 ms timer ticks during it (includes the timer's own 1 ms). */
async function measure(render: () => Promise<number>): Promise<{ ms: number; maxBlockMs: number; bytes: number }> {
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await sleep(5);
  maxGap = 0;
  last = performance.now();
  const start = performance.now();
  const bytes = await render();
  const ms = performance.now() - start;
  await sleep(5);
  clearInterval(ticker);
  return { ms, maxBlockMs: maxGap, bytes };
}

function scrapeSetup(): Record<string, () => Promise<number>> {
  const registry = new Registry();
  const histogram = registry.histogram({ name: 'api_request_duration_seconds', help: 'd', labelNames: ['route', 'status'], maxSeries: SERIES, native: { schema: 3 } });
  const promRegistry = new client.Registry();
  const promHistogram = new client.Histogram({ name: 'api_request_duration_seconds', help: 'd', labelNames: ['route', 'status'], registers: [promRegistry] });
  for (let index = 0; index < SERIES; index++) {
    const labels = { route: `/route/${index % 2500}`, status: String(200 + (index % 4)) };
    // 20 observations per series over two decades: ~20 populated native buckets each.
    for (let step = 0; step < 20; step++) {
      const value = 0.001 * 1.26 ** ((index + step * 7) % 20);
      histogram.labels(labels).observe(value);
      promHistogram.observe(labels, value);
    }
  }
  return {
    protobuf: async () => {
      let bytes = 0;
      for await (const chunk of registry.renderProtobuf()) bytes += chunk.length;
      return bytes;
    },
    text: async () => Buffer.byteLength(await registry.metrics('text')),
    promClient: async () => Buffer.byteLength(await promRegistry.metrics()),
  };
}

/** Runs the native benchmarks; returns markdown table rows. */
export async function runNativeBench(): Promise<string[]> {
  const observe = observeSetup();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(observe).map((name) => [name, []]));
  for (const run of Object.values(observe)) run();
  for (let round = 0; round < ROUNDS; round++) for (const [name, run] of Object.entries(observe)) times[name]!.push(run());
  emit({ bench: 'native-observe', unit: 'ns/op', ...Object.fromEntries(Object.entries(times).map(([name, values]) => [name, median(values)])) });

  const scrape = scrapeSetup();
  const renders: Record<string, { ms: number; maxBlockMs: number; bytes: number }[]> = Object.fromEntries(Object.keys(scrape).map((name) => [name, []]));
  for (let warm = 0; warm < 3; warm++) for (const run of Object.values(scrape)) await run();
  for (let round = 0; round < ROUNDS * 2; round++) for (const [name, run] of Object.entries(scrape)) renders[name]!.push(await measure(run));
  const summary = (name: string) => {
    const runs = renders[name]!;
    return { ms: median(runs.map((run) => run.ms)), block: median(runs.map((run) => run.maxBlockMs)), bytes: runs[0]!.bytes, spread: spread(runs.map((run) => run.ms), 1) };
  };
  const protobuf = summary('protobuf');
  const text = summary('text');
  const prom = summary('promClient');
  emit({ bench: 'native-scrape', series: SERIES, protobuf, text, promClient: prom });
  const ns = (name: string) => `${median(times[name]!).toFixed(1)} ns (${spread(times[name]!, 1)})`;
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  return [
    `| the loop alone, reading the same prepared values (floor) | ${ns('floor')} |`,
    `| \`observe\`, native only (schema 3) | ${ns('native')} |`,
    `| \`observe\`, native + 11 classic buckets | ${ns('nativeAndClassic')} |`,
    `| \`observe\`, classic only (11 buckets) | ${ns('classic')} |`,
    `| prom-client \`observe\` (11 buckets) | ${ns('promClient')} |`,
    `| scrape 10,000 native series, **protobuf** | ${protobuf.ms.toFixed(1)} ms (${protobuf.spread}), ${mb(protobuf.bytes)}, longest event-loop block ${protobuf.block.toFixed(1)} ms |`,
    `| same registry, text 0.0.4 (native shown as +Inf/sum/count) | ${text.ms.toFixed(1)} ms (${text.spread}), ${mb(text.bytes)}, longest block ${text.block.toFixed(1)} ms |`,
    `| prom-client, same label sets, classic text (11 buckets) | ${prom.ms.toFixed(1)} ms (${prom.spread}), ${mb(prom.bytes)}, longest block ${prom.block.toFixed(1)} ms |`,
  ];
}

/** Writes the BENCHMARKS.md section. */
export async function writeNativeSection(rows: readonly string[], machine: string): Promise<void> {
  await writeSection('native', [
    '## Native histograms: observe and the protobuf scrape',
    '',
    `${machine}. Same process, interleaved, ${ROUNDS} rounds of 1,000,000 observations each (of 4,096 values prepared in a Float64Array, 0.5 ms to 0.52 s, read in the loop; every row calls \`observe\` on a handle bound before the loop, lookout's from \`labels({})\`, prom-client's unlabelled histogram; the floor row is the same loop without \`observe\`); scrapes: ${ROUNDS * 2} rounds after 3 warm-ups, each of 10,000 series with ~20 populated native buckets (20 observations each). Median and min–max spread. Run under \`flock /tmp/cpu.lock\` on a 2-core machine shared with other work (1-minute load average ${loadavg()[0]!.toFixed(1)} when this section was written: the absolute figures are inflated by it, the rows of one run are interleaved and compare with each other).`,
    'Reproduce: `flock /tmp/cpu.lock env BENCH_ONLY=native npm run bench` (or `npx tsx bench/native.ts`).',
    '',
    '| what | figure |',
    '| --- | --- |',
    ...rows,
  ].join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await runNativeBench()) console.log(row);
}
