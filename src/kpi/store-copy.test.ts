import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER } from './copy-binary.js';
import { createKpi } from './kpi.js';
import { PgStore, pgStore } from './pg-store.js';
import { CopyRowBuffer } from './row-buffer.js';
import { IdGenerator } from './ids.js';
import { migrate } from './schema.js';
import { hostStore, type HostedStore } from './store-host.js';
import { serveWire, type PgliteWireLike, type WireServer } from './store-server.js';
import { failure } from '../../test/support/pg.js';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-copy-'));
let store: HostedStore;

beforeAll(async () => {
  store = await hostStore({ dataDir: join(folder, 'kpi') });
  const client = await connected();
  await migrate(client);
  await client.query('CREATE TABLE t (n int, s text)');
  await client.end();
}, 120_000);
afterAll(async () => {
  await store?.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function connected(connectionString = store.address.connectionString): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Sends `chunks` to a `COPY ... FROM STDIN` and resolves with the COPY's row count. */
function copyIn(client: pg.Client, sql: string, chunks: (string | Buffer)[], fail?: string): Promise<number> {
  const stream = client.query(copyStreams.from(sql));
  return new Promise((resolve, reject) => {
    stream.on('finish', () => resolve(stream.rowCount ?? -1));
    stream.on('error', reject);
    for (const chunk of chunks) stream.write(chunk);
    if (fail === undefined) stream.end();
    else stream.destroy(new Error(fail));
  });
}

async function count(sql = 'SELECT count(*)::int AS n FROM t'): Promise<number> {
  const client = await connected();
  try {
    return (await client.query<{ n: number }>(sql)).rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Five events encoded by the recorder's own buffer, as the COPY body that pgStore sends. */
function encodedRows(ids: IdGenerator, users: string[]): Buffer {
  const buffer = new CopyRowBuffer(100, ids);
  for (const user of users) buffer.push('good_inference', Date.now(), user, 'ünï 😀', '{"label":"cat"}', 0.5);
  const batch = buffer.take(users.length);
  return Buffer.concat([COPY_HEADER, ...batch.parts, COPY_TRAILER]);
}

describe('the embedded store takes COPY ... FROM STDIN', () => {
  it('binary COPY of encoded events, text and CSV COPY, in and out of a transaction', async () => {
    const client = await connected();
    const ids = new IdGenerator();
    expect(await copyIn(client, `COPY events (${COPY_COLUMNS}) FROM STDIN (FORMAT binary)`, [encodedRows(ids, ['a', 'b', 'c'])])).toBe(3);
    const rows = await client.query('SELECT "user", model, args, value FROM events WHERE "user" IN (\'a\', \'b\', \'c\') ORDER BY "user"');
    expect(rows.rows).toEqual(['a', 'b', 'c'].map((user) => ({ user, model: 'ünï 😀', args: { label: 'cat' }, value: 0.5 })));
    expect(await copyIn(client, 'copy t (n, s) from stdin', ['1\tone\n2\t', 'two\n'])).toBe(2);
    expect(await copyIn(client, "COPY t FROM STDIN WITH (FORMAT csv, DELIMITER ';')", ['3;"th;ree"\n'])).toBe(1);
    await client.query('BEGIN');
    expect(await copyIn(client, 'COPY t FROM STDIN', ['4\tfour\n'])).toBe(1);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n).toBe(4);
    await client.query('ROLLBACK');
    expect((await client.query('SELECT n, s FROM t ORDER BY n')).rows).toEqual([{ n: 1, s: 'one' }, { n: 2, s: 'two' }, { n: 3, s: 'th;ree' }]);
    await client.end();
  });

  it('pgStore probes COPY and writes with it, the staged retry included', async () => {
    const pgStore = new PgStore({ connectionString: store.address.connectionString, writeMethod: 'probe', migrate: false });
    await pgStore.open();
    expect(pgStore.writeMethod).toBe('copy');
    const buffer = new CopyRowBuffer(100, new IdGenerator());
    for (let index = 0; index < 10; index++) buffer.push('probe_event', Date.now(), `u-${index}`, null, null, index);
    const batch = buffer.take(10);
    await pgStore.write(batch, false);
    await pgStore.write(batch, true); // a retry whose first attempt committed: nothing twice
    await pgStore.close();
    expect(await count("SELECT count(*)::int AS n FROM events WHERE event = 'probe_event'")).toBe(10);
  });

  it('works with psql \\copy', async () => {
    const file = join(folder, 'rows.csv');
    writeFileSync(file, '10,ten\n11,eleven\n');
    const { stdout } = await run('psql', [store.address.connectionString, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy t from '${file}' csv`, '-At', '-c', 'SELECT string_agg(s, \',\' ORDER BY n) FROM t WHERE n >= 10']);
    expect(stdout.trim().split('\n')).toEqual(['COPY 2', 'ten,eleven']);
    const client = await connected();
    await client.query('DELETE FROM t WHERE n >= 10');
    await client.end();
  });

  it('answers bad data and CopyFail with an error, fails the transaction it is in, and the connection goes on', async () => {
    const client = await connected();
    expect(await failure(copyIn(client, 'COPY t FROM STDIN (FORMAT binary)', ['not binary']))).toMatchObject({ code: '22P04' });
    expect(await failure(copyIn(client, 'COPY t FROM STDIN', ['5\tfive\n'], 'the client gave up')))
      .toMatchObject({ code: '57014', message: expect.stringContaining('the client gave up') });
    expect(await failure(copyIn(client, 'COPY nowhere FROM STDIN', ['5\tfive\n']))).toMatchObject({ code: '42P01' });
    await client.query('BEGIN');
    await client.query('INSERT INTO t VALUES (6, \'six\')');
    expect(await failure(copyIn(client, 'COPY t FROM STDIN', ['x\ty\n']))).toMatchObject({ code: '22P02' });
    expect(await failure(client.query('SELECT 1'))).toMatchObject({ code: '25P02' });
    expect(await failure(copyIn(client, 'COPY t FROM STDIN', ['7\tseven\n']))).toMatchObject({ code: '25P02' });
    await client.query('ROLLBACK');
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    expect(await count()).toBe(3);
  });

  it('refuses a COPY with another statement in its query, and the read-only role\'s COPY', async () => {
    const client = await connected();
    expect(await failure(copyIn(client, 'COPY t FROM STDIN; SELECT 1', ['8\teight\n']))).toMatchObject({ code: '0A000' });
    await client.end();
    const reader = await connected(store.address.readerConnectionString);
    expect(await failure(copyIn(reader, 'COPY t FROM STDIN', ['8\teight\n']))).toMatchObject({ code: '25006' });
    expect((await reader.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 3 }]);
    await reader.end();
  });

  it('a client gone in the middle of a COPY leaves nothing, and the next one is served', async () => {
    for (const inTransaction of [false, true]) {
      const client = await connected();
      if (inTransaction) await client.query('BEGIN; INSERT INTO t VALUES (9, \'nine\')');
      const stream = client.query(copyStreams.from('COPY t FROM STDIN'));
      stream.on('error', () => undefined);
      stream.write('20\ttwenty\n');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server holds the CopyData
      // A reader waits for the backend meanwhile, and is served once the writer is gone.
      const waiting = count();
      (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      expect(await waiting).toBe(3);
    }
  });
});

describe('serveWire COPY limits (PGlite in memory)', () => {
  let db: PgliteWireLike;
  let server: WireServer;
  beforeAll(async () => {
    db = (await PGlite.create()) as unknown as PgliteWireLike;
    await db.exec('CREATE TABLE t (n int)');
    server = await serveWire(db, { maxCopyBytes: 1000 });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await (db as unknown as PGlite | undefined)?.close();
  });

  it('refuses more than maxCopyBytes of data with 54000, and the connection goes on', async () => {
    const client = await connected(`postgresql://postgres@127.0.0.1:${server.port}/postgres`);
    const lines = Array.from({ length: 300 }, (_, index) => `${index}\n`).join('');
    expect(await failure(copyIn(client, 'COPY t FROM STDIN', [lines]))).toMatchObject({ code: '54000', message: expect.stringContaining('1000 bytes') });
    const fits = Array.from({ length: 150 }, (_, index) => `${index}\n`).join(''); // 490 bytes
    expect(await copyIn(client, 'COPY t FROM STDIN', [fits])).toBe(150);
    expect((await client.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 150 }]);
    await client.end();
  });

  it('a KPI batch over the limit is split by the writer until it fits: every event written', async () => {
    const connectionString = `postgresql://postgres@127.0.0.1:${server.port}/postgres`;
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], batchSize: 100, store: pgStore({ connectionString, writeMethod: 'copy' }) });
    expect(await kpi.ready({ deadlineMs: 30_000 })).toBe(true);
    for (let index = 0; index < 100; index++) kpi.record('good_inference', { user: `user-${index}`, args: { padding: 'x'.repeat(40) } });
    expect(await kpi.close({ deadlineMs: 30_000 })).toBe(true);
    expect(kpi.stats()).toMatchObject({ recorded: 100, written: 100 });
    const client = await connected(connectionString);
    expect((await client.query('SELECT count(DISTINCT "user")::int AS n FROM events')).rows).toEqual([{ n: 100 }]);
    await client.end();
  });

  it('answers a binary COPY with a binary CopyInResponse giving the column list\'s count', async () => {
    const socket = connect(server.port, '127.0.0.1');
    const replies: Buffer[] = [];
    socket.on('data', (data: Buffer) => replies.push(data));
    await new Promise((resolve) => socket.once('connect', resolve));
    const parameters = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8);
    startup.writeInt32BE(8 + parameters.length, 0);
    startup.writeInt32BE(196_608, 4);
    socket.write(Buffer.concat([startup, parameters]));
    const sql = Buffer.from('COPY t (n) FROM STDIN (FORMAT \'binary\')\0');
    const query = Buffer.alloc(5);
    query.write('Q');
    query.writeInt32BE(4 + sql.length, 1);
    socket.write(Buffer.concat([query, sql]));
    const deadline = Date.now() + 5000;
    while (!Buffer.concat(replies).includes(Buffer.from([0x47, 0, 0, 0, 9])) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const all = Buffer.concat(replies);
    const at = all.indexOf(Buffer.from([0x47, 0, 0, 0, 9]));
    expect([...all.subarray(at, at + 10)]).toEqual([0x47, 0, 0, 0, 9, 1, 0, 1, 0, 1]);
    socket.write(Buffer.concat([Buffer.from([0x64, 0, 0, 0, 4 + COPY_HEADER.length]), COPY_HEADER, Buffer.from([0x64, 0, 0, 0, 6]), COPY_TRAILER, Buffer.from([0x63, 0, 0, 0, 4])]));
    while (!Buffer.concat(replies).includes(Buffer.from('COPY 0\0')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Buffer.concat(replies).includes(Buffer.from('COPY 0\0'))).toBe(true);
    socket.destroy();
  });
});
