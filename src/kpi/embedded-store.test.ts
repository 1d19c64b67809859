import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { embeddedStore } from './embedded-store.js';
import { KPI_ERRORS } from './errors.js';
import { createKpi, type Kpi } from './kpi.js';
import { pgStore } from './pg-store.js';
import { readStoreAddress, STORE_LOCK_FILE, STORE_PORT_FILE } from './store-host.js';
import { joinStore } from './store-process.js';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-embedded-'));
const started = new Set<number>();
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already stopped (idle timeout)
    }
  }
  rmSync(folder, { recursive: true, force: true });
});

async function count(connectionString: string, sql = 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct_ids FROM events'): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<Record<string, number>>(sql)).rows[0]!;
  } finally {
    await client.end();
  }
}

function dropped(kpi: Kpi): number {
  return Object.values(kpi.stats().dropped).reduce((sum, n) => sum + n, 0);
}

describe('embeddedStore (a store process per data folder)', () => {
  it('writes through the store process with binary COPY (probed), which psql can read; INSERT still works there', { timeout: 120_000 }, async () => {
    const dataDir = join(folder, 'basic');
    const store = embeddedStore({ dataDir, idleTimeoutMs: 3000 });
    expect(store.rowEncoding).toBe('pg-copy-binary'); // events are encoded when recorded
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store });
    expect(await kpi.ready({ deadlineMs: 100_000 })).toBe(true);
    started.add(readStoreAddress(dataDir)!.pid);
    expect(store.writeMethod).toBe('copy');
    expect(readStoreAddress(dataDir)!.pid).not.toBe(process.pid);
    for (let index = 0; index < 5000; index++) kpi.record('good_inference', { user: `u-${index}`, args: { index }, value: index });
    const odd = (recorder: Kpi, tag: string): void => {
      recorder.record('good_inference', { user: `${tag} quote " back\\slash, {brace}`, model: 'ünï 😀', args: { label: 'a"b\\c', nested: [1, null] }, value: Number.POSITIVE_INFINITY });
      recorder.record('good_inference', { user: `${tag} nul\0gone`, model: 'NULL', value: -0.125 });
    };
    odd(kpi, 'copy');
    expect(await kpi.close({ deadlineMs: 60_000 })).toBe(true);
    // The INSERT path (a store process that refuses COPY, or no pg-copy-streams): every kind of value through its array literals.
    const inserting = createKpi({ registry: new Registry(), events: ['good_inference'], store: pgStore({ connectionString: store.connectionString!, writeMethod: 'insert', migrate: false }) });
    odd(inserting, 'insert');
    expect(await inserting.close({ deadlineMs: 60_000 })).toBe(true);
    const { stdout } = await run('psql', [store.connectionString!, '-At', '-c', 'SELECT count(*), sum(value)::bigint FROM events WHERE "user" LIKE \'u-%\'']);
    expect(stdout.trim()).toBe(`5000|${(4999 * 5000) / 2}`);
    const client = new pg.Client({ connectionString: store.connectionString! });
    await client.connect();
    const rows = await client.query('SELECT "user", model, args, value FROM events WHERE "user" NOT LIKE \'u-%\' ORDER BY "user", value DESC');
    await client.end();
    expect(rows.rows).toEqual(['copy', 'insert'].flatMap((tag) => [
      { user: `${tag} nulgone`, model: 'NULL', args: null, value: -0.125 },
      { user: `${tag} quote " back\\slash, {brace}`, model: 'ünï 😀', args: { label: 'a"b\\c', nested: [1, null] }, value: Number.POSITIVE_INFINITY },
    ]));
  });

  it('loses nothing and duplicates nothing when the store process is SIGKILLed under load', { timeout: 180_000 }, async () => {
    const dataDir = join(folder, 'sigkill');
    const failures: string[] = [];
    const kpi = createKpi({
      registry: new Registry(), events: ['good_inference'], bufferSize: 200_000, retry: { minDelayMs: 20, maxDelayMs: 500 },
      store: embeddedStore({ dataDir, idleTimeoutMs: 3000 }), onError: (error) => failures.push(error.code),
    });
    expect(await kpi.ready({ deadlineMs: 100_000 })).toBe(true);
    const first = readStoreAddress(dataDir)!.pid;
    started.add(first);
    let recorded = 0;
    const load = async (ms: number): Promise<void> => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        for (let index = 0; index < 100; index++) kpi.record('good_inference', { user: `u-${recorded++ % 7}` });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    await load(1000);
    process.kill(first, 'SIGKILL');
    await load(1500);
    expect(await kpi.flush({ deadlineMs: 120_000 })).toBe(true);
    const second = readStoreAddress(dataDir)!;
    started.add(second.pid);
    expect(second.pid).not.toBe(first);
    const stats = kpi.stats();
    expect(stats.recorded).toBe(recorded);
    expect(stats.recorded).toBe(stats.written + dropped(kpi));
    expect(dropped(kpi)).toBe(0); // the buffer held everything while the store restarted
    expect(failures).toContain(KPI_ERRORS.store); // the kill was felt, not missed
    expect(recorded).toBeGreaterThan(10_000);
    const rows = await count(second.connectionString);
    expect(rows).toEqual({ n: stats.written, distinct_ids: stats.written });
    expect(await kpi.close()).toBe(true);
  });

  it('four processes on one folder (as cluster workers) share one store process', { timeout: 180_000 }, async () => {
    const dataDir = join(folder, 'shared');
    const child = (event: string) => new Promise<{ flushed: boolean; stats: { written: number; recorded: number }; connectionString: string }>((resolve, reject) => {
      const process_ = spawn(process.execPath, ['--import', 'tsx', 'test/kpi/embedded-child.ts', dataDir, '4000', event], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      process_.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      process_.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      process_.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim()) as never) : reject(new Error(`child exited ${String(code)}: ${err}`))));
    });
    const workers = ['worker_1', 'worker_2', 'worker_3', 'worker_4'];
    const reports = await Promise.all(workers.map(child));
    started.add(readStoreAddress(dataDir)!.pid);
    expect(new Set(reports.map((report) => report.connectionString)).size).toBe(1);
    expect(reports.map((report) => [report.flushed, report.stats.written])).toEqual(workers.map(() => [true, 4000]));
    const client = new pg.Client({ connectionString: reports[0]!.connectionString });
    await client.connect();
    const { rows } = await client.query<{ event: string; n: number }>('SELECT event, count(*)::int AS n FROM events GROUP BY event ORDER BY event');
    await client.end();
    expect(rows).toEqual(workers.map((event) => ({ event, n: 4000 })));
  });

  it('takes over a stale lock and port file left by a crashed run', { timeout: 120_000 }, async () => {
    const dataDir = join(folder, 'stale');
    mkdirSync(dataDir, { recursive: true });
    const gone = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => gone.once('exit', () => resolve(gone.pid!)));
    writeFileSync(join(dataDir, STORE_LOCK_FILE), `${deadPid}\n`);
    writeFileSync(join(dataDir, STORE_PORT_FILE), JSON.stringify({ pid: deadPid, host: '127.0.0.1', port: 1, connectionString: 'postgresql://postgres@127.0.0.1:1/postgres' }));
    const address = await joinStore({ dataDir, idleTimeoutMs: 3000 });
    started.add(address.pid);
    expect(address.pid).not.toBe(deadPid);
    expect(Number(readFileSync(join(dataDir, STORE_LOCK_FILE), 'utf8'))).toBe(address.pid);
    expect(await count(address.connectionString, 'SELECT 1 AS one')).toEqual({ one: 1 });
  });

  it('fails at start with LOOKOUT_E_KPI_STORE_START, never a hang: a file for a folder, a folder of another version', { timeout: 120_000 }, async () => {
    const file = join(folder, 'a-file');
    writeFileSync(file, 'not a folder');
    await expect(joinStore({ dataDir: file })).rejects.toMatchObject({ code: KPI_ERRORS.storeStart });
    const old = join(folder, 'old');
    mkdirSync(old);
    writeFileSync(join(old, 'PG_VERSION'), '9.6\n');
    await expect(joinStore({ dataDir: old, startTimeoutMs: 60_000 })).rejects.toMatchObject({ code: KPI_ERRORS.storeStart, message: expect.stringMatching(/exited with code 1: .*PGlite could not open/) });
  });

  it('stops once no client has been connected for idleTimeoutMs, and removes its files', { timeout: 120_000 }, async () => {
    const dataDir = join(folder, 'basic'); // initialised by the first test
    const store = embeddedStore({ dataDir, idleTimeoutMs: 500 });
    await store.open();
    const { pid } = readStoreAddress(dataDir)!;
    started.add(pid);
    await store.close();
    const deadline = performance.now() + 30_000;
    while (readStoreAddress(dataDir) !== undefined && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readStoreAddress(dataDir)).toBeUndefined();
    await expect.poll(() => { try { return readFileSync(join(dataDir, STORE_LOCK_FILE), 'utf8'); } catch { return 'gone'; } }, { timeout: 10_000 }).toBe('gone');
  });

  it('an API idle long enough for the store to stop starts it again on its next write, without a failure', { timeout: 120_000 }, async () => {
    const dataDir = join(folder, 'basic');
    const failures: string[] = [];
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store: embeddedStore({ dataDir, idleTimeoutMs: 300 }), onError: (error) => failures.push(error.message) });
    kpi.record('good_inference');
    expect(await kpi.flush({ deadlineMs: 60_000 })).toBe(true);
    const before = await count(readStoreAddress(dataDir)!.connectionString, 'SELECT count(*)::int AS n FROM events');
    const first = readStoreAddress(dataDir)!.pid;
    // Stop it as the idle timeout does (the pool's connections stay open, so it would not go idle here).
    process.kill(first, 'SIGTERM');
    await expect.poll(() => readStoreAddress(dataDir), { timeout: 20_000 }).toBeUndefined();
    kpi.record('good_inference');
    expect(await kpi.flush({ deadlineMs: 60_000 })).toBe(true);
    const second = readStoreAddress(dataDir)!;
    started.add(second.pid);
    expect(second.pid).not.toBe(first);
    expect(failures).toEqual([]);
    expect(await kpi.close()).toBe(true);
    expect(await count(second.connectionString, 'SELECT count(*)::int AS n FROM events')).toEqual({ n: before['n']! + 1 });
  });
});
