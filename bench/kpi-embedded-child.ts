/**
 * The measuring half of the embedded KPI store's cost to the API's process (issue 21), shared
 * by bench/kpi-embedded.ts (the BENCHMARKS.md rows) and test/kpi/embedded-store.bounds.test.ts (the
 * bounds, in CI): each figure from a fresh child process (`node --import tsx`, the same for
 * every variant) running a node:http API.
 *
 *   node --import tsx bench/kpi-embedded-child.ts <variant> <dataDir> <task> <seconds> <settleMs>
 *
 * Variants: `none` (the API with no KPI store), `embedded` (createKpi's default store: the
 * store process, joined when it runs, started when it does not), `pglite` (PGlite in the
 * API's process, the old default, for comparison). Tasks: `none`, `rate:<events/s>`, `ingest`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Registry } from '../src/core/registry.js';
import { embeddedStore } from '../src/kpi/embedded-store.js';
import { createKpi, type Kpi } from '../src/kpi/kpi.js';
import { pgliteStore } from '../src/kpi/pglite-store.js';

/** Events recorded at once by the `ingest` task. @example INGEST_EVENTS; // 200000 */
export const INGEST_EVENTS = 200_000;

/** Which KPI store the child's API has. @example const variant: Variant = 'none'; */
export type Variant = 'none' | 'embedded' | 'pglite';

/**
 * What one child reports.
 *
 * @example
 * ```ts
 * const report: ChildReport = { variant: 'none', listenMs: 310, rssMiB: 82 };
 * ```
 */
export interface ChildReport {
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

/**
 * Options of `runChild`.
 *
 * @example
 * ```ts
 * const options: ChildOptions = { seconds: 2, settleMs: 1000 };
 * ```
 */
export interface ChildOptions {
  /** Length of a `rate:` task's load (default 3 s). */
  readonly seconds?: number;
  /** Wait after start-up before reading RSS and loading (default 1000 ms). */
  readonly settleMs?: number;
}

async function child(variant: Variant, dataDir: string, task: string, seconds: number, settleMs: number): Promise<void> {
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
  await new Promise((resolve) => setTimeout(resolve, settleMs)); // settle, then read RSS
  report.rssMiB = process.memoryUsage().rss / 2 ** 20;
  if (task.startsWith('rate:')) {
    const rate = Number(task.slice(5));
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const perTick = rate / 100; // every 10 ms
    let owed = 0;
    const end = performance.now() + seconds * 1000;
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

/**
 * Runs one measurement in a fresh child process and returns its report.
 *
 * @example
 * ```ts
 * const report = await runChild('embedded', '/tmp/kpi', 'rate:2000', { seconds: 2 });
 * console.log(report.loop?.p99Ms);
 * ```
 */
export function runChild(variant: Variant, dataDir: string, task: string, options: ChildOptions = {}): Promise<ChildReport> {
  const script = fileURLToPath(import.meta.url);
  const args = [script, variant, dataDir, task, String(options.seconds ?? 3), String(options.settleMs ?? 1000)];
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    process_.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    process_.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as ChildReport) : reject(new Error(`${variant} ${task} exited ${String(code)}`))));
  });
}

/**
 * The resident set of process `pid` from /proc, in MiB.
 *
 * @example
 * ```ts
 * vmRssMiB(process.pid);
 * ```
 */
export function vmRssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [variant, dataDir, task, seconds, settleMs] = process.argv.slice(2);
  await child(variant as Variant, dataDir!, task!, Number(seconds), Number(settleMs));
}
