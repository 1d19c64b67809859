// The generated initdb script, run for real: it creates public.events and a reader that can SELECT it and nothing else.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionString, PG_URL, pgReachable, randomPassword, uniqueName } from '../../test/support/pg.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { migrate, MIGRATIONS } from '../kpi/schema.js';
import { resolveProvisionOptions } from './options.js';
import { readerInitScript } from './postgres.js';

const run = promisify(execFile);
const available = (await probe('PostgreSQL', pgReachable)) && (await probe('psql', () => hasCommand('psql', ['--version'])));

describe.skipIf(!available)('postgres/initdb/10-lookout-reader.sh', () => {
  const database = uniqueName('initdb');
  const role = uniqueName('reader');
  const password = randomPassword();
  const admin = new pg.Client({ connectionString: PG_URL });
  let dir = '';

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('creates the events table and a LOGIN role that can only read it', async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    dir = await mkdtemp(join(tmpdir(), 'lookout-initdb-'));
    const script = join(dir, 'init.sh');
    await writeFile(script, readerInitScript(resolveProvisionOptions({ datasources: { postgres: { readerRole: role } } })));
    const url = new URL(PG_URL);
    await run('sh', [script], {
      env: { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGPASSWORD: decodeURIComponent(url.password), POSTGRES_USER: decodeURIComponent(url.username), POSTGRES_DB: database, LOOKOUT_READER_PASSWORD: password },
      timeout: 30_000,
    });

    const owner = new pg.Client({ connectionString: connectionString({ database }) });
    await owner.connect();
    // The table starts in the current layout: the primary key and the time index (migration 2 dropped the event index).
    const { rows: indexes } = await owner.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'events' ORDER BY 1`);
    expect(indexes.map(({ name }) => name)).toEqual(['events_creation_time_idx', 'events_pkey']);
    // The API's own migrations find the table (each is idempotent) and record their versions.
    expect(await migrate(owner)).toEqual(MIGRATIONS.map(({ version }) => version));
    await owner.query(`INSERT INTO events (id, event, "user", args) VALUES (gen_random_uuid(), 'good_inference', 'u1', '{"label":"cat"}')`);
    await owner.end();

    const reader = new pg.Client({ connectionString: connectionString({ user: role, password, database }) });
    await reader.connect();
    try {
      const { rows } = await reader.query<{ count: number }>('SELECT count(*)::int AS count FROM events');
      expect(rows[0]!.count).toBe(1);
      await expect(reader.query(`INSERT INTO events (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toThrow(/read-only transaction|permission denied/);
      await expect(reader.query('BEGIN READ WRITE; DELETE FROM events; COMMIT')).rejects.toThrow(/permission denied/);
      await reader.query('ROLLBACK').catch(() => undefined);
      await expect(reader.query('SELECT * FROM lookout_schema_migrations')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
  });
});
