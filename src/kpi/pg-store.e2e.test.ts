import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../test/support/e2e.js';
import { dropCreated } from '../../test/support/pg.js';
import { PG_URL, adminPool, pgReachable, uniqueName } from '../../test/kpi/pg.js';
import { Registry } from '../core/registry.js';
import { EventBuffer } from './buffer.js';
import { IdGenerator } from './ids.js';
import { createKpi } from './kpi.js';
import { migrateDatabase, pgStore } from './pg-store.js';
import { partitionEvents } from './partitioning.js';
import { createReaderRole, eventIndexSql, migrate, MIGRATIONS } from './schema.js';

const available = await probe('PostgreSQL', pgReachable);

describe.skipIf(!available)('pgStore against real PostgreSQL', () => {
  const admin = available ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  const roles: string[] = [];
  const newSchema = (purpose: string): string => {
    const schema = uniqueName(purpose);
    schemas.push(schema);
    return schema;
  };

  /** Index names of the schema's events table. */
  const indexes = async (schema: string): Promise<string[]> => (await admin.query<{ name: string }>(
    'SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1) ORDER BY 1', [`"${schema}".events`])).rows.map((row) => row.name);

  afterAll(async () => {
    if (!available) return;
    await dropCreated(admin, schemas, roles);
    await admin.end();
  });

  it('migrates idempotently, also when two processes start together', async () => {
    const schema = newSchema('migrate');
    const [first, second] = await Promise.all([migrate(admin, { schema }), migrate(admin, { schema })]);
    expect([...first!, ...second!].sort()).toEqual([1, 2]);
    expect(await migrate(admin, { schema })).toEqual([]);
    expect(await migrateDatabase({ connectionString: PG_URL, schema })).toEqual([]);
    expect(await migrateDatabase({ connectionString: PG_URL, schema: newSchema('migrate_cli') })).toEqual([1, 2]);
    const { rows } = await admin.query(`SELECT version, name FROM "${schema}".lookout_schema_migrations ORDER BY version`);
    expect(rows).toEqual([
      { version: 1, name: 'events table with time and event+time indexes' },
      { version: 2, name: 'no (event, creation_time) index' },
    ]);
    expect(await indexes(schema)).toEqual(['events_creation_time_idx', 'events_pkey']);
    const columns = await admin.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position`, [schema]);
    expect(columns.rows.map((row) => `${row.column_name} ${row.data_type}`)).toEqual([
      'id uuid', 'creation_time timestamp with time zone', 'event text', 'user text', 'model text', 'args jsonb', 'value double precision',
    ]);
  });

  it('migration 2 drops the (event, creation_time) index of a version 1 table; eventIndexSql brings it back for good', async () => {
    const schema = newSchema('migrate_v1');
    await admin.query(`CREATE SCHEMA "${schema}"`);
    for (const statement of MIGRATIONS[0]!.statements({ schema, table: 'events' })) await admin.query(statement);
    await admin.query(`CREATE TABLE "${schema}".lookout_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    await admin.query(`INSERT INTO "${schema}".lookout_schema_migrations (version, name) VALUES (1, $1)`, [MIGRATIONS[0]!.name]);
    await admin.query(`INSERT INTO "${schema}".events (id, event) VALUES (gen_random_uuid(), 'good_inference')`);
    expect(await indexes(schema)).toEqual(['events_creation_time_idx', 'events_event_creation_time_idx', 'events_pkey']);
    expect(await migrate(admin, { schema })).toEqual([2]);
    expect(await indexes(schema)).toEqual(['events_creation_time_idx', 'events_pkey']);
    await admin.query(eventIndexSql({ schema }));
    await admin.query(eventIndexSql({ schema })); // idempotent
    expect(await migrate(admin, { schema })).toEqual([]);
    expect(await indexes(schema)).toEqual(['events_creation_time_idx', 'events_event_creation_time_idx', 'events_pkey']);
    expect((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".events`)).rows).toEqual([{ n: 1 }]);
  });

  it('migration 2 leaves a partitioned events table as its layout made it', async () => {
    const schema = newSchema('migrate_partitioned');
    await partitionEvents(admin, { schema, interval: 'month', premake: 0 });
    const before = await indexes(schema);
    expect(before).toContain('events_event_creation_time_idx');
    expect(await migrate(admin, { schema })).toEqual([1, 2]);
    expect(await indexes(schema)).toEqual(before);
  });

  it('writes every column with binary COPY; the dashboard queries read them back', async () => {
    const schema = newSchema('columns');
    const registry = new Registry();
    const kpi = createKpi({ registry, events: ['good_inference', 'bad_inference'], store: pgStore({ connectionString: PG_URL, schema }) });
    const before = Date.now();
    kpi.record('good_inference', { user: 'u-1', model: 'resnet', args: { label: 'cat', nested: { n: 1 } }, value: 0.25 });
    kpi.record('bad_inference', { user: 'tab\tnew\nline\\', model: 'ünï 😀', args: { label: 'dög', quote: 'a"b\\c' }, value: Number.NaN });
    kpi.record('good_inference', { user: 'nul\0gone', args: ['x', 1, null], value: -Infinity });
    kpi.record('good_inference');
    expect(await kpi.flush()).toBe(true);
    const text = await registry.metrics();
    expect(text).toMatch(/db_pool_connections\{state="total"\} [12]/);
    expect(text).toContain('db_pool_connections{state="waiting"} 0');
    expect(text).toContain('lookout_kpi_store_up 1');
    await kpi.close();

    const { rows } = await admin.query(`SELECT event, "user", model, args, args->>'label' AS label, value, creation_time FROM "${schema}".events ORDER BY id`);
    expect(rows.map((row) => [row.event, row.user, row.model, row.label])).toEqual([
      ['good_inference', 'u-1', 'resnet', 'cat'],
      ['bad_inference', 'tab\tnew\nline\\', 'ünï 😀', 'dög'],
      ['good_inference', 'nulgone', null, null],
      ['good_inference', null, null, null],
    ]);
    expect(rows[1].args).toEqual({ label: 'dög', quote: 'a"b\\c' });
    expect(rows[2].args).toEqual(['x', 1, null]);
    expect(rows.map((row) => row.value)).toEqual([0.25, Number.NaN, -Infinity, null]);
    const time = (rows[0].creation_time as Date).getTime();
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
    const accuracy = await admin.query(`SELECT count(*) FILTER (WHERE event = 'good_inference')::int AS good, count(*) FILTER (WHERE event = 'bad_inference')::int AS bad
      FROM "${schema}".events WHERE creation_time BETWEEN now() - interval '1 hour' AND now() GROUP BY date_trunc('minute', creation_time)`);
    expect(accuracy.rows).toEqual([{ good: 3, bad: 1 }]);
  });

  it('a retried batch goes through the staging table and never duplicates rows', async () => {
    for (const dedupe of ['on-retry', 'always'] as const) {
      const schema = newSchema(`retry_${dedupe.replace('-', '_')}`);
      const store = pgStore({ connectionString: PG_URL, schema, dedupe });
      await store.open();
      const buffer = new EventBuffer(1000);
      for (let index = 0; index < 1000; index++) buffer.push('e', Date.now(), null, null, `{"i":${index}}`, null);
      const batch = buffer.take(1000, new IdGenerator());
      await store.write(batch, false);
      await store.write(batch, true);
      await store.write(batch, true);
      await store.close();
      const { rows } = await admin.query(`SELECT count(*)::int AS count FROM "${schema}".events`);
      expect(rows[0].count).toBe(1000);
    }
  });

  it('a row PostgreSQL rejects (here a CHECK constraint) is isolated and dropped as invalid; the rest of its batch is written', async () => {
    const schema = newSchema('reject');
    await migrate(admin, { schema });
    await admin.query(`ALTER TABLE "${schema}".events ADD CONSTRAINT no_poison CHECK (args->>'text' IS DISTINCT FROM 'poison')`);
    const errors: string[] = [];
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store: pgStore({ connectionString: PG_URL, schema }), onError: (error) => errors.push(error.code) });
    for (let index = 0; index < 5000; index++) kpi.record('good_inference', { args: { i: index, text: index === 3210 ? 'poison' : 'ok' } });
    expect(await kpi.close({ deadlineMs: 20_000 })).toBe(true);
    expect(kpi.stats()).toMatchObject({ recorded: 5000, written: 4999, dropped: { invalid: 1 } });
    expect(errors).toEqual(['LOOKOUT_E_KPI_ROW_REJECTED']);
    const { rows } = await admin.query(`SELECT count(*)::int AS count, bool_or(args->>'i' = '3210') AS poisoned FROM "${schema}".events`);
    expect(rows[0]).toEqual({ count: 4999, poisoned: false });
  });

  it('the read-only role can SELECT and cannot INSERT', async () => {
    const schema = newSchema('reader');
    await migrate(admin, { schema });
    await admin.query(`INSERT INTO "${schema}".events (id, event) VALUES (gen_random_uuid(), 'good_inference')`);
    const role = uniqueName('reader');
    roles.push(role);
    await createReaderRole(admin, { role, password: 'reader-secret', schema });
    await createReaderRole(admin, { role, password: 'reader-secret', schema }); // idempotent
    // pg lets the connection string win over explicit fields: build the reader's own URL.
    const readerUrl = new URL(PG_URL);
    readerUrl.username = role;
    readerUrl.password = 'reader-secret';
    const reader = new pg.Client({ connectionString: readerUrl.toString() });
    await reader.connect();
    try {
      expect((await reader.query('SELECT current_user AS name')).rows[0].name).toBe(role);
      const { rows } = await reader.query(`SELECT count(*)::int AS count FROM "${schema}".events`);
      expect(rows[0].count).toBe(1);
      await expect(reader.query(`INSERT INTO "${schema}".events (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toMatchObject({ code: '25006' });
      // Even in a read-write transaction the grant is missing.
      await reader.query('BEGIN READ WRITE');
      await expect(reader.query(`INSERT INTO "${schema}".events (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toMatchObject({ code: '42501' });
      await reader.query('ROLLBACK');
      await expect(reader.query(`SELECT count(*) FROM "${schema}".lookout_schema_migrations`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await reader.end();
    }
  });
});
