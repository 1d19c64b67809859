/**
 * `npm run bench`: every side-by-side benchmark in one run, written into
 * BENCHMARKS.md (each section between its markers) and printed as JSON lines.
 *
 *   npm run bench                          full run (5 rounds × 4 s per variant)
 *   BENCH_ROUNDS=3 BENCH_SECONDS=2 npm run bench   quicker, noisier
 *   BENCH_ONLY=micro,http npm run bench    a subset (micro, http, kpi)
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { HTTP_TABLE_HEADER, runHttpBench } from './http.js';
import { MICRO_TABLE_HEADER, runMicroBench } from './micro.js';
import { runClusterBench, writeClusterSection } from './cluster.js';
import { ROUNDS, SECONDS, writeSection } from './lib.js';

const only = new Set((process.env['BENCH_ONLY'] ?? 'micro,http,cluster,kpi').split(','));

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

if (only.has('http')) {
  const rows = await runHttpBench();
  await writeSection('http', [
    '## HTTP throughput: hello-world `/users/:id`, bare vs + lookout vs + the usual peer',
    '',
    `${machine}. Each variant is its own server process${process.env['BENCH_NODE_FLAGS'] ? ` started with \`${process.env['BENCH_NODE_FLAGS']}\` (a fixed young generation: without it, bare Fastify measured ~14 % *slower* than with lookout, because V8 sizes the young generation by what a process allocates)` : ''}; autocannon (50 connections) runs in the benchmark process on 127.0.0.1. ${ROUNDS} rounds of ${SECONDS} s per variant after a 1 s warm-up, the order rotated every round; median req/s with min–max spread, and the ratio to bare (per-round ratios in brackets).`,
    `Reproduce: \`${process.env['BENCH_NODE_FLAGS'] ? `BENCH_NODE_FLAGS="${process.env['BENCH_NODE_FLAGS']}" ` : ''}BENCH_ONLY=http npm run bench\` (or \`npx tsx bench/http.ts\`; \`BENCH_FRAMEWORKS=fastify\` for one).`,
    '',
    ...HTTP_TABLE_HEADER,
    ...rows,
  ].join('\n'));
}

if (only.has('cluster')) await writeClusterSection(await runClusterBench());

if (only.has('kpi') && existsSync('bench/kpi.ts')) {
  const kpiModule = './kpi.js'; // resolved at run time: the KPI bench is optional
  const kpi = (await import(kpiModule)) as { runKpiBench?: () => Promise<void> };
  await kpi.runKpiBench?.();
}
