import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { embeddedStore } from './embedded-store.js';
import { KPI_ERRORS } from './errors.js';
import { createKpi, type Kpi } from './kpi.js';
import { readStoreAddress, STORE_LOG_FILE } from './store-host.js';

const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-faults-'));
const started = new Set<number>();
const mounts: string[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already stopped
    }
  }
  for (const mount of mounts) {
    try {
      execFileSync('umount', ['-l', mount]);
    } catch {
      // not mounted any more
    }
  }
  rmSync(folder, { recursive: true, force: true });
});

async function query<T>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

const droppedOf = (kpi: Kpi): number => Object.values(kpi.stats().dropped).reduce((sum, n) => sum + n, 0);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A small disk for the data folder: a 160 MiB tmpfs where mounting is allowed (root on
 * Linux). Elsewhere the file-size limit (RLIMIT_FSIZE, through `prlimit`) of this process,
 * which store processes started meanwhile inherit, and of the running store process: their
 * writes past the limit fail with EFBIG instead of ENOSPC, the rest of the test is the same
 * (`LOOKOUT_TEST_FULL_DISK=fsize` takes that way where mounting is allowed).
 */
function smallDisk(path: string): 'tmpfs' | 'fsize' {
  mkdirSync(path, { recursive: true });
  if (process.env['LOOKOUT_TEST_FULL_DISK'] === 'fsize') return 'fsize'; // the fallback, where root could mount
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=160m', 'tmpfs', path], { stdio: 'ignore' });
    mounts.push(path);
    return 'tmpfs';
  } catch {
    return 'fsize';
  }
}

describe('the embedded store process on a full disk', () => {
  it('buffers, then drops and counts, while the disk is full, says so, and writes again once space returns', { timeout: 300_000 }, async () => {
    const disk = join(folder, 'disk');
    const mode = smallDisk(disk);
    const dataDir = join(disk, 'kpi');
    const failures: { code: string; message: string }[] = [];
    const kpi = createKpi({
      registry: new Registry(), events: ['good_inference'], bufferSize: 30_000, retry: { minDelayMs: 20, maxDelayMs: 500 },
      store: embeddedStore({ dataDir, idleTimeoutMs: 5000 }), onError: (error) => failures.push({ code: error.code, message: error.message }),
    });
    expect(await kpi.ready({ deadlineMs: 120_000 })).toBe(true);
    started.add(readStoreAddress(dataDir)!.pid);
    let recorded = 0;
    const record = (n: number): void => {
      for (let index = 0; index < n; index++) kpi.record('good_inference', { user: `u-${recorded++ % 10}`, args: { pad: 'x'.repeat(100) } });
    };
    record(5000);
    expect(await kpi.flush({ deadlineMs: 60_000 })).toBe(true);

    // Fill the disk, leaving 12 MiB: the table grows into it, then PostgreSQL's next WAL
    // segment (16 MiB) does not fit, which PGlite answers with a PANIC.
    const filler = join(disk, 'filler');
    const restore = mode === 'tmpfs' ? fillTmpfs(filler, 12 * 2 ** 20) : limitFileSize(dataDir, 8 * 2 ** 20);
    const end = performance.now() + 6000;
    while (performance.now() < end) {
      record(500);
      await sleep(10);
    }
    // The API neither hangs nor crashes: flush answers at its deadline, record keeps counting.
    const during = performance.now();
    expect(await kpi.flush({ deadlineMs: 1000 })).toBe(false);
    expect(performance.now() - during).toBeLessThan(5000);
    expect(kpi.stats().dropped.buffer_full).toBeGreaterThan(0);
    const full = failures.filter((failure) => failure.code === KPI_ERRORS.store && /No space left on device|File too large|disk is full/.test(failure.message));
    expect(full.length).toBeGreaterThan(0);
    expect(failures.map((failure) => failure.code)).toContain(KPI_ERRORS.bufferFull);

    restore();
    expect(await kpi.flush({ deadlineMs: 120_000 })).toBe(true);
    const stats = kpi.stats();
    expect(stats.recorded).toBe(recorded);
    expect(stats.recorded).toBe(stats.written + droppedOf(kpi));
    expect(droppedOf(kpi)).toBe(stats.dropped.buffer_full);
    const address = readStoreAddress(dataDir)!;
    started.add(address.pid);
    const [rows] = await query<{ n: number; ids: number }>(address.connectionString, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM events');
    expect(rows).toEqual({ n: stats.written, ids: stats.written });
    // Writing resumed: a new event after the flush lands too.
    record(1);
    expect(await kpi.close({ deadlineMs: 60_000 })).toBe(true);
    const [after] = await query<{ n: number }>(readStoreAddress(dataDir)!.connectionString, 'SELECT count(*)::int AS n FROM events');
    expect(after!.n).toBe(stats.written + 1);
    const log = readFileSync(join(dataDir, STORE_LOG_FILE), 'utf8');
    console.log(`full disk (${mode}): recorded ${recorded}, written ${stats.written + 1}, dropped ${droppedOf(kpi)}; ${full.length} write failures reported, first: ${full[0]!.message.slice(0, 200)}; store restarts after a PANIC: ${(log.match(/backend broke/g) ?? []).length}`);
  });

  it('two apps with different event declarations on one folder both write every row; an undeclared event is dropped and counted', { timeout: 180_000 }, async () => {
    const dataDir = join(folder, 'two-apps');
    const errorsA: string[] = [];
    const errorsB: string[] = [];
    const appA = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store: embeddedStore({ dataDir, idleTimeoutMs: 5000 }), onError: (error) => errorsA.push(error.code) });
    // B: other events, one name in common, other fields (model, value, nested args), its own batch size.
    const appB = createKpi({ registry: new Registry(), events: ['signup', 'churn', 'good_inference'], batchSize: 700, store: embeddedStore({ dataDir, idleTimeoutMs: 5000 }), onError: (error) => errorsB.push(error.code) });
    expect(await Promise.all([appA.ready({ deadlineMs: 120_000 }), appB.ready({ deadlineMs: 120_000 })])).toEqual([true, true]);
    const address = readStoreAddress(dataDir)!;
    started.add(address.pid);
    for (let index = 0; index < 3000; index++) {
      appA.record(index % 3 === 0 ? 'bad_inference' : 'good_inference', { user: `a-${index % 5}`, args: { label: 'cat' } });
      appB.record(index % 2 === 0 ? 'signup' : 'churn', { user: `b-${index}`, model: 'plan-v2', value: index, args: { plan: { tier: index % 4 } } });
      if (index % 1000 === 0) appB.record('good_inference', { user: 'b-shared', value: 1 });
    }
    (appA as unknown as Kpi).record('signup', { user: 'a-wrong' }); // declared by B, not by A
    expect(await Promise.all([appA.close({ deadlineMs: 60_000 }), appB.close({ deadlineMs: 60_000 })])).toEqual([true, true]);
    expect(appA.stats()).toMatchObject({ recorded: 3001, written: 3000, dropped: { unknown_event: 1 } });
    expect(appB.stats()).toMatchObject({ recorded: 3003, written: 3003 });
    expect(errorsA).toEqual([KPI_ERRORS.unknownEvent]);
    expect(errorsB).toEqual([]);
    const rows = await query<{ app: string; event: string; n: number }>(address.connectionString,
      'SELECT left("user", 1) AS app, event, count(*)::int AS n FROM events GROUP BY 1, 2 ORDER BY 1, 2');
    expect(rows).toEqual([
      { app: 'a', event: 'bad_inference', n: 1000 },
      { app: 'a', event: 'good_inference', n: 2000 },
      { app: 'b', event: 'churn', n: 1500 },
      { app: 'b', event: 'good_inference', n: 3 },
      { app: 'b', event: 'signup', n: 1500 },
    ]);
  });
});

/** Fills the tmpfs at `filler`'s folder but `leave` bytes; returns what frees the space again. */
function fillTmpfs(filler: string, leave: number): () => void {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(2 ** 20);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  execFileSync('truncate', ['-s', `-${Math.round(leave / 1024)}K`, filler]);
  return () => rmSync(filler);
}

/**
 * RLIMIT_FSIZE of this process (inherited by store processes it starts meanwhile) and of the
 * store process serving `dataDir`; returns what lifts it from this process and the store process then serving.
 */
function limitFileSize(dataDir: string, bytes: number): () => void {
  const set = (limit: string, target: number | undefined): void => {
    if (target === undefined) return;
    try {
      execFileSync('prlimit', ['--pid', String(target), `--fsize=${limit}:`], { stdio: 'ignore' });
    } catch {
      // that process has gone
    }
  };
  const first = readStoreAddress(dataDir)?.pid;
  set(String(bytes), process.pid);
  set(String(bytes), first);
  return () => {
    set('unlimited', process.pid);
    set('unlimited', first);
    set('unlimited', readStoreAddress(dataDir)?.pid);
  };
}
