/**
 * Fastify hello-world for `bench/kpi.ts`, four variants (see kpi-server.ts):
 * bare; idle (a recorder created, nothing recorded); discard (one
 * `kpi.record` per request into a store that drops batches); kpi (one
 * `kpi.record` per request into PostgreSQL). Each variant is its own
 * process; autocannon runs in this one; the order rotates every round.
 *
 * Why `idle`: on this hello-world, merely allocating a typed array of about a
 * megabyte made Fastify 20-35 % faster with V8's default heap sizing (V8
 * sizes the young generation by what a process allocates), not because of KPI
 * work. The servers therefore run with a fixed young generation by default
 * (`KPI_NODE_FLAGS`), which brings bare and idle together; `idle` stays as the
 * control with the recorder's footprint. The CPU time of the KPI server's PostgreSQL backends is read
 * from /proc during its turns: on a machine where the database shares the
 * CPUs with the server and the load generator, that time is taken from them.
 *
 * On Linux with `taskset`, the servers run on CPU 0 and this process (the
 * load generator) on CPU 1: unpinned, the scheduler sometimes puts both on
 * one CPU and a run halves, which made rounds swing by 2× on a 2-CPU machine.
 *
 * Where PostgreSQL runs (`BENCH_KPI_PG_CPU`): by default the A/B runs twice.
 * First with every PostgreSQL process pinned to the load generator's CPU, off
 * the server's, as in production, where the database has its own host: the
 * server's throughput then shows what recording costs the app, and the load
 * generator pays for sharing its CPU with the database (a conservative
 * figure). Then with PostgreSQL free to run on either CPU, the server's
 * included. `BENCH_KPI_PG_CPU=1` or `=shared` runs one of them. Pinning needs
 * the right to change the affinity of PostgreSQL's processes (root, or the
 * postgres user); without it the run says so and stays shared.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import type pg from 'pg';
import { affinityOf, emit, LOADER_CPU, median, PINNED, pinLoader, SECONDS, SERVER_CPU, spread, startServer, stopServer } from './lib.js';
import type { Row } from './kpi-ingest.js';

const VARIANTS = ['bare', 'idle', 'discard', 'kpi'] as const;
/** Rounds of the A/B/C: the shared machine is noisy, so more than the other benchmarks. */
export const AB_ROUNDS = Number(process.env['BENCH_KPI_AB_ROUNDS'] ?? 10);
const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * Node flags of every server process: a fixed young generation by default, as in the HTTP
 * benchmark. V8 sizes the young generation by what a process allocates, and on this
 * hello-world that alone moved throughput by 20-35 % between variants (see the file comment).
 * `BENCH_NODE_FLAGS=""` runs the servers with V8's defaults.
 */
export const KPI_NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '--min-semi-space-size=16 --max-semi-space-size=16').split(' ').filter(Boolean);

/** Starts `bench/kpi-server.ts` (on CPU 0 when pinning) and waits for `READY <port>`. */
function startKpiServer(args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  return startServer('bench/kpi-server.ts', args, KPI_NODE_FLAGS, {}, SERVER_CPU);
}

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

/**
 * Where PostgreSQL runs, one A/B run each: a CPU list for taskset, or
 * 'shared' (unpinned). Default: off the server's CPU, then shared.
 */
export const PG_PLACEMENTS: readonly string[] = process.env['BENCH_KPI_PG_CPU'] !== undefined ? [process.env['BENCH_KPI_PG_CPU']] : PINNED ? [LOADER_CPU, 'shared'] : ['shared'];

function postgresPids(): number[] {
  return execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
}

/**
 * Pins every PostgreSQL process of this machine (the postmaster too, so new
 * backends inherit it) to `cpus`; returns the undo, which gives every
 * PostgreSQL process then alive the postmaster's former affinity. Undefined
 * when it cannot (no local PostgreSQL, or not allowed).
 */
function pinPostgres(cpus: string): (() => void) | undefined {
  try {
    const pids = postgresPids();
    const before = affinityOf(Math.min(...pids));
    for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    return () => {
      for (const pid of postgresPids()) {
        try {
          execFileSync('taskset', ['-a', '-p', '-c', before, String(pid)], { stdio: 'ignore' });
        } catch {
          // the process ended meanwhile
        }
      }
    };
  } catch (error) {
    console.error(`kpi bench: could not pin PostgreSQL to CPU ${cpus} (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); it shares the CPUs`);
    return undefined;
  }
}

/** CPU seconds of the PostgreSQL backends serving `applicationName`. */
async function backendCpuSeconds(admin: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  return rows.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}

type Variant = (typeof VARIANTS)[number];

/** Runs the four variants interleaved and returns their table rows. */
export async function fastifyAB(admin: pg.Pool, pgUrl: string, pgCpu: string): Promise<Row[]> {
  const schema = `kpi_bench_fastify_${process.pid}`;
  const applicationName = `lookout-kpi-bench-${process.pid}`;
  const args: Record<Variant, string[]> = {
    bare: ['bare'],
    idle: ['idle', pgUrl, `${schema}_idle`, `${applicationName}-idle`],
    discard: ['discard'],
    kpi: ['kpi', pgUrl, schema, applicationName],
  };
  const servers = await Promise.all(VARIANTS.map((variant) => startKpiServer(args[variant])));
  const unpin = pinLoader();
  const unpinPostgres = pgCpu === 'shared' ? undefined : pinPostgres(pgCpu);
  const pgWhere = unpinPostgres === undefined ? 'PostgreSQL on the same machine, free to run on any CPU (the server\'s included)' : `PostgreSQL pinned to CPU ${pgCpu}, off the server's CPU (as on its own host; it shares the load generator's)`;
  const perVariant = (): Record<Variant, number[]> => ({ bare: [], idle: [], discard: [], kpi: [] });
  const rps = perVariant();
  /** Server-process CPU microseconds per request, per turn. */
  const cpuPerRequest = perVariant();
  /** CPU used by this process (the load generator) during each turn, as a share of one CPU. */
  const loadCpu = perVariant();
  /** PostgreSQL backend CPU of the `kpi` server: seconds per turn and microseconds per request. */
  const dbSeconds: number[] = [];
  const dbPerRequest: number[] = [];
  const kpiIndex = VARIANTS.indexOf('kpi');
  const flushKpi = (): Promise<Response> => fetch(`http://127.0.0.1:${servers[kpiIndex]!.port}/__kpi`);
  try {
    for (const { port } of servers) await load(port, 1); // warm-up (JIT)
    await flushKpi();
    for (let round = 0; round < AB_ROUNDS; round++) {
      for (let step = 0; step < VARIANTS.length; step++) {
        const index = (round + step) % VARIANTS.length;
        const variant = VARIANTS[index]!;
        const pid = servers[index]!.child.pid; // taskset execs node in place: the same pid
        const dbBefore = variant === 'kpi' ? await backendCpuSeconds(admin, applicationName) : 0;
        const serverBefore = cpuSeconds(pid);
        const loadBefore = process.cpuUsage();
        const loadStarted = performance.now();
        const { rps: rate, requests } = await load(servers[index]!.port, SECONDS);
        const loadUsed = process.cpuUsage(loadBefore);
        loadCpu[variant].push((loadUsed.user + loadUsed.system) / 1000 / (performance.now() - loadStarted));
        // The KPI server writes its last events before the next turn; they count in its CPU.
        if (variant === 'kpi') await flushKpi();
        rps[variant].push(rate);
        cpuPerRequest[variant].push(((cpuSeconds(pid) - serverBefore) * 1e6) / requests);
        if (variant === 'kpi') {
          const db = (await backendCpuSeconds(admin, applicationName)) - dbBefore;
          dbSeconds.push(db);
          dbPerRequest.push((db * 1e6) / requests);
        }
      }
    }
    const stats = (await (await flushKpi()).json()) as { recorded: number; written: number; dropped: Record<string, number> };
    const { rows } = await admin.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".events`);
    const dropped = Object.values(stats.dropped).reduce((sum, value) => sum + value, 0);
    const ratio = (variant: Variant, base: Variant): number[] => rps[variant].map((value, round) => value / rps[base][round]!);
    emit({
      bench: 'kpi', name: 'fastify', postgresCpu: unpinPostgres === undefined ? 'shared' : pgCpu, rps, serverCpuMicrosPerRequest: cpuPerRequest, loadGeneratorCpuShare: loadCpu, dbCpuMicrosPerRequest: dbPerRequest, dbCpuSecondsPerKpiTurn: dbSeconds,
      recorded: stats.recorded, written: stats.written, rows: rows[0]!.count, dropped,
    });
    const kept = (variant: Variant, base: Variant): string => {
      const values = ratio(variant, base);
      return `**${(median(values) * 100).toFixed(1)} %** of ${base} [${values.map((value) => value.toFixed(2)).join(', ')}]`;
    };
    const cpu = (variant: Variant): string => `${median(cpuPerRequest[variant]).toFixed(1)} µs CPU per request in the server process, load generator at ${(median(loadCpu[variant]) * 100).toFixed(0)} % of a CPU`;
    const throughput = (variant: Variant): string => `${median(rps[variant]).toFixed(0)} req/s (${spread(rps[variant])})`;
    const strict = Math.min(median(ratio('kpi', 'bare')), median(ratio('kpi', 'idle')));
    const added = median(cpuPerRequest.kpi) - median(cpuPerRequest.idle);
    const addedRecord = median(cpuPerRequest.discard) - median(cpuPerRequest.idle);
    return [
      { what: `${unpinPostgres === undefined ? '' : '[PostgreSQL off the server\'s CPU] '}Fastify hello-world \`/users/:id\`: bare${PINNED ? ' (servers on CPU 0, load generator on CPU 1)' : ' (unpinned)'}`, result: `${throughput('bare')}; ${cpu('bare')}`, target: '', met: '' },
      { what: 'idle: a PostgreSQL KPI recorder created, nothing recorded (same process footprint as kpi)', result: `${throughput('idle')}; ${kept('idle', 'bare')}; ${cpu('idle')}`, target: '', met: '' },
      { what: 'discard: one `kpi.record` per request, into a store that drops batches (no database)', result: `${throughput('discard')}; ${kept('discard', 'idle')}; ${cpu('discard')}`, target: '', met: '' },
      {
        what: `kpi: one \`kpi.record\` per request into PostgreSQL; ${pgWhere} (${rows[0]!.count.toLocaleString('en-US')} rows written, ${dropped} dropped)`,
        result: `${throughput('kpi')}; kept ${kept('kpi', 'bare')}, ${kept('kpi', 'idle')}; ${cpu('kpi')}, plus ${median(dbPerRequest).toFixed(1)} µs in its PostgreSQL backend (${((median(dbSeconds) / SECONDS) * 100).toFixed(0)} % of one CPU during its turns)`,
        target: '≥ 95 % of bare and of idle',
        met: strict >= 0.95 ? 'yes' : 'no',
      },
      {
        what: 'CPU added per request by one `kpi.record` (medians: discard − idle, kpi − idle, and the PostgreSQL backend)',
        result: `${addedRecord.toFixed(1)} µs without a database, ${added.toFixed(1)} µs with PostgreSQL in the server process (${((added / median(cpuPerRequest.idle)) * 100).toFixed(0)} % of idle's ${median(cpuPerRequest.idle).toFixed(1)} µs), plus ${median(dbPerRequest).toFixed(1)} µs in PostgreSQL`,
        target: '',
        met: '',
      },
    ];
  } finally {
    unpinPostgres?.();
    unpin();
    for (const { child } of servers) await stopServer(child);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}_idle" CASCADE`);
  }
}
