/**
 * KPI ingest benchmark, side by side in one run, loopback only:
 *  1. `kpi.record` cost on the request path (median ns per call);
 *  2. sustained ingest into the local PostgreSQL (lookout's COPY writer, both
 *     dedupe modes) against the reference's one INSERT per event (sequential,
 *     and 10 concurrent connections);
 *  3. sustained ingest into embedded PGlite;
 *  4. Fastify hello-world with and without one KPI event per request
 *     (autocannon from this process, servers in child processes, A/B interleaved).
 * Prints one JSON line per result and a markdown table, and writes the table
 * into BENCHMARKS.md between `<!-- kpi:start -->` and `<!-- kpi:end -->`.
 *
 *   npx tsx bench/kpi.ts                 (BENCH_ROUNDS=5 BENCH_SECONDS=4 by default)
 *   LOOKOUT_BENCH_PG_URL=postgres://... npx tsx bench/kpi.ts
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { emit, median, ROUNDS, SECONDS, spread, startServer, stopServer } from './lib.js';
import { measureIngest, measureRecord, measureReferenceInserts, pgliteIngest, type Row } from './kpi-ingest.js';

const PG_URL = process.env['LOOKOUT_BENCH_PG_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const FILE = 'BENCHMARKS.md';
/** A/B rounds for Fastify: the shared machine is noisy, so more than the other benchmarks. */
const AB_ROUNDS = Number(process.env['BENCH_KPI_AB_ROUNDS'] ?? Math.max(ROUNDS, 10));

async function pgAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function load(port: number, seconds: number): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: 50, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

/** Fastify hello-world, bare vs one KPI event per request into PostgreSQL, interleaved rounds. */
async function fastifyAB(admin: pg.Pool): Promise<Row[]> {
  const schema = `kpi_bench_fastify_${process.pid}`;
  const servers = [await startServer('bench/kpi-server.ts', ['bare']), await startServer('bench/kpi-server.ts', ['kpi', PG_URL, schema])];
  const bare: number[] = [];
  const withKpi: number[] = [];
  const ratios: number[] = [];
  try {
    for (const { port } of servers) await load(port, 1); // warm-up (JIT)
    for (let round = 0; round < AB_ROUNDS; round++) {
      // Alternate which variant goes first.
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      const results: number[] = [0, 0];
      for (const index of order) {
        results[index] = await load(servers[index]!.port, SECONDS);
        // The KPI server writes its last events before the other variant's turn starts.
        if (index === 1) await fetch(`http://127.0.0.1:${servers[1]!.port}/__kpi`);
      }
      bare.push(results[0]!);
      withKpi.push(results[1]!);
      ratios.push(results[1]! / results[0]!);
    }
    const stats = (await (await fetch(`http://127.0.0.1:${servers[1]!.port}/__kpi`)).json()) as { recorded: number; written: number; dropped: Record<string, number> };
    const { rows } = await admin.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".events`);
    const dropped = Object.values(stats.dropped).reduce((sum, value) => sum + value, 0);
    emit({ bench: 'kpi', name: 'fastify_ab', bareRps: bare, kpiRps: withKpi, ratios, recorded: stats.recorded, written: stats.written, rows: rows[0]!.count, dropped });
    const kept = median(ratios);
    return [
      { what: 'Fastify hello-world, bare', result: `${median(bare).toFixed(0)} req/s (${spread(bare)})`, target: '', met: '' },
      {
        what: `Fastify + one \`kpi.record\` per request into PostgreSQL (${rows[0]!.count.toLocaleString('en-US')} rows written, ${dropped} dropped)`,
        result: `${median(withKpi).toFixed(0)} req/s (${spread(withKpi)}); kept **${(kept * 100).toFixed(1)} %** of bare [${ratios.map((ratio) => ratio.toFixed(3)).join(', ')}]`,
        target: '≥ 95 %',
        met: kept >= 0.95 ? 'yes' : 'no',
      },
    ];
  } finally {
    for (const { child } of servers) await stopServer(child);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/** Replaces this benchmark's section of BENCHMARKS.md (between its markers), appending it when missing. */
async function writeSection(body: string): Promise<void> {
  const start = '<!-- kpi:start -->';
  const end = '<!-- kpi:end -->';
  let text = existsSync(FILE) ? await readFile(FILE, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(FILE, text);
}

/** Runs every KPI benchmark, prints JSON lines and the table, and writes the `## KPI ingest` section. */
export async function runKpiBench(): Promise<void> {
  const rows: Row[] = [];
  const hasPg = await pgAvailable();
  const admin = new pg.Pool({ connectionString: PG_URL, max: 12 });
  admin.on('error', () => undefined);
  try {
    rows.push(...(await measureRecord()));
    if (hasPg) {
      const ingest = await measureIngest(admin, PG_URL);
      const reference = await measureReferenceInserts(admin, PG_URL);
      rows.push(...ingest.rows, ...reference.rows);
      const ratioSequential = ingest.medianRate / reference.sequentialRate;
      const ratioConcurrent = ingest.medianRate / reference.concurrentRate;
      emit({ bench: 'kpi', name: 'pg_vs_reference', ratioSequential, ratioConcurrent });
      rows.push({
        what: 'lookout (default) vs the reference\'s one INSERT per event',
        result: `**${ratioSequential.toFixed(0)}×** sequential, **${ratioConcurrent.toFixed(0)}×** 10 concurrent connections`,
        target: '≥ 20×',
        met: Math.min(ratioSequential, ratioConcurrent) >= 20 ? 'yes' : 'no',
      });
    } else {
      console.warn(`*** PostgreSQL not reachable at ${PG_URL}: the PostgreSQL rows are skipped ***`);
    }
    rows.push(...(await pgliteIngest()));
    if (hasPg) rows.push(...(await fastifyAB(admin)));
  } finally {
    await admin.end();
  }
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`;
  const table = ['| what | result | target | met |', '|---|---|---|---|', ...rows.map((row) => `| ${row.what} | ${row.result} | ${row.target} | ${row.met} |`)];
  console.log(table.join('\n'));
  await writeSection([
    '## KPI ingest',
    '',
    `${machine}; PostgreSQL 15 on the same machine (127.0.0.1, fsync on, default settings), so the database, the writer and the load generator share the CPUs.`,
    'Ingest = events recorded through `kpi.record` as fast as the writer drains them (the producer pauses while more than 80,000 events are pending, so nothing is dropped), timed from the first `record` to the end of `flush()`; each round writes into a fresh schema with the `events` table and its indexes.',
    `The reference inserts the same rows into the same table, one awaited INSERT per event (as the reference API does on its request path): on one connection, and on 10 connections at once. Fastify: each variant in its own process, autocannon (50 connections) from the benchmark process, ${AB_ROUNDS} rounds of ${SECONDS} s after a 1 s warm-up, the order alternated every round, the KPI server flushed (GET /__kpi) before the other variant's turn; median with min–max spread, per-round ratios in brackets.`,
    'Reproduce: `npx tsx bench/kpi.ts` (or `BENCH_ONLY=kpi npm run bench`); `LOOKOUT_BENCH_PG_URL` picks the server.',
    '',
    ...table,
  ].join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runKpiBench();
