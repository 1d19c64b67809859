/**
 * The measuring parts of `bench/kpi.ts`: `record` cost, sustained ingest into
 * PostgreSQL and PGlite, and the reference's one INSERT per event.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from '../src/index.js';
import { createKpi, migrate, pgStore, pgliteStore, type Kpi, type KpiStore } from '../src/kpi/index.js';
import { emit, median, ROUNDS, spread } from './lib.js';

/** One line of the markdown table. */
export interface Row {
  what: string;
  result: string;
  target: string;
  met: string;
}

const INGEST_EVENTS = Number(process.env['BENCH_KPI_EVENTS'] ?? 1_000_000);
const PGLITE_EVENTS = Number(process.env['BENCH_KPI_PGLITE_EVENTS'] ?? 200_000);
const INGEST_ROUNDS = Math.min(ROUNDS, 3);
const REFERENCE_SECONDS = 3;
const USERS = Array.from({ length: 100 }, (_, index) => `user-${index}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const rate = (values: readonly number[]): string => `${Math.round(median(values)).toLocaleString('en-US')} events/s (${spread(values.map((value) => value / 1000))} k)`;

const discard: KpiStore = { kind: 'discard', open: async () => undefined, write: async () => undefined, close: async () => undefined };
/** Drops batches too, but takes rows encoded at record time, as `pgStore` does. */
const discardEncoded: KpiStore = { ...discard, rowEncoding: 'pg-copy-binary' };

/**
 * `record` cost for three call shapes and both buffer kinds: the median ns per
 * call over 1000-call samples (the event loop turns between samples, so work
 * deferred to the end of the turn is not in them), and the CPU per event
 * all-in over 500,000 calls (process CPU time: the calls, the encoding after
 * each turn, the writer handing batches to the discarding store, GC).
 */
export async function measureRecord(): Promise<Row[]> {
  const rows: Row[] = [];
  const stores: [string, KpiStore][] = [
    ['store: discard, rows encoded after each event-loop turn, as for PostgreSQL', discardEncoded],
    ['store: discard, rows kept as columns, as for PGlite', discard],
  ];
  const turn = (): Promise<unknown> => new Promise((resolve) => setImmediate(resolve));
  for (const [storeName, store] of stores) {
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store });
    const shapes: [string, (index: number) => void][] = [
      ['`record(event, { user, model, args: { label, score } })`', (index) => kpi.record('good_inference', { user: USERS[index % 100], model: 'resnet-50', args: { label: 'cat', score: 0.93 } })],
      ['`record(event, { user, model })`', (index) => kpi.record('good_inference', { user: USERS[index % 100], model: 'resnet-50' })],
      ['`record(event)`', () => kpi.record('good_inference')],
    ];
    for (const [name, call] of shapes) {
      const perRound: number[] = [];
      const allIn: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const samples: number[] = [];
        for (let sample = 0; sample < 500; sample++) {
          const start = process.hrtime.bigint();
          for (let index = 0; index < 1000; index++) call(index);
          samples.push(Number(process.hrtime.bigint() - start) / 1000);
          await turn();
        }
        perRound.push(median(samples));
        await kpi.flush();
        const cpu = process.cpuUsage();
        for (let sample = 0; sample < 500; sample++) {
          for (let index = 0; index < 1000; index++) call(index);
          await turn();
        }
        await kpi.flush();
        const used = process.cpuUsage(cpu);
        allIn.push(((used.user + used.system) * 1000) / 500_000);
      }
      emit({ bench: 'kpi', name: 'record', store: storeName, shape: name, medianNsPerRound: perRound, allInNsPerRound: allIn });
      rows.push({
        what: `${name} (${storeName})`,
        result: `${median(perRound).toFixed(0)} ns median per call (${spread(perRound)}); ${median(allIn).toFixed(0)} ns CPU per event all-in (${spread(allIn)})`,
        target: '≤ 300 ns',
        met: median(perRound) <= 300 ? 'yes' : 'no',
      });
    }
    const { dropped } = kpi.stats();
    if (Object.values(dropped).some((count) => count > 0)) throw new Error(`record bench dropped events: ${JSON.stringify(dropped)}`);
    await kpi.close();
  }
  return rows;
}

/** Records `total` events as fast as the writer drains them; resolves when all are written. Returns events/s. */
async function ingest(kpi: Kpi<'good_inference'>, total: number): Promise<number> {
  const started = performance.now();
  for (let index = 0; index < total;) {
    if (kpi.stats().pending > 80_000) {
      await sleep(1);
      continue;
    }
    for (let step = 0; step < 5000 && index < total; step++, index++) {
      kpi.record('good_inference', { user: USERS[index % 100], model: 'resnet-50', args: { i: index, label: 'cat' } });
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!(await kpi.flush({ deadlineMs: 300_000 }))) throw new Error('flush did not finish');
  const seconds = (performance.now() - started) / 1000;
  const { written, dropped } = kpi.stats();
  if (written !== total || Object.values(dropped).some((count) => count > 0)) throw new Error(`ingest lost events: ${JSON.stringify(kpi.stats())}`);
  return total / seconds;
}

/** Sustained ingest into PostgreSQL with both dedupe modes, interleaved rounds. */
export async function measureIngest(admin: pg.Pool, url: string): Promise<{ rows: Row[]; medianRate: number }> {
  const modes = ['on-retry', 'always'] as const;
  const rates: Record<(typeof modes)[number], number[]> = { 'on-retry': [], always: [] };
  for (let round = 0; round < INGEST_ROUNDS; round++) {
    for (const dedupe of round % 2 === 0 ? modes : [...modes].reverse()) {
      const schema = `kpi_bench_ingest_${process.pid}_${round}_${dedupe === 'always' ? 'a' : 'r'}`;
      const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store: pgStore({ connectionString: url, schema, dedupe }) });
      try {
        if (!(await kpi.ready({ deadlineMs: 10_000 }))) throw new Error('PostgreSQL store did not open');
        rates[dedupe].push(await ingest(kpi, INGEST_EVENTS));
        await kpi.close();
        const { rows } = await admin.query<{ count: number }>(`SELECT count(*)::int AS count FROM "${schema}".events`);
        if (rows[0]!.count !== INGEST_EVENTS) throw new Error(`expected ${INGEST_EVENTS} rows, found ${rows[0]!.count}`);
      } finally {
        await kpi.close();
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
  }
  emit({ bench: 'kpi', name: 'pg_ingest', events: INGEST_EVENTS, eventsPerSecond: rates });
  return {
    medianRate: median(rates['on-retry']),
    rows: [
      { what: `PostgreSQL ingest, lookout default (binary COPY; staging + ON CONFLICT on retries), ${INGEST_EVENTS.toLocaleString('en-US')} events × ${INGEST_ROUNDS}`, result: rate(rates['on-retry']), target: '≥ 200,000 events/s', met: median(rates['on-retry']) >= 200_000 ? 'yes' : 'no' },
      { what: 'PostgreSQL ingest, `dedupe: \'always\'` (every batch via staging + ON CONFLICT)', result: rate(rates.always), target: '', met: '' },
    ],
  };
}

/** The reference: one awaited INSERT per event, on one connection and on ten. */
export async function measureReferenceInserts(admin: pg.Pool, url: string): Promise<{ rows: Row[]; sequentialRate: number; concurrentRate: number }> {
  const schema = `kpi_bench_reference_${process.pid}`;
  await migrate(admin, { schema });
  const sql = `INSERT INTO "${schema}".events (id, creation_time, event, "user", model, args, value) VALUES ($1, $2, $3, $4, $5, $6, $7)`;
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  const worker = async (client: pg.Pool | pg.PoolClient, until: number): Promise<number> => {
    let count = 0;
    while (performance.now() < until) {
      await client.query(sql, [randomUUID(), new Date(), 'good_inference', USERS[count % 100], 'resnet-50', JSON.stringify({ i: count, label: 'cat' }), null]);
      count++;
    }
    return count;
  };
  const sequential: number[] = [];
  const concurrent: number[] = [];
  try {
    for (let round = 0; round < INGEST_ROUNDS; round++) {
      const client = await pool.connect();
      const done = await worker(client, performance.now() + REFERENCE_SECONDS * 1000);
      client.release();
      sequential.push(done / REFERENCE_SECONDS);
      const until = performance.now() + REFERENCE_SECONDS * 1000;
      const counts = await Promise.all(Array.from({ length: 10 }, () => worker(pool, until)));
      concurrent.push(counts.reduce((sum, count) => sum + count, 0) / REFERENCE_SECONDS);
    }
  } finally {
    await pool.end();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
  emit({ bench: 'kpi', name: 'reference_insert', eventsPerSecond: { sequential, concurrent } });
  return {
    sequentialRate: median(sequential),
    concurrentRate: median(concurrent),
    rows: [
      { what: 'Reference: one INSERT per event, 1 connection', result: rate(sequential), target: '', met: '' },
      { what: 'Reference: one INSERT per event, 10 connections at once', result: rate(concurrent), target: '', met: '' },
    ],
  };
}

/** Sustained ingest into embedded PGlite (default settings) in a temporary folder. */
export async function pgliteIngest(): Promise<Row[]> {
  const rates: number[] = [];
  for (let round = 0; round < INGEST_ROUNDS; round++) {
    const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-bench-'));
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store: pgliteStore({ dataDir: join(folder, 'pglite') }) });
    try {
      if (!(await kpi.ready({ deadlineMs: 60_000 }))) throw new Error('PGlite did not open');
      rates.push(await ingest(kpi, PGLITE_EVENTS));
    } finally {
      await kpi.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }
  emit({ bench: 'kpi', name: 'pglite_ingest', events: PGLITE_EVENTS, eventsPerSecond: rates });
  return [{ what: `PGlite ingest (embedded, default batch of 2,000), ${PGLITE_EVENTS.toLocaleString('en-US')} events × ${INGEST_ROUNDS}`, result: rate(rates), target: '≥ 30,000 events/s', met: median(rates) >= 30_000 ? 'yes' : 'no' }];
}
