/**
 * KPI ingest benchmark, side by side in one run, loopback only:
 *  1. `kpi.record` cost on the request path (median ns per call);
 *  2. sustained ingest into the local PostgreSQL (lookout's COPY writer, both
 *     dedupe modes) against the reference's one INSERT per event (sequential,
 *     and 10 concurrent connections);
 *  3. sustained ingest into embedded PGlite;
 *  4. Fastify hello-world bare, + KPI into a discarding store, + KPI into
 *     PostgreSQL (autocannon from this process, servers in child processes,
 *     interleaved; see kpi-fastify.ts).
 * Prints one JSON line per result and a markdown table, and writes the table
 * into BENCHMARKS.md between `<!-- kpi:start -->` and `<!-- kpi:end -->`.
 *
 *   npx tsx bench/kpi.ts                 (BENCH_ROUNDS=5 BENCH_SECONDS=4 by default)
 *   LOOKOUT_BENCH_PG_URL=postgres://... npx tsx bench/kpi.ts
 *   BENCH_KPI_PARTS=fastify npx tsx bench/kpi.ts   (a subset of record,ingest,pglite,fastify,
 *                                                  indexes,queries: printed only, BENCHMARKS.md
 *                                                  is left alone)
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { emit, SECONDS } from './lib.js';
import { AB_ROUNDS, fastifyAB, KPI_NODE_FLAGS, PG_PLACEMENTS } from './kpi-fastify.js';
import { runIndexBench } from './kpi-indexes.js';
import { measureIngest, measureRecord, measureReferenceInserts, pgliteIngest, type Row } from './kpi-ingest.js';
import { runQueryBench } from './kpi-queries.js';

const PG_URL = process.env['LOOKOUT_BENCH_PG_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const FILE = 'BENCHMARKS.md';
const ALL_PARTS = ['record', 'ingest', 'pglite', 'fastify', 'indexes', 'queries'] as const;
const PARTS = new Set((process.env['BENCH_KPI_PARTS'] ?? ALL_PARTS.join(',')).split(',').map((part) => part.trim()));
const COMPLETE = ALL_PARTS.every((part) => PARTS.has(part));

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
  const indexTable: string[] = [];
  const queryTable: string[] = [];
  const hasPg = await pgAvailable();
  const admin = new pg.Pool({ connectionString: PG_URL, max: 12 });
  admin.on('error', () => undefined);
  try {
    if (PARTS.has('record')) rows.push(...(await measureRecord()));
    if (hasPg && PARTS.has('ingest')) {
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
    } else if (!hasPg) {
      console.warn(`*** PostgreSQL not reachable at ${PG_URL}: the PostgreSQL rows are skipped ***`);
    }
    if (PARTS.has('pglite')) rows.push(...(await pgliteIngest()));
    if (hasPg && PARTS.has('fastify')) for (const placement of PG_PLACEMENTS) rows.push(...(await fastifyAB(admin, PG_URL, placement)));
    if (hasPg && PARTS.has('indexes')) indexTable.push(...(await runIndexBench()));
    if (hasPg && PARTS.has('queries')) queryTable.push(...(await runQueryBench()));
  } finally {
    await admin.end();
  }
  const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`;
  const table = ['| what | result | target | met |', '|---|---|---|---|', ...rows.map((row) => `| ${row.what} | ${row.result} | ${row.target} | ${row.met} |`)];
  console.log(table.join('\n'));
  if (!COMPLETE) return;
  const nodeFlags = KPI_NODE_FLAGS.length > 0 ? `started with \`${KPI_NODE_FLAGS.join(' ')}\` (a fixed young generation; the HTTP section has used node's default flags since issue 25)` : 'started with V8\'s default heap sizing (`BENCH_NODE_FLAGS=""`)';
  await writeSection([
    '## KPI ingest',
    '',
    `${machine}; PostgreSQL 15 on the same machine (127.0.0.1; fsync on, synchronous_commit on, shared_buffers 128 MB, autovacuum off on this test server), so the database, the writer and the load generator share the 2 CPUs; the machine also ran other people's work at times, which the min–max spreads show.`,
    'Ingest = events recorded through `kpi.record` as fast as the writer drains them (the producer pauses while more than 80,000 events are pending, so nothing is dropped), timed from the first `record` to the end of `flush()`; each round writes into a fresh schema with the `events` table and its indexes (migrations 1 and 2: primary key and btree on `creation_time`).',
    'How `record` reaches PostgreSQL: it validates the fields and serialises `args` (JSON) at once; for `pgStore`, the events of one event-loop turn are then encoded into PostgreSQL\'s binary COPY format in blocks of 256 KiB (after the turn, in a `setImmediate`, or when 1,024 wait), so no string of an event outlives the turn, and a batch is sent as those bytes. The record rows give both costs: the call (median over 1000-call samples, the loop turning between samples) and the CPU per event all-in (calls, encoding, hand-off to the store, GC).',
    `The reference inserts the same rows into the same table, one awaited INSERT per event (as the reference API does on its request path): on one connection, and on 10 connections at once. Fastify: four variants (bare; idle = a PostgreSQL recorder created, nothing recorded; discard = one record per request into a store that drops batches, encoded as for PostgreSQL; kpi = one record per request into PostgreSQL), each in its own process ${nodeFlags}, autocannon (50 connections) from the benchmark process, ${AB_ROUNDS} rounds of ${SECONDS} s after a 1 s warm-up, the order rotated every round, the kpi server flushed (GET /__kpi) before the next turn; median with min–max spread, per-round ratios in brackets. On Linux the servers run on CPU 0 and the load generator on CPU 1 (unpinned, the scheduler sometimes put both on one CPU and rounds swung by 2×). The A/B runs twice: first with every PostgreSQL process pinned to the load generator's CPU (\`taskset\`, undone afterwards), off the server's, as when the database has its own host, though the load generator then shares its CPU with the database, which lowers the kpi variant's throughput whatever the server does; then with PostgreSQL free to run on either CPU, the server's included (\`BENCH_KPI_PG_CPU=1\` or \`=shared\` for one run).`,
    'Why the idle variant: with V8\'s default heap sizing, merely allocating a typed array of about a megabyte made this hello-world 20–40 % faster (V8 sizes the young generation by what a process allocates; measured again: idle at 117 % of bare with V8\'s sizing, 97–101 % of bare with the fixed young generation); idle stays as the control with the recorder\'s footprint, and the target is checked against both. CPU per request is read from /proc (server process; for PostgreSQL only the kpi server\'s backends, WAL writer and checkpointer not included); it varies far less than req/s when other work shares the machine.',
    'Reproduce: `npx tsx bench/kpi.ts` (or `BENCH_ONLY=kpi npm run bench`; `BENCH_KPI_PARTS=fastify` for one part, printed only); `LOOKOUT_BENCH_PG_URL` picks the server, `BENCH_NODE_FLAGS` the servers\' node flags.',
    '',
    ...table,
    ...(indexTable.length > 0 ? [
      '',
      '### Where PostgreSQL\'s CPU per event goes: the indexes',
      '',
      'The same COPY batches (20,000 rows shaped like the Fastify variant\'s, time-ordered UUIDv7 ids) into tables that differ only by their indexes, interleaved rounds; CPU of the writing backend from /proc, WAL from `pg_current_wal_lsn()` (`npx tsx bench/kpi-indexes.ts`). The `(event, creation_time)` btree costs more than the `creation_time` one: migration 2 drops it. A BRIN index on `creation_time` instead of the btree would save another ~0.35 µs, but it only knows the page ranges summarised by autovacuum (`autosummarize`), VACUUM or `brin_summarize_new_values`, and reads the others whole: without autovacuum (this server, embedded PGlite) the dashboards\' queries would scan the table, so the btree stays.',
      '',
      ...indexTable,
    ] : []),
    ...(queryTable.length > 0 ? [
      '',
      '### The dashboards\' queries on each layout',
      '',
      'Every PostgreSQL panel of the committed Inference KPIs dashboard, expanded as Grafana does for the last 1, 6 and 24 hours, and the built-in dashboard\'s per-minute query, on one table whose rows are half labelled inferences and half other events (median of 5, after `VACUUM ANALYZE`; `npx tsx bench/kpi-queries.ts`). They aggregate every row of their range, so the time index serves them as well as the `(event, creation_time)` one did; that index pays off only for events that are a small share of long ranges: `eventIndexSql()` adds it back (`CREATE INDEX CONCURRENTLY`), and the migrations never drop it again.',
      '',
      ...queryTable,
    ] : []),
  ].join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runKpiBench();
