// The events table partitioned by month on a real PostgreSQL: the generated script (through psql,
// as an operator applies it), the real pgStore writing into it (retries included), rows in the
// right partitions, the committed dashboards' SQL, retention, and converting a plain table in place.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { adminPool, PG_URL, pgReachable, uniqueName } from '../../test/kpi/pg.js';
import { connectionString, dropCreated, randomPassword } from '../../test/support/pg.js';
import { Registry } from '../core/registry.js';
import { checkDashboards } from '../verify/checker.js';
import { loadDashboards, loadDatasources } from '../verify/dashboards.js';
import { PostgresRunner } from '../verify/postgres-runner.js';
import { EventBuffer } from './buffer.js';
import { IdGenerator } from './ids.js';
import { createKpi } from './kpi.js';
import { listEventPartitions, maintainEventPartitions, partitionEvents, partitionedEventsSql, partitionedEventsStatements, partitionFunctions } from './partitioning.js';
import { pgStore } from './pg-store.js';
import { createReaderRole, migrate, MIGRATIONS } from './schema.js';

const run = promisify(execFile);
const DEPLOY = join(import.meta.dirname, '../../deploy');
const available = await probe('PostgreSQL', pgReachable);
const psql = available && (await probe('psql', () => hasCommand('psql', ['--version'])));
const MONTH_MS = 31 * 86_400_000;

/** `events_pYYYYMM` of a time, in UTC. */
function monthPartition(schema: string, ms: number): string {
  const date = new Date(ms);
  return `${schema}.events_p${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
}

describe.skipIf(!available || !psql)('events partitioned by month (real PostgreSQL)', () => {
  const admin = available ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  const roles: string[] = [];
  const dirs: string[] = [];
  const newSchema = (purpose: string): string => {
    const schema = uniqueName(purpose);
    schemas.push(schema);
    return schema;
  };
  const newRole = (): string => {
    const role = uniqueName('reader');
    roles.push(role);
    return role;
  };
  const placement = async (schema: string): Promise<Record<string, number>> => {
    const { rows } = await admin.query<{ partition: string; count: number }>(`SELECT tableoid::regclass::text AS partition, count(*)::int AS count FROM "${schema}".events GROUP BY 1 ORDER BY 1`);
    return Object.fromEntries(rows.map((row) => [row.partition, row.count]));
  };
  const batchAt = (times: readonly number[]) => {
    const buffer = new EventBuffer(times.length);
    times.forEach((time, index) => buffer.push('good_inference', time, `u-${index}`, 'resnet', `{"i":${index}}`, null));
    return buffer.take(times.length, new IdGenerator());
  };

  afterAll(async () => {
    if (!available) return;
    await dropCreated(admin, schemas, roles);
    await admin.end();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('the generated script, applied twice with psql, makes a partitioned table the store writes to without duplicates', async () => {
    const schema = newSchema('partitioned');
    const dir = await mkdtemp(join(tmpdir(), 'lookout-partitions-'));
    dirs.push(dir);
    await writeFile(join(dir, 'events-partitioned.sql'), partitionedEventsSql({ schema, interval: 'month', premake: 3 }));
    for (let round = 0; round < 2; round++) {
      const { stderr } = await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', PG_URL, '-f', join(dir, 'events-partitioned.sql')], { timeout: 60_000 });
      expect(stderr).not.toMatch(/ERROR/);
    }
    const kind = await admin.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [`"${schema}".events`]);
    expect(kind.rows[0].relkind).toBe('p');
    const key = await admin.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`, [`"${schema}".events`]);
    expect(key.rows[0].def).toBe('PRIMARY KEY (id, creation_time)');
    const now = Date.now();
    const partitions = await listEventPartitions(admin, { schema });
    expect(partitions.map((partition) => partition.name)).toEqual([
      ...[0, 1, 2, 3].map((ahead) => monthPartition(schema, Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + ahead, 15))),
      `${schema}.events_default`,
    ]);
    expect(partitions[0]!.from!.getTime()).toBeLessThanOrEqual(now);
    expect(partitions[0]!.to!.getTime()).toBeGreaterThan(now);
    expect(partitions[4]).toMatchObject({ isDefault: true, from: undefined, to: undefined });

    // An old month made on purpose (a backfill), then the store: migration 1 finds what it needs,
    // migration 2 leaves a partitioned table's indexes alone, and both are recorded.
    const fn = partitionFunctions({ schema });
    expect((await admin.query(`SELECT name FROM ${fn.createPartitions}(0, '2024-01-15T00:00:00Z') AS name`)).rows).toEqual([{ name: 'events_p202401' }]);
    const store = pgStore({ connectionString: PG_URL, schema });
    await store.open();
    expect((await admin.query(`SELECT version FROM "${schema}".lookout_schema_migrations ORDER BY version`)).rows).toEqual(MIGRATIONS.map(({ version }) => ({ version })));
    expect((await admin.query(`SELECT relkind FROM pg_class WHERE oid = to_regclass($1)`, [`"${schema}".events`])).rows[0].relkind).toBe('p');

    const old = Date.UTC(2024, 0, 20, 12);
    const later = now + 2 * MONTH_MS - 86_400_000 * 3;
    const far = Date.UTC(2031, 5, 1);
    const batch = batchAt([old, now, now + 1, later, far]);
    await store.write(batch, false);
    await store.write(batch, true); // the staging path: INSERT ... ON CONFLICT DO NOTHING
    await store.write(batch, true);
    await store.close();
    expect(await placement(schema)).toEqual({
      [`${schema}.events_default`]: 1,
      [`${schema}.events_p202401`]: 1,
      [monthPartition(schema, now)]: 2,
      [monthPartition(schema, later)]: 1,
    });
    // An always-staging store on the same table: still one row per id.
    const always = pgStore({ connectionString: PG_URL, schema, dedupe: 'always', migrate: false });
    await always.write(batch, false);
    await always.close();
    expect((await admin.query(`SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM "${schema}".events`)).rows[0]).toEqual({ rows: 5, ids: 5 });

    // The far-future row waits in the default partition; creating its month moves it there.
    expect((await admin.query(`SELECT * FROM ${fn.createPartitions}(0, '2031-06-10T00:00:00Z')`)).rows).toHaveLength(1);
    expect(await placement(schema)).toMatchObject({ [`${schema}.events_p203106`]: 1 });
    expect(await placement(schema)).not.toHaveProperty(`${schema}.events_default`);

    // Retention: months that ended more than 90 days ago go, with their rows; the rest stays.
    const { created, removed } = await maintainEventPartitions(admin, { schema, ahead: 3, retention: '90 days' });
    expect(created).toEqual([]);
    expect(removed).toEqual([`${schema}.events_p202401`]);
    expect(await placement(schema)).toEqual({
      [monthPartition(schema, now)]: 2,
      [monthPartition(schema, later)]: 1,
      [`${schema}.events_p203106`]: 1,
    });
    // detachOnly keeps the table for an archive: nothing is old enough now, so nothing moves.
    expect(await maintainEventPartitions(admin, { schema, retention: '90 days', detachOnly: true })).toEqual({ created: [], removed: [] });
  });

  it('the committed dashboards read a partitioned table as the read-only role, and their time filter prunes partitions', async () => {
    const schema = newSchema('partitioned_dash');
    const role = newRole();
    const password = randomPassword();
    await partitionEvents(admin, { schema, interval: 'month' });
    await admin.query(`SELECT * FROM ${partitionFunctions({ schema }).createPartitions}(0, '2024-01-15T00:00:00Z')`);
    await createReaderRole(admin, { role, password, schema });
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store: pgStore({ connectionString: PG_URL, schema }) });
    for (let index = 0; index < 200; index++) {
      kpi.record(index % 5 === 0 ? 'bad_inference' : 'good_inference', { user: `u-${index % 7}`, model: index % 2 === 0 ? 'resnet' : 'vit', args: { label: index % 3 === 0 ? 'cat' : 'dog' } });
    }
    expect(await kpi.close({ deadlineMs: 20_000 })).toBe(true);
    expect(kpi.stats()).toMatchObject({ recorded: 200, written: 200 });

    const reader = new PostgresRunner({ connectionString: connectionString({ user: role, password }), searchPath: schema });
    try {
      // Only the PostgreSQL panels run here: the Prometheus variables and panels need a Prometheus.
      const dashboards = (await loadDashboards(join(DEPLOY, 'grafana/dashboards')))
        .filter((item) => item.file.includes('inference-kpis'))
        .map((item) => ({ ...item, dashboard: { ...item.dashboard, templating: { list: [] } } }));
      const datasources = await loadDatasources(join(DEPLOY, 'grafana/provisioning/datasources/datasources.yml'));
      const report = await checkDashboards({ dashboards, datasources, postgres: reader });
      const sql = report.targets.filter((target) => target.datasource === 'grafana-postgresql-datasource');
      expect(sql.map((target) => target.panel).sort()).toEqual(['Accuracy by model', 'Events by user argument', 'Good vs bad predictions', 'Model accuracy per minute']);
      expect(sql.filter((target) => !target.ok)).toEqual([]);

      const accuracy = sql.find((target) => target.panel === 'Model accuracy per minute')!.queries[0]!;
      const explained = await admin.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${accuracy.replace('FROM events', `FROM "${schema}".events`)}`);
      const plan = explained.rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toContain(monthPartition(schema, Date.now()).split('.')[1]);
      expect(plan).not.toContain('events_p202401');
      expect(plan).not.toContain('events_default');
    } finally {
      await reader.close();
    }
  });

  it('converts a plain events table in place: old rows stay as the first partition, a write during the conversion waits and lands in the new table, a retried batch still finds its rows', async () => {
    const schema = newSchema('partition_convert');
    const role = newRole();
    const password = randomPassword();
    await migrate(admin, { schema });
    await createReaderRole(admin, { role, password, schema });
    const store = pgStore({ connectionString: PG_URL, schema });
    const now = Date.now();
    const before = batchAt(Array.from({ length: 1000 }, (_, index) => now - 40 * 86_400_000 + index * 1000));
    await store.write(before, false);

    // The conversion in a transaction of its own; a write that arrives meanwhile waits for it, then
    // goes to the new table (PostgreSQL resolves the name again after the wait), not to the renamed one.
    const converting = new pg.Client({ connectionString: PG_URL });
    await converting.connect();
    await converting.query('BEGIN');
    await converting.query(partitionedEventsStatements({ schema, interval: 'month', premake: 2, readerRole: role }).map((statement) => `${statement};`).join('\n'));
    const nextMonth = now + 32 * 86_400_000;
    let duringWritten = false;
    const during = store.write(batchAt([nextMonth]), false).then(() => (duringWritten = true));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(duringWritten).toBe(false);
    await converting.query('COMMIT');
    await converting.end();
    await during;
    await partitionEvents(admin, { schema, interval: 'month', premake: 2, readerRole: role }); // idempotent
    const partitions = await listEventPartitions(admin, { schema });
    expect(partitions[0]).toMatchObject({ name: `${schema}.events_legacy`, from: undefined, isDefault: false });
    const legacyEnd = partitions[0]!.to!.getTime();
    expect(legacyEnd).toBeGreaterThan(now);
    expect(partitions.slice(1).map((partition) => partition.name)).toEqual([
      monthPartition(schema, legacyEnd),
      monthPartition(schema, Date.UTC(new Date(legacyEnd).getUTCFullYear(), new Date(legacyEnd).getUTCMonth() + 1, 15)),
      `${schema}.events_default`,
    ]);
    expect(await placement(schema)).toEqual({ [`${schema}.events_legacy`]: 1000, [monthPartition(schema, nextMonth)]: 1 });

    // The same batch again (its first attempt's reply "lost" before the conversion): no duplicates.
    await store.write(before, true);
    const after = batchAt([now, legacyEnd + 86_400_000]);
    await store.write(after, false);
    await store.close();
    const afterPlacement = { [`${schema}.events_legacy`]: 1001, [monthPartition(schema, legacyEnd)]: 1 };
    afterPlacement[monthPartition(schema, nextMonth)] = (afterPlacement[monthPartition(schema, nextMonth)] ?? 0) + 1;
    expect(await placement(schema)).toEqual(afterPlacement);

    // Grafana's role still reads the (new) table; the old indexes kept their legacy names.
    const reader = new PostgresRunner({ connectionString: connectionString({ user: role, password }), searchPath: schema });
    try {
      expect((await reader.query('SELECT count(*)::int AS n FROM events')).rows).toEqual([[1003]]);
    } finally {
      await reader.close();
    }
    const indexes = await admin.query<{ name: string }>(`SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = to_regclass($1) ORDER BY 1`, [`"${schema}".events_legacy`]);
    expect(indexes.rows.map((row) => row.name)).toEqual([
      `${schema}.events_legacy_creation_time_idx`,
      `${schema}.events_legacy_event_creation_time_idx`,
      `${schema}.events_legacy_pkey`,
    ]);
  });
});
