/**
 * Fastify hello-world A/B/C for `bench/kpi.ts`: bare, + one `kpi.record` per
 * request into a store that drops every batch (the request path and the
 * dispatcher alone), + one `kpi.record` per request into PostgreSQL. Each
 * variant is its own process; autocannon runs in this one; the order rotates
 * every round. The CPU time of the KPI server's PostgreSQL backends is read
 * from /proc during its turns: on a machine where the database shares the
 * CPUs with the server and the load generator, that time is taken from them.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type pg from 'pg';
import { emit, median, SECONDS, spread, startServer, stopServer } from './lib.js';
import type { Row } from './kpi-ingest.js';

const VARIANTS = ['bare', 'discard', 'kpi'] as const;
/** Rounds of the A/B/C: the shared machine is noisy, so more than the other benchmarks. */
export const AB_ROUNDS = Number(process.env['BENCH_KPI_AB_ROUNDS'] ?? 10);
const CLOCK_TICKS = 100; // USER_HZ on Linux

async function load(port: number, seconds: number): Promise<{ rps: number; requests: number }> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: 50, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return { rps: result.requests.average, requests: result.requests.total };
}

/** user + system CPU seconds of a process (0 where /proc is missing or the process is gone). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15 of stat)
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL backends serving `applicationName`. */
async function backendCpuSeconds(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  return rows.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}

/** Runs the A/B/C and returns its table rows. */
export async function fastifyAB(admin: pg.Pool, pgUrl: string): Promise<Row[]> {
  const schema = `kpi_bench_fastify_${process.pid}`;
  const applicationName = `lookout-kpi-bench-${process.pid}`;
  const args: Record<(typeof VARIANTS)[number], string[]> = { bare: ['bare'], discard: ['discard'], kpi: ['kpi', pgUrl, schema, applicationName] };
  const servers = await Promise.all(VARIANTS.map((variant) => startServer('bench/kpi-server.ts', args[variant])));
  const rps: Record<(typeof VARIANTS)[number], number[]> = { bare: [], discard: [], kpi: [] };
  /** Server-process CPU microseconds per request, per turn. */
  const cpuPerRequest: Record<(typeof VARIANTS)[number], number[]> = { bare: [], discard: [], kpi: [] };
  /** PostgreSQL backend CPU microseconds per request of the KPI server, per turn. */
  const dbPerRequest: number[] = [];
  const ratios: Record<'discard' | 'kpi', number[]> = { discard: [], kpi: [] };
  const dbCpu: number[] = [];
  const flushKpi = (): Promise<unknown> => fetch(`http://127.0.0.1:${servers[2]!.port}/__kpi`);
  try {
    for (const { port } of servers) await load(port, 1); // warm-up (JIT)
    await flushKpi();
    for (let round = 0; round < AB_ROUNDS; round++) {
      const results: Partial<Record<(typeof VARIANTS)[number], number>> = {};
      for (let step = 0; step < VARIANTS.length; step++) {
        const index = (round + step) % VARIANTS.length;
        const variant = VARIANTS[index]!;
        const pid = servers[index]!.child.pid;
        const dbBefore = variant === 'kpi' ? await backendCpuSeconds(admin, applicationName) : 0;
        const serverBefore = cpuSeconds(pid);
        const { rps: rate, requests } = await load(servers[index]!.port, SECONDS);
        results[variant] = rate;
        // The KPI server writes its last events before the next turn; they count in its CPU.
        if (variant === 'kpi') await flushKpi();
        cpuPerRequest[variant].push(((cpuSeconds(pid) - serverBefore) * 1e6) / requests);
        if (variant === 'kpi') {
          const db = (await backendCpuSeconds(admin, applicationName)) - dbBefore;
          dbCpu.push(db);
          dbPerRequest.push((db * 1e6) / requests);
        }
      }
      for (const variant of VARIANTS) rps[variant].push(results[variant]!);
      ratios.discard.push(results.discard! / results.bare!);
      ratios.kpi.push(results.kpi! / results.bare!);
    }
    const stats = (await (await flushKpi() as Response).json()) as { recorded: number; written: number; dropped: Record<string, number> };
    const { rows } = await admin.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".events`);
    const dropped = Object.values(stats.dropped).reduce((sum, value) => sum + value, 0);
    emit({ bench: 'kpi', name: 'fastify_abc', rps, ratios, serverCpuMicrosPerRequest: cpuPerRequest, dbCpuMicrosPerRequest: dbPerRequest, dbCpuSecondsPerKpiTurn: dbCpu, recorded: stats.recorded, written: stats.written, rows: rows[0]!.count, dropped });
    const ratioText = (values: number[]): string => `kept **${(median(values) * 100).toFixed(1)} %** of bare [${values.map((ratio) => ratio.toFixed(2)).join(', ')}]`;
    const dbShare = median(dbCpu) / SECONDS;
    const cpu = (variant: (typeof VARIANTS)[number]): string => `${median(cpuPerRequest[variant]).toFixed(1)} µs CPU per request in the server process`;
    return [
      { what: 'Fastify hello-world `/users/:id`, bare', result: `${median(rps.bare).toFixed(0)} req/s (${spread(rps.bare)}); ${cpu('bare')}`, target: '', met: '' },
      {
        what: 'Fastify + one `kpi.record` per request, store that drops batches (request path + dispatcher, no database)',
        result: `${median(rps.discard).toFixed(0)} req/s (${spread(rps.discard)}); ${ratioText(ratios.discard)}; ${cpu('discard')}`,
        target: '',
        met: '',
      },
      {
        what: `Fastify + one \`kpi.record\` per request into PostgreSQL on the same machine (${rows[0]!.count.toLocaleString('en-US')} rows written, ${dropped} dropped)`,
        result: `${median(rps.kpi).toFixed(0)} req/s (${spread(rps.kpi)}); ${ratioText(ratios.kpi)}; ${cpu('kpi')}, plus ${median(dbPerRequest).toFixed(1)} µs in its PostgreSQL backend (${(dbShare * 100).toFixed(0)} % of one CPU during its turns)`,
        target: '≥ 95 %',
        met: median(ratios.kpi) >= 0.95 ? 'yes' : 'no',
      },
    ];
  } finally {
    for (const { child } of servers) await stopServer(child);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}
