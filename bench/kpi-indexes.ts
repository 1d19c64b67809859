/**
 * Where PostgreSQL's CPU per KPI event goes: the same batches (binary COPY
 * through `PgStore.write`, as the store writes them) into tables that differ
 * only by their indexes, interleaved, on the local server. For each layout it
 * reads the backend's CPU time from /proc (utime + stime of the connection's
 * backend; the WAL writer and checkpointer are not counted) and the WAL bytes
 * per event (`pg_current_wal_lsn()` before and after).
 *
 *   npx tsx bench/kpi-indexes.ts
 *   BENCH_KPI_INDEX_EVENTS=400000 BENCH_KPI_INDEX_ROUNDS=5 BENCH_KPI_INDEX_BATCH=20000 npx tsx bench/kpi-indexes.ts
 *   BENCH_KPI_INDEX_LAYOUTS=pk,v1,v2 npx tsx bench/kpi-indexes.ts
 *
 * Linux only (it reads /proc/<backend pid>/stat), and the server must be local.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { EventBuffer } from '../src/kpi/buffer.js';
import type { KpiBatch } from '../src/kpi/batch.js';
import { IdGenerator } from '../src/kpi/ids.js';
import { migrate, pgStore } from '../src/kpi/index.js';
import { emit, median, spread } from './lib.js';

const PG_URL = process.env['LOOKOUT_BENCH_PG_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env['BENCH_KPI_INDEX_EVENTS'] ?? 400_000);
const ROUNDS = Number(process.env['BENCH_KPI_INDEX_ROUNDS'] ?? 5);
const BATCH = Number(process.env['BENCH_KPI_INDEX_BATCH'] ?? 20_000);
/** Events per millisecond of record time: about the Fastify benchmark's rate. */
const PER_MS = Number(process.env['BENCH_KPI_INDEX_PER_MS'] ?? 70);
const CLOCK_TICKS = 100;

/** Index layouts: the statements run after `CREATE TABLE ... (id uuid PRIMARY KEY, ...)`. */
const LAYOUTS: Record<string, (table: string) => string[]> = {
  /** No index at all (not a usable layout: dedupe needs the key), for reference. */
  none: (t) => [`ALTER TABLE ${t} DROP CONSTRAINT events_pkey`],
  /** The primary key only (what dedupe needs). */
  pk: () => [],
  'pk+brin': (t) => [`CREATE INDEX ON ${t} USING brin (creation_time) WITH (autosummarize = on)`],
  'pk+btree(time)': (t) => [`CREATE INDEX ON ${t} (creation_time)`],
  'pk+btree(event_time)': (t) => [`CREATE INDEX ON ${t} (event, creation_time)`],
  /** Migration 1: both btrees. */
  v1: (t) => [`CREATE INDEX ON ${t} (creation_time)`, `CREATE INDEX ON ${t} (event, creation_time)`],
  /** BRIN on time plus the event btree. */
  'brin+btree(event_time)': (t) => [`CREATE INDEX ON ${t} USING brin (creation_time) WITH (autosummarize = on)`, `CREATE INDEX ON ${t} (event, creation_time)`],
  /** Whatever `migrate()` creates today. */
  migrate: () => [],
};

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** `EVENTS` events shaped like the Fastify benchmark's, cut into batches as the dispatcher cuts them. */
function makeBatches(events: string[]): KpiBatch[] {
  const buffer = new EventBuffer(BATCH);
  const ids = new IdGenerator();
  const batches: KpiBatch[] = [];
  const start = Date.now();
  for (let index = 0; index < EVENTS;) {
    for (let row = 0; row < BATCH && index < EVENTS; row++, index++) {
      const id = String(index % 1000);
      buffer.push(events[index % events.length]!, start + index / PER_MS, id, 'resnet-50', JSON.stringify({ id, label: 'cat' }), null);
    }
    batches.push(buffer.take(BATCH, ids));
  }
  return batches;
}

/** Runs every layout, interleaved; prints and returns the markdown table of the medians. */
export async function runIndexBench(): Promise<string[]> {
  const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
  const chosen = (process.env['BENCH_KPI_INDEX_LAYOUTS'] ?? 'none,pk,pk+brin,pk+btree(time),pk+btree(event_time),v1,migrate').split(',');
  const eventNames = (process.env['BENCH_KPI_INDEX_EVENT_NAMES'] ?? 'good_inference').split(',');
  const batches = makeBatches(eventNames);
  const results: Record<string, { cpu: number[]; wal: number[]; rate: number[] }> = {};
  for (const layout of chosen) results[layout] = { cpu: [], wal: [], rate: [] };
  const schema = `kpi_bench_indexes_${process.pid}`;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const layout of order) {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        const table = `"${schema}".events`;
        if (layout === 'migrate') {
          await migrate(admin, { schema });
        } else {
          await admin.query(`CREATE SCHEMA "${schema}"`);
          await admin.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, creation_time timestamptz NOT NULL DEFAULT now(), event text NOT NULL, "user" text, model text, args jsonb, value double precision)`);
          for (const statement of LAYOUTS[layout]!(table)) await admin.query(statement);
        }
        await admin.query('CHECKPOINT'); // full-page images start over for every layout
        const store = pgStore({ connectionString: PG_URL, schema, migrate: false, maxConnections: 1 });
        try {
          const client = await (store.pool as pg.Pool).connect(); // typed structurally by lookout (no @types/pg in its declarations)
          const { rows } = await client.query<{ pid: number; lsn: string }>('SELECT pg_backend_pid() AS pid, pg_current_wal_lsn()::text AS lsn');
          client.release();
          const { pid, lsn } = rows[0]!;
          const cpuBefore = cpuSeconds(pid);
          const started = performance.now();
          for (const batch of batches) await store.write(batch, false);
          const seconds = (performance.now() - started) / 1000;
          const cpu = cpuSeconds(pid) - cpuBefore;
          const wal = await admin.query<{ bytes: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS bytes', [lsn]);
          results[layout]!.cpu.push((cpu * 1e6) / EVENTS);
          results[layout]!.wal.push(Number(wal.rows[0]!.bytes) / EVENTS);
          results[layout]!.rate.push(EVENTS / seconds);
        } finally {
          await store.close();
        }
      }
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
  emit({ bench: 'kpi', name: 'pg_index_layouts', events: EVENTS, batch: BATCH, eventNames, results });
  const lines = ['| index layout (besides the table) | backend CPU per event | WAL per event | events/s (one connection) |', '|---|---|---|---|'];
  for (const layout of chosen) {
    const { cpu, wal, rate } = results[layout]!;
    lines.push(`| ${DESCRIPTIONS[layout] ?? layout} | ${median(cpu).toFixed(2)} µs (${spread(cpu, 2)}) | ${median(wal).toFixed(0)} B | ${Math.round(median(rate)).toLocaleString('en-US')} (${spread(rate.map((value) => value / 1000))} k) |`);
  }
  console.log(lines.join('\n'));
  return lines;
}

const DESCRIPTIONS: Record<string, string> = {
  none: 'none (no key: not usable, dedupe needs it)',
  pk: 'primary key (id)',
  'pk+brin': 'key + brin (creation_time)',
  'pk+btree(time)': 'key + btree (creation_time) = **migration 2**',
  'pk+btree(event_time)': 'key + btree (event, creation_time)',
  v1: 'key + both btrees = migration 1',
  'brin+btree(event_time)': 'key + brin (creation_time) + btree (event, creation_time)',
  migrate: 'what `migrate()` creates',
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runIndexBench();
