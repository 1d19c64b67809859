/**
 * Cluster scrape, side by side with prom-client's AggregatorRegistry, in one
 * run: 8 node:cluster workers, each with the same 5,000-series histogram in a
 * lookout Registry and in a prom-client Registry (same observations). Rounds
 * interleave lookout (served by the primary, and by a worker) and prom-client
 * (`clusterMetrics()` behind a plain node:http server in the primary). Each
 * scrape is checked for complete data (series count, summed `_count` and
 * `_sum`), and every worker reports the longest gap of its 1 ms interval
 * timer during the scrape (its longest event-loop block).
 *
 *   npx tsx bench/cluster.ts            (BENCH_ROUNDS=5 by default; writes BENCHMARKS.md)
 *   BENCH_WORKERS=4 BENCH_SERIES=2000 npx tsx bench/cluster.ts
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import client from 'prom-client';
import { clusterWorker, serveClusterMetrics } from '../src/cluster/index.js';
import { Registry, serveMetrics } from '../src/index.js';
import { emit, median, ROUNDS, spread, writeSection } from './lib.js';

const WORKERS = Number(process.env['BENCH_WORKERS'] ?? 8);
const SERIES = Number(process.env['BENCH_SERIES'] ?? 5000);
const METRIC = 'api_request_duration_seconds';

/** Observations of series `index` in worker `worker`: 1 to 3 values, deterministic. */
function observationsOf(index: number, worker: number): number[] {
  return Array.from({ length: 1 + ((index + worker) % 3) }, (_, step) => ((index * 7 + step * 13 + worker) % 97) / 50);
}

function labelsOf(index: number): { route: string; status: string } {
  return { route: `/api/v1/route/${index >> 1}`, status: index % 2 === 0 ? '200' : '500' };
}

async function runWorker(): Promise<void> {
  const id = cluster.worker!.id;
  const registry = new Registry();
  const histogram = registry.histogram({ name: METRIC, help: 'Request duration.', unit: 'seconds', labelNames: ['route', 'status'], maxSeries: SERIES });
  const promRegistry = new client.Registry();
  const promHistogram = new client.Histogram({ name: METRIC, help: 'Request duration.', labelNames: ['route', 'status'], registers: [promRegistry] });
  for (let index = 0; index < SERIES; index++) {
    const series = histogram.labels(labelsOf(index));
    const promChild = promHistogram.labels(labelsOf(index));
    for (const value of observationsOf(index, id)) {
      series.observe(value);
      promChild.observe(value);
    }
  }
  client.AggregatorRegistry.setRegistries([promRegistry]);
  new client.AggregatorRegistry(); // installs prom-client's worker-side listener
  const lookout = clusterWorker(registry, { timeoutMs: 60_000 });
  const served = await serveMetrics({ registry: lookout.registry, port: Number(process.env['BENCH_PORT'] ?? 0) });

  let last = performance.now();
  let maxGap = 0;
  setInterval(() => {
    const now = performance.now();
    if (now - last > maxGap) maxGap = now - last;
    last = now;
  }, 1);
  process.on('message', (message: { bench?: string }) => {
    if (message.bench === 'reset') {
      maxGap = 0;
      last = performance.now();
      process.send!({ bench: 'reset-ok' });
    } else if (message.bench === 'report') {
      process.send!({ bench: 'report', maxGap });
    }
  });
  process.send!({ bench: 'ready', url: served.url });
}

function expected(): { count: number; sum: number } {
  let count = 0;
  let sum = 0;
  for (let worker = 1; worker <= WORKERS; worker++) {
    for (let index = 0; index < SERIES; index++) {
      for (const value of observationsOf(index, worker)) {
        count++;
        sum += value;
      }
    }
  }
  return { count, sum };
}

/** Complete data: every series present, `_count` and `_sum` add up to what the workers observed. */
function verify(text: string, want: { count: number; sum: number }): { complete: boolean; series: number; count: number; sum: number } {
  let series = 0;
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${METRIC}_count{`)) {
      series++;
      count += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith(`${METRIC}_sum{`)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  const complete = series === SERIES && count === want.count && Math.abs(sum - want.sum) <= 1e-6 * want.sum;
  return { complete, series, count, sum };
}

function askAll(workers: readonly Worker[], bench: string, reply: string): Promise<{ maxGap?: number }[]> {
  return Promise.all(workers.map((worker) => new Promise<{ maxGap?: number }>((resolve) => {
    const listener = (message: { bench?: string; maxGap?: number }) => {
      if (message.bench !== reply) return;
      worker.off('message', listener);
      resolve(message);
    };
    worker.on('message', listener);
    worker.send({ bench });
  })));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Measurement {
  ms: number;
  workerBlockMs: number;
  primaryBlockMs: number;
  complete: boolean;
  bytes: number;
  error?: string;
}

/** The noise floor: the same gap measurement over a window with no scrape at all. */
const IDLE = 'idle';
const IDLE_MS = 300;

async function measure(workers: readonly Worker[], url: string, want: { count: number; sum: number }): Promise<Measurement> {
  await askAll(workers, 'reset', 'reset-ok');
  let last = performance.now();
  let primaryGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    primaryGap = Math.max(primaryGap, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  let text = '';
  let error: string | undefined;
  try {
    if (url === IDLE) {
      await sleep(IDLE_MS);
    } else {
      const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
      text = await response.text();
      if (response.status !== 200) error = `HTTP ${response.status}: ${text.slice(0, 200)}`;
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const ms = performance.now() - started;
  await sleep(20); // a tick held up by the last block lands here
  clearInterval(ticker);
  const reports = await askAll(workers, 'report', 'report');
  const result = verify(text, want);
  return { ms, workerBlockMs: Math.max(...reports.map((report) => report.maxGap ?? 0)), primaryBlockMs: primaryGap, complete: error === undefined && result.complete, bytes: text.length, ...(error !== undefined && { error }) };
}

/**
 * Runs the cluster benchmark (as the primary); returns markdown table rows.
 *
 * @example
 * ```ts
 * console.log([...CLUSTER_TABLE_HEADER, ...(await runClusterBench())].join('\n'));
 * ```
 */
export async function runClusterBench(): Promise<string[]> {
  cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), execArgv: ['--import', 'tsx'], silent: false });
  // Default gather concurrency (CPU count - 1); a generous timeout, so every scrape can be complete.
  const lookoutServer = await serveClusterMetrics({ port: 0, timeoutMs: 30_000 });
  const aggregator = new client.AggregatorRegistry();
  const promServer = createServer((_req, res) => {
    aggregator.clusterMetrics().then(
      (text) => res.writeHead(200, { 'content-type': aggregator.contentType }).end(text),
      (error: Error) => res.writeHead(500).end(error.message),
    );
  });
  promServer.listen(0, '127.0.0.1');
  await new Promise((resolve) => promServer.once('listening', resolve));
  const promUrl = `http://127.0.0.1:${(promServer.address() as AddressInfo).port}/metrics`;
  const workers: Worker[] = [];
  try {
    const urls: string[] = [];
    for (let index = 0; index < WORKERS; index++) {
      const worker = cluster.fork();
      workers.push(worker);
      urls.push(await new Promise<string>((resolve, reject) => {
        worker.on('message', (message: { bench?: string; url?: string }) => message.bench === 'ready' && resolve(message.url!));
        worker.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
      }));
    }
    const want = expected();
    const variants: Record<string, string> = { lookoutPrimary: lookoutServer.url, lookoutWorker: urls[0]!, promClient: promUrl, idle: IDLE };
    const results: Record<string, Measurement[]> = { lookoutPrimary: [], lookoutWorker: [], promClient: [], idle: [] };
    for (const url of Object.values(variants)) await measure(workers, url, want); // warm-up
    const names = Object.keys(variants);
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round so no variant always runs first or last.
      for (let step = 0; step < names.length; step++) {
        const name = names[(round + step) % names.length]!;
        const measurement = await measure(workers, variants[name]!, want);
        results[name]!.push(measurement);
        emit({ bench: 'cluster-scrape', variant: name, round, workers: WORKERS, seriesPerWorker: SERIES, ...measurement });
      }
    }
    return summarise(results);
  } finally {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
      if (worker.process.exitCode !== null || worker.process.signalCode !== null) return resolve();
      worker.once('exit', () => resolve());
      worker.process.kill('SIGKILL');
    })));
    await lookoutServer.close();
    await new Promise((resolve) => promServer.close(resolve));
  }
}

function summarise(results: Record<string, Measurement[]>): string[] {
  const row = (what: string, measurements: Measurement[], idle = false): string => {
    const ms = measurements.map((m) => m.ms);
    const blocks = measurements.map((m) => m.workerBlockMs);
    const complete = measurements.filter((m) => m.complete).length;
    const errors = [...new Set(measurements.flatMap((m) => (m.error === undefined ? [] : [m.error])))];
    const latency = idle ? `(a ${IDLE_MS} ms window)` : `${median(ms).toFixed(0)} ms (${spread(ms)})`;
    const data = idle ? '' : `${complete}/${measurements.length}${errors.length > 0 ? ` (${errors.join('; ')})` : ''}`;
    return `| ${what} | ${latency} | ${Math.max(...blocks).toFixed(1)} ms (median ${median(blocks).toFixed(1)}) | ${Math.max(...measurements.map((m) => m.primaryBlockMs)).toFixed(1)} ms | ${data} |`;
  };
  const lookout = median(results['lookoutPrimary']!.map((m) => m.ms));
  const prom = median(results['promClient']!.map((m) => m.ms));
  emit({ bench: 'cluster-scrape-summary', workers: WORKERS, seriesPerWorker: SERIES, cpus: availableParallelism(), lookoutPrimaryMs: lookout, lookoutWorkerMs: median(results['lookoutWorker']!.map((m) => m.ms)), promClientMs: prom, speedup: prom / lookout });
  return [
    row('lookout `serveClusterMetrics` (primary)', results['lookoutPrimary']!),
    row('lookout, scraped on a worker (`clusterWorker(registry).registry`)', results['lookoutWorker']!),
    row('prom-client 15 `AggregatorRegistry.clusterMetrics()`', results['promClient']!),
    row('no scrape: the same measurement over an idle window (this machine\'s noise floor)', results['idle']!, true),
    `| speed-up, primary-served lookout vs prom-client (medians) | **${(prom / lookout).toFixed(1)}×** | | | |`,
  ];
}

/**
 * Header of the table {@link runClusterBench} fills.
 *
 * @example
 * ```ts
 * const table = [...CLUSTER_TABLE_HEADER, ...rows].join('\n');
 * ```
 */
export const CLUSTER_TABLE_HEADER = [
  '| what | scrape latency, median (min–max) | longest event-loop block in any worker, max (median of rounds) | longest block in the primary | complete data |',
  '|---|---|---|---|---|',
];

/**
 * Writes this benchmark's section of BENCHMARKS.md (between its markers).
 *
 * @example
 * ```ts
 * await writeClusterSection(await runClusterBench());
 * ```
 */
export async function writeClusterSection(rows: readonly string[]): Promise<void> {
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (load average ${loadavg()[0]!.toFixed(1)} at the end: the machine is shared), ${new Date().toISOString().slice(0, 10)}`;
  const body = [
    `## Cluster: one /metrics across ${WORKERS} node:cluster workers × ${SERIES.toLocaleString('en-US')} histogram series, against prom-client 15`,
    '',
    `${machine}. The benchmark process is the primary; each worker holds the same ${SERIES.toLocaleString('en-US')}-series histogram (default buckets) in a lookout Registry and in a prom-client Registry; lookout gathers with its default concurrency (CPU count − 1, here ${Math.max(1, availableParallelism() - 1)} worker${availableParallelism() > 2 ? 's' : ''} at a time). ${ROUNDS} rounds after a warm-up, the order rotated every round, over HTTP on 127.0.0.1. "Complete" means every series is present and the summed \`_count\` and \`_sum\` equal what the workers observed. Blocks are the longest gap of a 1 ms interval timer during the scrape (so they include the timer's own 1 ms).`,
    'Reproduce: `npx tsx bench/cluster.ts` (`BENCH_ROUNDS`, `BENCH_WORKERS`, `BENCH_SERIES` to vary).',
    '',
    ...CLUSTER_TABLE_HEADER,
    ...rows,
  ].join('\n');
  await writeSection('cluster', body);
}

if (cluster.isWorker) {
  await runWorker();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runClusterBench();
  console.log([...CLUSTER_TABLE_HEADER, ...rows].join('\n'));
  if (process.env['BENCH_WRITE'] !== '0') await writeClusterSection(rows);
  process.exit(0);
}
