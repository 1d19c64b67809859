/**
 * `npm run bench`: every side-by-side benchmark in one run, written into
 * BENCHMARKS.md (each section between its markers) and printed as JSON lines.
 *
 *   npm run bench                          full run (5 rounds × 4 s per variant)
 *   BENCH_ROUNDS=3 BENCH_SECONDS=2 npm run bench   quicker, noisier
 *   BENCH_ONLY=micro,http npm run bench    a subset (micro, native, http, cluster, kpi, ml, slo; also lines: bench/lines.ts, kpi-embedded: bench/kpi-embedded.ts)
 *   npm run bench -- --node <path>         on another node binary (or BENCH_NODE=<path>)
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { EXTRA_VARIANTS_EVERYWHERE as EXTRA_VARIANTS, FIXED_YOUNG_FLAGS, FLAG_SETS, HTTP_TABLE_HEADER, MODE, NODE_FLAGS, runHttpBench } from './http.js';
import { runKpiEmbeddedBench } from './kpi-embedded.js';
import { runLinesBench } from './lines.js';
import { MICRO_TABLE_HEADER, runMicroBench } from './micro.js';
import { runMlApiBench } from './ml-api.js';
import { runMlBench } from './ml.js';
import { runSloScaleBench } from './slo-scale.js';
import { runNativeBench, writeNativeSection } from './native.js';
import { runClusterBench, writeClusterSection } from './cluster.js';
import { FRESH, LOADER_CPU, onBenchNode, PINNED, ROUNDS, SECONDS, SERVER_CPU, WARMUP_SECONDS, writeSection } from './lib.js';

// `--node <path>` or BENCH_NODE: the whole run (in-process parts and servers) on that binary.
const exitCode = await onBenchNode();
if (exitCode !== undefined) process.exit(exitCode);

const only = new Set((process.env['BENCH_ONLY'] ?? 'micro,native,http,cluster,kpi,ml,slo').split(','));

const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`;

if (only.has('micro')) {
  const rows = await runMicroBench();
  await writeSection('micro', [
    '## Micro: the hot path and the render, against prom-client 15',
    '',
    `${machine}. Same process, interleaved, ${ROUNDS} rounds of 1,000,000 operations (render: ${ROUNDS * 2} rounds after 5 warm-ups); median and min–max spread.`,
    'Reproduce: `BENCH_ONLY=micro npm run bench` (or `npx tsx bench/micro.ts`).',
    '',
    ...MICRO_TABLE_HEADER,
    ...rows,
  ].join('\n'));
}

if (only.has('native')) await writeNativeSection(await runNativeBench(), machine);

if (only.has('http')) {
  const rows = await runHttpBench();
  await writeSection('http', [
    '## HTTP throughput: hello-world `/users/:id`, bare vs + lookout vs + the usual peer',
    '',
    `${machine}. Each variant is its own server process started with ${NODE_FLAGS.length === 0 ? 'node\'s default flags, as users run it' : `\`${NODE_FLAGS.join(' ')}\``}${FLAG_SETS.length > 1 ? ` and, as extra rows, again with \`${FIXED_YOUNG_FLAGS.join(' ')}\` (a fixed young generation: this bench's setting until issue 25; V8 sizes the young generation by what a process allocates, which moves a hello-world by several per cent between processes)` : ''}; each server's JavaScript heap allocations are counted around its load (v8's GC profiler: what collections freed plus the used heap's growth) and given as bytes per request; autocannon (50 connections) runs in the benchmark process on 127.0.0.1; ${PINNED ? `servers are pinned to CPU ${SERVER_CPU} and the load generator to CPU ${LOADER_CPU} (\`taskset\`; unpinned, the scheduler sometimes put both on one CPU and halved a run)` : 'nothing pinned'}. ${ROUNDS} rounds of ${SECONDS} s per variant, ${FRESH ? `every server process started afresh for each round and warmed up for ${WARMUP_SECONDS} s (a process keeps whatever throughput its start gave it, JIT and heap layout included, so with one process per variant for the whole run that draw was made once and no number of rounds averaged it out; \`BENCH_PROCESSES=persistent\` for the old way)` : `one server process per variant for the whole run, warmed up for ${WARMUP_SECONDS} s`}, ${MODE === 'simultaneous' ? 'every variant of a round loaded at the same time on the server CPU, each with an equal share of the 50 connections, so whatever else slows the machine in that second slows every variant alike. The CPU ratio is the cost: the throughput ratio in this mode is an upper bound, because a cheaper server waits more often on the shared load generator and leaves CPU time to the others. The *calibration* row is the bare app plus a busy wait per request' : 'the variants of a round loaded one after another, the order rotated every round'}; median req/s with min–max spread. Each server's CPU time is read from /proc around its load (10 ms ticks): the rows also give bare's and the variant's CPU per request (medians) and the median of the per-round ratios of the two, the cost that the throughput ratio reflects when the server is the bottleneck. A round runs every variant back to back, so the ratio to bare is taken per round (a paired comparison) and the table gives the median of those ratios with their spread. Hono is measured two ways in the same rounds: \`instrument(app)\` (no middleware, the row's lookout figure) and the \`app.use('*', metrics())\` middleware.${EXTRA_VARIANTS.includes('floor') ? ' The *floor* rows are the bare app with lookout\'s mechanism doing nothing (its request listener wrapped and a subscriber on node\'s response-finish channel, each reading the clock): what any recorder that measures to the end of the response costs here.' : ''}`,
    `Reproduce: \`${MODE === 'simultaneous' ? 'BENCH_HTTP_MODE=simultaneous ' : ''}${EXTRA_VARIANTS.length > 0 ? `BENCH_EXTRA_VARIANTS=${EXTRA_VARIANTS.join(',')} ` : ''}${FLAG_SETS.length > 1 ? 'BENCH_FIXED_YOUNG=1 ' : ''}BENCH_ROUNDS=${ROUNDS} BENCH_SECONDS=${SECONDS} BENCH_ONLY=http npm run bench\` (or \`npx tsx bench/http.ts\`; \`BENCH_FRAMEWORKS=fastify\` for one; \`BENCH_NODE_FLAGS\`; \`BENCH_PIN=0\` unpinned${MODE === 'simultaneous' ? '' : '; `BENCH_HTTP_MODE=simultaneous` to load all variants at once and read their CPU per request'}).`,
    '',
    ...HTTP_TABLE_HEADER,
    ...rows,
  ].join('\n'));
}

if (only.has('ml')) {
  const ml = runMlBench();
  const mlApi = await runMlApiBench();
  await writeSection('ml', [
    '## Model monitoring (`lookout/ml`): `observe` on the request path',
    '',
    `${machine}. Same process, interleaved, ${ROUNDS} rounds of 1,000,000 observes over 1,024 prepared inputs (refresh: ${ROUNDS * 20} calls); median and min–max spread; load average while it ran ${loadavg().map((value) => value.toFixed(1)).join(' / ')} (1 / 5 / 15 min: other work on the machine slows the hot loop). Target (issue 16): observe ≤ 300 ns.`,
    `Reproduce: \`flock /tmp/cpu.lock env BENCH_ROUNDS=${ROUNDS}${process.env['BENCH_ML_SESSIONS'] === undefined ? '' : ` BENCH_ML_SESSIONS=${process.env['BENCH_ML_SESSIONS']}`} BENCH_ONLY=ml npm run bench\` (or \`npx tsx bench/ml.ts\`, \`npx tsx bench/ml-api.ts\`).`,
    '',
    ...ml.header,
    ...ml.rows,
    ...mlApi,
  ].join('\n'));
}

if (only.has('cluster')) await writeClusterSection(await runClusterBench());

if (only.has('lines')) await runLinesBench(); // not in the default set: BENCH_ONLY=lines

if (only.has('kpi-embedded')) await runKpiEmbeddedBench(); // not in the default set: BENCH_ONLY=kpi-embedded
if (only.has('slo')) await runSloScaleBench(); // BENCH_ONLY=slo: bench/slo-scale.ts

if (only.has('kpi') && existsSync('bench/kpi.ts')) {
  const kpiModule = './kpi.js'; // resolved at run time: the KPI bench is optional
  const kpi = (await import(kpiModule)) as { runKpiBench?: () => Promise<void> };
  await kpi.runKpiBench?.();
}
