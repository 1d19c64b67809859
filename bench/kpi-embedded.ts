/**
 * The embedded KPI store's cost to the API's process (issue 21): each figure from a fresh
 * child process (`node --import tsx`, the same for every variant) running a node:http API.
 *
 *   flock /tmp/cpu.lock npx tsx bench/kpi-embedded.ts        prints JSON lines, writes BENCHMARKS.md
 *   BENCH_ONLY=kpi-embedded npm run bench                    the same through bench/run.ts
 *   BENCH_KPI_EMBEDDED_ROUNDS=5 BENCH_KPI_EMBEDDED_SECONDS=5 more rounds, longer loads
 *
 * Variants: `none` (the API with no KPI store), `embedded` (createKpi's default store: the
 * store process, joined when it runs, started when it does not), `pglite` (PGlite in the
 * API's process, the old default, for comparison).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Registry } from '../src/core/registry.js';
import { embeddedStore } from '../src/kpi/embedded-store.js';
import { createKpi, type Kpi } from '../src/kpi/kpi.js';
import { pgliteStore } from '../src/kpi/pglite-store.js';
import { readStoreAddress } from '../src/kpi/store-host.js';
import { writeSection } from './lib.js';

const ROUNDS = Number(process.env['BENCH_KPI_EMBEDDED_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_KPI_EMBEDDED_SECONDS'] ?? 3);
const RATES = [200, 2000, 20_000];
const INGEST_EVENTS = 200_000;

type Variant = 'none' | 'embedded' | 'pglite';

/** What one child reports. */
interface ChildReport {
  variant: Variant;
  /** Process start to the API listening (the KPI store's join is in the background). */
  listenMs: number;
  /** Process start to `kpi.ready()` (the store usable). */
  readyMs?: number;
  rssMiB: number;
  /** Event-loop delay while recording at `rate` events/s. */
  loop?: { rate: number; p99Ms: number; maxMs: number; written: number; dropped: number };
  ingest?: { events: number; perSecond: number };
}

async function child(variant: Variant, dataDir: string, task: string): Promise<void> {
  const registry = new Registry();
  const kpi: Kpi | undefined = variant === 'none' ? undefined : createKpi({
    registry, events: ['good_inference'], bufferSize: INGEST_EVENTS,
    store: variant === 'embedded' ? embeddedStore({ dataDir, idleTimeoutMs: 30_000 }) : pgliteStore({ dataDir }),
  });
  const server = createServer((_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const report: ChildReport = { variant, listenMs: performance.now(), rssMiB: 0 };
  if (kpi !== undefined) {
    if (!(await kpi.ready({ deadlineMs: 120_000 }))) throw new Error('the store did not open');
    report.readyMs = performance.now();
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // settle, then read RSS
  report.rssMiB = process.memoryUsage().rss / 2 ** 20;
  if (task.startsWith('rate:')) {
    const rate = Number(task.slice(5));
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const perTick = rate / 100; // every 10 ms
    let owed = 0;
    const end = performance.now() + SECONDS * 1000;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        owed += perTick;
        for (; owed >= 1; owed--) kpi?.record('good_inference', { user: 'u-1', args: { label: 'cat' } });
        if (performance.now() >= end) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    histogram.disable();
    await kpi?.flush({ deadlineMs: 60_000 });
    const stats = kpi?.stats();
    report.loop = {
      rate, p99Ms: histogram.percentile(99) / 1e6, maxMs: histogram.max / 1e6,
      written: stats?.written ?? 0, dropped: stats === undefined ? 0 : Object.values(stats.dropped).reduce((sum, n) => sum + n, 0),
    };
  } else if (task === 'ingest' && kpi !== undefined) {
    const started = performance.now();
    for (let index = 0; index < INGEST_EVENTS; index++) {
      kpi.record('good_inference', { user: 'u-1', args: { label: 'cat' } });
      if (index % 5000 === 4999) await new Promise((resolve) => setImmediate(resolve));
    }
    await kpi.flush({ deadlineMs: 120_000 });
    const stats = kpi.stats();
    report.ingest = { events: stats.written, perSecond: stats.written / ((performance.now() - started) / 1000) };
  }
  await kpi?.close({ deadlineMs: 30_000 });
  server.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

function runChild(variant: Variant, dataDir: string, task: string): Promise<ChildReport> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', script, 'child', variant, dataDir, task], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    process_.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    process_.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as ChildReport) : reject(new Error(`${variant} ${task} exited ${String(code)}`))));
  });
}

function vmRssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function spread(values: number[], digits = 0): string {
  return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
}

/**
 * Runs every measurement and writes the `kpi-embedded` section of BENCHMARKS.md.
 *
 * @example
 * ```ts
 * await runKpiEmbeddedBench();
 * ```
 */
export async function runKpiEmbeddedBench(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'lookout-bench-embedded-'));
  const load = loadavg().map((value) => value.toFixed(1)).join(' / ');
  try {
    const dataDir = join(folder, 'kpi');
    // The store process: start-up on a fresh folder (initdb) and on an existing one.
    const fresh = await runChild('embedded', dataDir, 'none');
    const storePid = readStoreAddress(dataDir)!.pid;
    const storeLog = readFileSync(join(dataDir, 'lookout-store.log'), 'utf8');
    process.kill(storePid, 'SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cold = await runChild('embedded', dataDir, 'none'); // starts the store on an existing folder
    const storeReadyMs = [...storeLog.matchAll(/ready in (\d+) ms/g)].map((match) => Number(match[1]));
    const reopenedLog = readFileSync(join(dataDir, 'lookout-store.log'), 'utf8');
    const reopenMs = [...reopenedLog.matchAll(/ready in (\d+) ms/g)].map((match) => Number(match[1])).at(-1)!;
    const rows: Record<string, ChildReport[]> = { none: [], embedded: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of ['none', 'embedded'] as const) rows[variant]!.push(await runChild(variant, dataDir, 'none'));
    }
    const storeRss = vmRssMiB(readStoreAddress(dataDir)!.pid);
    // Rounds interleaved (none, embedded, none, ...) so that the machine's load moves both alike.
    const loops: ChildReport[][] = [];
    for (const rate of RATES) {
      const reports: Record<string, ChildReport[]> = { none: [], embedded: [] };
      for (let round = 0; round < ROUNDS; round++) {
        for (const variant of ['none', 'embedded'] as const) reports[variant]!.push(await runChild(variant, dataDir, `rate:${rate}`));
      }
      loops.push(reports['none']!, reports['embedded']!);
    }
    loops.push([await runChild('pglite', join(folder, 'inprocess'), 'rate:2000')]);
    const ingest: ChildReport[] = [];
    for (let round = 0; round < ROUNDS; round++) ingest.push(await runChild('embedded', dataDir, 'ingest'));
    const storeRssAfter = vmRssMiB(readStoreAddress(dataDir)!.pid);
    process.kill(readStoreAddress(dataDir)!.pid, 'SIGTERM');

    const listen = (variant: string) => rows[variant]!.map((report) => report.listenMs);
    const rss = (variant: string) => rows[variant]!.map((report) => report.rssMiB);
    const deltas = rows['embedded']!.map((report, index) => report.rssMiB - rows['none']![index]!.rssMiB);
    const listenDeltas = rows['embedded']!.map((report, index) => report.listenMs - rows['none']![index]!.listenMs);
    const result = { fresh, cold, storeReadyMs, reopenMs, rows, storeRss, storeRssAfter, loops, ingest, load };
    console.log(JSON.stringify(result));
    await writeSection('kpi-embedded', [
      '## The embedded KPI store, out of the API\'s process (issue 21)',
      '',
      `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; load average when it started ${load} (1 / 5 / 15 min; a 2-core machine shared with other work, so times are noisy, RSS is not). Each figure from a fresh child process running a node:http API under \`node --import tsx\` (the same for every variant); ${ROUNDS} rounds, median (min–max). \`none\`: the API with no KPI store. \`embedded\`: \`createKpi\`'s default store (the store process joined; it runs PGlite). Bounds (issue 21): RSS within 40 MB and start-up within 150 ms of \`none\`; loop delay p99 ≤ 5 ms, max ≤ 20 ms; ingest ≥ 50,000 events/s.`,
      'Reproduce: `flock /tmp/cpu.lock npx tsx bench/kpi-embedded.ts` (or `BENCH_ONLY=kpi-embedded npm run bench`).',
      '',
      '| API process | none | embedded (store joined) | difference (per round) |',
      '|---|---|---|---|',
      `| RSS after start-up, MiB | ${spread(rss('none'))} | ${spread(rss('embedded'))} | ${spread(deltas, 1)} |`,
      `| start to listening, ms | ${spread(listen('none'))} | ${spread(listen('embedded'))} | ${spread(listenDeltas)} |`,
      `| start to \`kpi.ready()\`, ms | – | ${spread(rows['embedded']!.map((report) => report.readyMs!))} | |`,
      '',
      `Event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution) over ${SECONDS} s of recording at a steady rate, then flushed, ${ROUNDS} rounds interleaved with \`none\`, median (min–max); compare each \`embedded\` row with the \`none\` row at the same rate (the same timer loop, recording nothing): the difference is what the store costs the API's loop, and a \`none\` row above the bounds means the machine's load, not lookout, set them.`,
      '',
      '| Event-loop delay while recording | rate, events/s | p99, ms | max, ms | written | dropped |',
      '|---|---|---|---|---|---|',
      ...loops.map((reports) => {
        const first = reports[0]!;
        const of = (pick: (loop: NonNullable<ChildReport['loop']>) => number) => reports.map((report) => pick(report.loop!));
        return `| ${first.variant === 'pglite' ? 'pglite (in the API\'s process, the old default; 1 round)' : first.variant} | ${first.loop!.rate.toLocaleString('en-US')} | ${spread(of((loop) => loop.p99Ms), 1)} | ${spread(of((loop) => loop.maxMs), 1)} | ${of((loop) => loop.written).join(', ')} | ${of((loop) => loop.dropped).join(', ')} |`;
      }),
      '',
      '| Store process | figure |',
      '|---|---|',
      `| ingest end to end (${INGEST_EVENTS.toLocaleString('en-US')} events recorded at once, then flushed), events/s | ${spread(ingest.map((report) => report.ingest!.perSecond))} |`,
      `| start-up, fresh folder (initdb) / existing folder, ms | ${storeReadyMs.join(', ')} / ${reopenMs} |`,
      `| API start to \`kpi.ready()\` when the API starts the store: fresh folder / existing folder, ms | ${Math.round(fresh.readyMs!)} / ${Math.round(cold.readyMs!)} |`,
      `| store process RSS: after the start-up rounds / after the loads and ingest, MiB | ${storeRss.toFixed(0)} / ${storeRssAfter.toFixed(0)} |`,
      `| for comparison, the API's own RSS with PGlite in its process (\`pgliteStore\`, the old default), MiB | ${loops.at(-1)![0]!.rssMiB.toFixed(0)} |`,
    ].join('\n'));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await child(process.argv[3] as Variant, process.argv[4]!, process.argv[5]!);
else if (import.meta.url === `file://${process.argv[1]}`) await runKpiEmbeddedBench();
