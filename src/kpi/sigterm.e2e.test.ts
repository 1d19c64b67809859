import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../test/support/e2e.js';
import { PG_URL, adminPool, countRows, pgReachable, uniqueName } from '../../test/kpi/pg.js';

const CHILD = fileURLToPath(new URL('../../test/kpi/sigterm-child.ts', import.meta.url));
const COUNT = 20_000;

/** Runs the child until it has recorded, checks `beforeSignal`, sends SIGTERM, and returns how it ended. */
async function recordThenTerminate(args: string[], beforeSignal: () => Promise<void>): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const recorded = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.trim());
    });
    void exited.then(() => reject(new Error(`child exited early: ${stderr}`)));
  });
  expect(recorded).toBe(`recorded ${COUNT}`);
  await beforeSignal();
  child.kill('SIGTERM');
  return { ...(await exited), stderr };
}

describe('SIGTERM flushes pending events (child process)', () => {
  const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-sigterm-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('embedded PGlite: every pending event is in the table after the process exits on SIGTERM', async () => {
    const dataDir = join(folder, 'pglite');
    const result = await recordThenTerminate(['pglite', dataDir, String(COUNT)], async () => undefined);
    expect(result).toMatchObject({ signal: 'SIGTERM', code: null });
    const db = await PGlite.create({ dataDir });
    try {
      const { rows } = await db.query<{ rows: number; distinct: number }>(`SELECT count(*)::int AS rows, count(DISTINCT args->>'i')::int AS distinct FROM events`);
      expect(rows[0]).toEqual({ rows: COUNT, distinct: COUNT });
    } finally {
      await db.close();
    }
  });
});

const available = await probe('PostgreSQL', pgReachable);

describe.skipIf(!available)('SIGTERM flushes pending events to PostgreSQL (child process)', () => {
  const admin = available ? adminPool() : (undefined as unknown as pg.Pool);
  const schema = uniqueName('sigterm');
  afterAll(async () => {
    if (!available) return;
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('every pending event is in the table after the process exits on SIGTERM', async () => {
    const result = await recordThenTerminate(['postgres', schema, String(COUNT), PG_URL], async () => {
      // The events are really pending: nothing is in the table yet.
      expect((await countRows(admin, schema)).rows).toBe(0);
    });
    expect(result).toMatchObject({ signal: 'SIGTERM', code: null });
    expect(await countRows(admin, schema)).toEqual({ rows: COUNT, distinct: COUNT });
  });
});
