/**
 * The embedded KPI store's cost to the API's process (issue 21): each figure from a fresh
 * child process (`node --import tsx`, the same for every variant) running a node:http API;
 * the measuring is bench/kpi-embedded-child.ts's, which test/kpi/embedded-store.bounds.test.ts
 * shares to check the bounds in CI.
 *
 *   flock /tmp/cpu.lock npx tsx bench/kpi-embedded.ts        prints JSON lines, writes BENCHMARKS.md
 *   BENCH_ONLY=kpi-embedded npm run bench                    the same through bench/run.ts
 *   BENCH_KPI_EMBEDDED_ROUNDS=5 BENCH_KPI_EMBEDDED_SECONDS=5 more rounds, longer loads
 *
 * Variants: `none` (the API with no KPI store), `embedded` (createKpi's default store: the
 * store process, joined when it runs, started when it does not), `pglite` (PGlite in the
 * API's process, the old default, for comparison).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStoreAddress } from '../src/kpi/store-host.js';
import { INGEST_EVENTS, runChild as runChildFor, vmRssMiB, type ChildReport, type Variant } from './kpi-embedded-child.js';
import { writeSection } from './lib.js';

const ROUNDS = Number(process.env['BENCH_KPI_EMBEDDED_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['BENCH_KPI_EMBEDDED_SECONDS'] ?? 3);
const RATES = [200, 2000, 20_000];
const runChild = (variant: Variant, dataDir: string, task: string): Promise<ChildReport> => runChildFor(variant, dataDir, task, { seconds: SECONDS });

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

if (import.meta.url === `file://${process.argv[1]}`) await runKpiEmbeddedBench();
