import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from './schema.js';
import { hostStore, type HostedStore } from './store-host.js';
import { readerRefusal, startupParameters } from './store-roles.js';
import { failure } from '../../test/support/pg.js';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-roles-'));
let store: HostedStore;
let owner: pg.Client;

beforeAll(async () => {
  store = await hostStore({ dataDir: join(folder, 'kpi') });
  owner = new pg.Client({ connectionString: store.address.connectionString });
  await owner.connect();
  await migrate(owner);
  await owner.query(`INSERT INTO events (id, event, "user", value) VALUES (gen_random_uuid(), 'good_inference', 'u1', 2), (gen_random_uuid(), 'good_inference', 'u2', 3)`);
  // A schema and table made after the store started: readable through the default privileges.
  await owner.query('CREATE SCHEMA later; CREATE TABLE later.t AS SELECT 7 AS n');
}, 120_000);
afterAll(async () => {
  await owner?.end();
  await store?.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function asReader<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: store.address.readerConnectionString! });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('the embedded store read-only role', () => {
  it('is in the port file as a connection string of its own', () => {
    expect(store.address.readerConnectionString).toBe(`postgresql://lookout_reader@127.0.0.1:${store.address.port}/postgres`);
  });

  it('reads the events table (and tables made later) with pg, as lookout_reader', async () => {
    const rows = await asReader(async (client) => {
      const who = (await client.query('SELECT current_user, session_user')).rows[0];
      const events = (await client.query('SELECT count(*)::int AS n, sum(value)::int AS total FROM events')).rows[0];
      const later = (await client.query('SELECT n FROM later.t')).rows[0];
      // The extended protocol (a Parse with parameters) too.
      const bound = (await client.query('SELECT count(*)::int AS n FROM events WHERE "user" = $1', ['u2'])).rows[0];
      return { who, events, later, bound };
    });
    expect(rows).toEqual({ who: { current_user: 'lookout_reader', session_user: 'lookout_reader' }, events: { n: 2, total: 5 }, later: { n: 7 }, bound: { n: 1 } });
  });

  it.each([
    ["INSERT INTO events (id, event) VALUES (gen_random_uuid(), 'x')", '25006'],
    ['UPDATE events SET value = 0', '25006'],
    ['DELETE FROM events', '25006'],
    ['SET default_transaction_read_only = off; DELETE FROM events', '42501'],
    ['SET default_transaction_read_only = off; INSERT INTO events (id, event) SELECT gen_random_uuid(), event FROM events', '42501'],
    ['SET default_transaction_read_only = off; TRUNCATE events', '42501'],
    ['SET default_transaction_read_only = off; CREATE TABLE mine (n int)', '42501'],
    ['SET default_transaction_read_only = off; CREATE TEMP TABLE mine (n int)', '42501'],
    ['SET default_transaction_read_only = off; DROP TABLE events', '42501'],
    ['SET default_transaction_read_only = off; ALTER TABLE events ADD COLUMN x int', '42501'],
    ['SET ROLE postgres', '42501'],
    ["SELECT set_config('session_authorization', 'postgres', false)", '42501'],
    ["SELECT set_config('role', 'postgres', false)", '42501'],
    ["DO $$ BEGIN EXECUTE 'SET SESSION AUTHORI' || 'ZATION postgres'; END $$", '42501'],
    ['SET SESSION AUTHORIZATION postgres', '42501'],
    ['RESET SESSION AUTHORIZATION', '42501'],
    ['SET session_authorization = postgres', '42501'],
    ['SET U&"session\\005fauthorization" = postgres', '42501'],
    ['DISCARD ALL', '42501'],
  ])('refuses %s (SQLSTATE %s), and the connection stays the reader', async (sql, code) => {
    const { error, after } = await asReader(async (client) => {
      // Read-only by default, and without the privileges once that is turned off.
      const off = 'SET default_transaction_read_only = off; ';
      if (sql.startsWith(off)) await client.query(off);
      const error = await failure(client.query(sql.replace(off, '')));
      await client.query('ROLLBACK').catch(() => undefined);
      return { error, after: (await client.query('SELECT current_user, count(*)::int AS n FROM events')).rows[0] };
    });
    expect(error.code, error.message).toBe(code);
    expect(after).toEqual({ current_user: 'lookout_reader', n: 2 });
  });

  it('refuses a session-switching statement sent with the extended protocol, then goes on', async () => {
    const { error, after } = await asReader(async (client) => ({
      error: await failure(client.query('SET SESSION AUTHORIZATION postgres -- $1', [])),
      after: (await client.query({ text: 'SELECT current_user AS u, $1::int AS n', values: [5] })).rows[0],
    }));
    expect(error.code).toBe('42501');
    expect(after).toEqual({ u: 'lookout_reader', n: 5 });
  });

  it('hands the owner its own identity back after a reader, and keeps the reader out of its settings', async () => {
    await asReader((client) => client.query('SET statement_timeout = 1'));
    const row = (await owner.query("SELECT current_user, current_setting('statement_timeout') AS timeout, current_setting('default_transaction_read_only') AS ro")).rows[0];
    expect(row).toEqual({ current_user: 'postgres', timeout: '0', ro: 'off' });
    await owner.query(`INSERT INTO events (id, event) VALUES (gen_random_uuid(), 'owner_write')`);
    await owner.query(`DELETE FROM events WHERE event = 'owner_write'`);
  });

  it('works with psql: reads, refuses a write', async () => {
    const url = store.address.readerConnectionString!;
    const read = await run('psql', [url, '-At', '-c', 'SELECT current_user, count(*) FROM events']);
    expect(read.stdout.trim()).toBe('lookout_reader|2');
    const write = await failure(run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', 'DELETE FROM events']));
    expect(write.message).toContain('cannot execute DELETE in a read-only transaction');
  });

  it('refuses an unknown user or database with a clear FATAL error, and keeps serving the others', async () => {
    const port = store.address.port;
    const bob = await failure(new pg.Client({ connectionString: `postgresql://bob@127.0.0.1:${port}/postgres` }).connect());
    expect(bob).toMatchObject({ code: '28000', message: expect.stringContaining('role "bob" does not exist') });
    const database = await failure(new pg.Client({ connectionString: `postgresql://lookout_reader@127.0.0.1:${port}/shop` }).connect());
    expect(database).toMatchObject({ code: '3D000', message: expect.stringContaining('database "shop" does not exist') });
    const psql = await failure(run('psql', [`postgresql://mallory@127.0.0.1:${port}/postgres`, '-c', 'SELECT 1']));
    expect(psql.message).toContain('role "mallory" does not exist');
    expect(await asReader(async (client) => (await client.query('SELECT count(*)::int AS n FROM events')).rows[0])).toEqual({ n: 2 });
    expect((await owner.query('SELECT current_user')).rows[0]).toEqual({ current_user: 'postgres' });
  });
});

describe('store-roles helpers', () => {
  const query = (sql: string): Buffer => {
    const text = Buffer.from(`${sql}\0`);
    const header = Buffer.alloc(5);
    header.write('Q');
    header.writeInt32BE(4 + text.length, 1);
    return Buffer.concat([header, text]);
  };

  it('readerRefusal lets queries through and stops what names the session authorization', () => {
    expect(readerRefusal(query('SELECT count(*) FROM events WHERE $__timeFilter(ts)'))).toBeUndefined();
    expect(readerRefusal(query('reset  session\nauthorization'))).toContain('session authorization');
    expect(readerRefusal(query('discard all'))).toContain('session authorization');
    expect(readerRefusal(Buffer.from([0x46, 0, 0, 0, 4]))).toContain('function calls');
  });

  it('startupParameters reads the user and database of a StartupMessage', () => {
    const parameters = Buffer.from('user\0lookout_reader\0database\0postgres\0\0');
    const header = Buffer.alloc(8);
    header.writeInt32BE(8 + parameters.length);
    header.writeInt32BE(196608, 4);
    expect(startupParameters(Buffer.concat([header, parameters]))).toEqual({ user: 'lookout_reader', database: 'postgres' });
  });
});
