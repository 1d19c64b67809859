import { KPI_ERRORS, integerOption, kpiError } from './errors.js';
import { quoteIdent, quoteLiteral, type EventsLocation, type SqlExecutor } from './schema.js';

/**
 * Width of one partition of the events table (UTC boundaries; weeks start on Monday).
 *
 * @example
 * ```ts
 * const interval: PartitionInterval = 'month';
 * ```
 */
export type PartitionInterval = 'day' | 'week' | 'month';

/**
 * How `partitionedEventsSql` lays out the events table.
 *
 * @example
 * ```ts
 * const options: PartitionOptions = { schema: 'public', interval: 'month', premake: 3, readerRole: 'lookout_reader' };
 * ```
 */
export interface PartitionOptions extends EventsLocation {
  /** Partition width (default `month`). */
  readonly interval?: PartitionInterval;
  /** Partitions created ahead of the current one when the script runs (default 3). */
  readonly premake?: number;
  /** Role granted SELECT on the new table when the role exists (default `lookout_reader`). */
  readonly readerRole?: string;
  /** Retention shown in the script's maintenance comment, as a PostgreSQL interval (default `13 months`). */
  readonly retention?: string;
}

/**
 * Names of the SQL functions the partitioned layout installs beside the table, all in its schema:
 * `partitions()` lists every partition with its range, `createPartitions(ahead, around)` creates
 * the partition of `around` and the `ahead` next ones (moving rows the default partition holds
 * for them), `dropPartitions(older_than, detach_only)` drops (or detaches) every partition that
 * ends before `now() - older_than`.
 *
 * @example
 * ```ts
 * partitionFunctions({ table: 'events' }).createPartitions; // '"public"."lookout_events_create_partitions"'
 * ```
 */
export function partitionFunctions(location: EventsLocation = {}): { partitions: string; createPartitions: string; dropPartitions: string; defaultPartition: string } {
  const schema = quoteIdent(location.schema ?? 'public');
  const table = location.table ?? 'events';
  return {
    partitions: `${schema}.${quoteIdent(`lookout_${table}_partitions`)}`,
    createPartitions: `${schema}.${quoteIdent(`lookout_${table}_create_partitions`)}`,
    dropPartitions: `${schema}.${quoteIdent(`lookout_${table}_drop_partitions`)}`,
    defaultPartition: `${schema}.${quoteIdent(`${table}_default`)}`,
  };
}

const INTERVALS: Record<PartitionInterval, { step: string; format: string }> = {
  day: { step: '1 day', format: 'YYYYMMDD' },
  week: { step: '1 week', format: 'YYYYMMDD' },
  month: { step: '1 month', format: 'YYYYMM' },
};
const PG_INTERVAL = /^[1-9][0-9]{0,4} (minute|hour|day|week|month|year)s?$/;

function pgInterval(field: string, value: string): string {
  if (typeof value !== 'string' || !PG_INTERVAL.test(value)) {
    throw kpiError(KPI_ERRORS.option, `${field}: expected a PostgreSQL interval such as '7 days' or '13 months', got ${JSON.stringify(value)}`);
  }
  return value;
}

function columns(primaryKey: string): string {
  return `  id uuid NOT NULL,
  creation_time timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL,
  "user" text,
  model text,
  args jsonb,
  value double precision,
  ${primaryKey}`;
}

/**
 * The statements that turn the events table into one partitioned by range on `creation_time`,
 * idempotently (run them again at will), in order:
 *
 * 1. a plain events table that already exists is renamed `<table>_legacy` (its indexes too);
 * 2. the partitioned table, `PRIMARY KEY (id, creation_time)` (a key of a partitioned table must
 *    hold the partition key; the id is a UUIDv7 whose time is `creation_time`, so ids stay
 *    unique), the same two indexes as migration 1, and a DEFAULT partition so an event of a period
 *    without a partition is still written;
 * 3. the maintenance functions (see `partitionFunctions`);
 * 4. the legacy table becomes the first partition, `FROM (MINVALUE) TO` the end of the current
 *    period (or of its latest row): nothing is copied, PostgreSQL scans it once and builds the key
 *    index (holding a lock on it meanwhile); an empty legacy table is dropped instead;
 * 5. SELECT for the reader role, and the partitions of this period and `premake` more.
 *
 * The KPI store writes to the result unchanged (COPY routes rows; a retried batch's
 * `ON CONFLICT DO NOTHING` matches the wider key) and its migration 1 finds what it creates.
 *
 * @example
 * ```ts
 * for (const statement of partitionedEventsStatements({ interval: 'month' })) await client.query(statement);
 * ```
 */
export function partitionedEventsStatements(options: PartitionOptions = {}): string[] {
  const schemaName = options.schema ?? 'public';
  const table = options.table ?? 'events';
  const interval = options.interval ?? 'month';
  if (!(interval in INTERVALS)) throw kpiError(KPI_ERRORS.option, `interval: expected day, week or month, got ${JSON.stringify(interval)}`);
  const premake = integerOption('premake', options.premake, 3, 0, 120);
  const { step, format } = INTERVALS[interval];
  const schema = quoteIdent(schemaName);
  const events = `${schema}.${quoteIdent(table)}`;
  const legacyName = `${table}_legacy`;
  const legacy = `${schema}.${quoteIdent(legacyName)}`;
  const fn = partitionFunctions(options);
  const reader = options.readerRole ?? 'lookout_reader';
  const lit = quoteLiteral;
  const unit = lit(interval);
  return [
    `SELECT pg_advisory_xact_lock(hashtext(${lit(`lookout_kpi_migrations:${events}`)}))`,
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    // 1. A plain table (from migration 1 or the container's init script) steps aside.
    `DO $lookout$
DECLARE
  index_name text;
BEGIN
  IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = to_regclass(${lit(events)})) = 'r' THEN
    IF to_regclass(${lit(legacy)}) IS NOT NULL THEN
      RAISE EXCEPTION 'both % and % exist: attach or drop the legacy table first', ${lit(events)}, ${lit(legacy)};
    END IF;
    EXECUTE format('ALTER TABLE %s RENAME TO %I', ${lit(events)}, ${lit(legacyName)});
    FOR index_name IN SELECT c.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass(${lit(legacy)}) AND c.relname LIKE ${lit(`${table.replace(/[\\%_]/g, '\\$&')}\\_%`)} LOOP
      EXECUTE format('ALTER INDEX %I.%I RENAME TO %I', ${lit(schemaName)}, index_name, ${lit(legacyName)} || substr(index_name, ${table.length + 1}));
    END LOOP;
  END IF;
END $lookout$`,
    // 2. The partitioned table, its indexes (named as migration 1 names them) and the default partition.
    `CREATE TABLE IF NOT EXISTS ${events} (
${columns('PRIMARY KEY (id, creation_time)')}
) PARTITION BY RANGE (creation_time)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_creation_time_idx`)} ON ${events} (creation_time)`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_event_creation_time_idx`)} ON ${events} (event, creation_time)`,
    `CREATE TABLE IF NOT EXISTS ${fn.defaultPartition} PARTITION OF ${events} DEFAULT`,
    // 3. Maintenance functions. They run in UTC, so boundaries and names never depend on the session.
    `CREATE OR REPLACE FUNCTION ${fn.partitions}()
RETURNS TABLE (partition regclass, range_from timestamptz, range_to timestamptz, is_default boolean)
LANGUAGE sql STABLE SET timezone = 'UTC' AS $lookout$
  SELECT c.oid::regclass,
    CASE WHEN b.bound[1] IS NULL THEN NULL WHEN b.bound[1] = 'MINVALUE' THEN '-infinity'::timestamptz ELSE btrim(b.bound[1], '''')::timestamptz END,
    CASE WHEN b.bound[2] IS NULL THEN NULL WHEN b.bound[2] = 'MAXVALUE' THEN 'infinity'::timestamptz ELSE btrim(b.bound[2], '''')::timestamptz END,
    b.bound IS NULL
  FROM pg_catalog.pg_inherits i
  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL (SELECT regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \\((.*)\\) TO \\((.*)\\)$') AS bound) b
  WHERE i.inhparent = ${lit(events)}::regclass
  ORDER BY 2 NULLS LAST
$lookout$`,
    `CREATE OR REPLACE FUNCTION ${fn.createPartitions}(ahead integer DEFAULT ${premake}, around timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE plpgsql SET timezone = 'UTC' AS $lookout$
DECLARE
  first timestamptz := date_trunc(${unit}, around);
  range_start timestamptz;
  range_end timestamptz;
  partition_name text;
BEGIN
  IF ahead IS NULL OR ahead < 0 THEN
    RAISE EXCEPTION 'ahead must be 0 or more, got %', ahead;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext(${lit(`lookout_kpi_partitions:${events}`)}));
  FOR n IN 0..ahead LOOP
    range_start := first + n * interval ${lit(step)};
    range_end := range_start + interval ${lit(step)};
    CONTINUE WHEN EXISTS (SELECT FROM ${fn.partitions}() p WHERE NOT p.is_default AND p.range_from < range_end AND p.range_to > range_start);
    partition_name := ${lit(`${table}_p`)} || to_char(range_start, ${lit(format)});
    IF EXISTS (SELECT FROM ${fn.defaultPartition} WHERE creation_time >= range_start AND creation_time < range_end) THEN
      -- Rows the default partition took for this period move into the new partition first.
      EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', ${lit(schemaName)}, partition_name, ${lit(events)});
      EXECUTE format('WITH moved AS (DELETE FROM %s WHERE creation_time >= $1 AND creation_time < $2 RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
        ${lit(fn.defaultPartition)}, ${lit(schemaName)}, partition_name) USING range_start, range_end;
      EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', ${lit(events)}, ${lit(schemaName)}, partition_name, range_start, range_end);
    ELSE
      EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', ${lit(schemaName)}, partition_name, ${lit(events)}, range_start, range_end);
    END IF;
    RETURN NEXT partition_name;
  END LOOP;
END
$lookout$`,
    `CREATE OR REPLACE FUNCTION ${fn.dropPartitions}(older_than interval, detach_only boolean DEFAULT false)
RETURNS SETOF text
LANGUAGE plpgsql SET timezone = 'UTC' AS $lookout$
DECLARE
  cutoff timestamptz := now() - older_than;
  old record;
  old_name text;
BEGIN
  IF older_than IS NULL OR older_than <= interval '0' THEN
    RAISE EXCEPTION 'older_than must be a positive interval, got %', older_than;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext(${lit(`lookout_kpi_partitions:${events}`)}));
  FOR old IN SELECT p.partition FROM ${fn.partitions}() p WHERE NOT p.is_default AND p.range_to <= cutoff ORDER BY p.range_from LOOP
    old_name := old.partition::text;
    IF detach_only THEN
      EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', ${lit(events)}, old_name);
    ELSE
      EXECUTE format('DROP TABLE %s', old_name);
    END IF;
    RETURN NEXT old_name;
  END LOOP;
  -- Events of the default partition follow the same retention.
  DELETE FROM ${fn.defaultPartition} WHERE creation_time < cutoff;
END
$lookout$`,
    // 4. The legacy table, if any, becomes the first partition (or goes, when empty).
    `DO $lookout$
DECLARE
  key_name text;
  latest timestamptz;
  upper_bound timestamptz;
BEGIN
  IF to_regclass(${lit(legacy)}) IS NULL OR (SELECT relispartition FROM pg_catalog.pg_class WHERE oid = to_regclass(${lit(legacy)})) THEN
    RETURN;
  END IF;
  IF NOT EXISTS (SELECT FROM ${legacy}) THEN
    DROP TABLE ${legacy};
    RETURN;
  END IF;
  -- Its PRIMARY KEY (id) goes: ATTACH builds the partitioned table's (id, creation_time) in its place.
  SELECT conname INTO key_name FROM pg_catalog.pg_constraint WHERE conrelid = ${lit(legacy)}::regclass AND contype = 'p';
  IF key_name IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', ${lit(legacy)}, key_name);
  END IF;
  SELECT max(creation_time) INTO latest FROM ${legacy};
  -- The end of the period of the latest row (or of now), computed in UTC.
  upper_bound := ((date_trunc(${unit}, greatest(latest, now()), 'UTC') AT TIME ZONE 'UTC') + interval ${lit(step)}) AT TIME ZONE 'UTC';
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%L)', ${lit(events)}, ${lit(legacy)}, upper_bound);
END $lookout$`,
    // 5. Grafana's read-only role reads the parent (partitions need no grant), then the partitions.
    `DO $lookout$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${lit(reader)}) THEN
    EXECUTE format('GRANT SELECT ON %s TO %I', ${lit(events)}, ${lit(reader)});
  END IF;
END $lookout$`,
    `SELECT ${fn.createPartitions}(${premake})`,
  ];
}

/**
 * `partitionedEventsStatements` as one psql script in a transaction, with the maintenance calls
 * to schedule (cron, pg_cron, or `maintainEventPartitions` from the API) in its header.
 *
 * @example
 * ```ts
 * await writeFile('events-partitioned.sql', partitionedEventsSql({ interval: 'month', retention: '13 months' }));
 * // psql -v ON_ERROR_STOP=1 -f events-partitioned.sql
 * ```
 */
export function partitionedEventsSql(options: PartitionOptions = {}): string {
  const fn = partitionFunctions(options);
  const retention = pgInterval('retention', options.retention ?? '13 months');
  const premake = integerOption('premake', options.premake, 3, 0, 120);
  const events = `${quoteIdent(options.schema ?? 'public')}.${quoteIdent(options.table ?? 'events')}`;
  return [
    `-- ${events} partitioned by range on creation_time, one partition per ${options.interval ?? 'month'} (UTC).`,
    '-- Idempotent: an existing plain table becomes the first partition (see docs/scaling.md).',
    '-- Apply as the owner of the table: psql -v ON_ERROR_STOP=1 -f events-partitioned.sql',
    '-- Then, daily (cron, pg_cron, or maintainEventPartitions() from lookout/kpi):',
    `--   SELECT ${fn.createPartitions}(${premake});`,
    `--   SELECT ${fn.dropPartitions}(interval ${quoteLiteral(retention)});`,
    `-- e.g. with pg_cron: SELECT cron.schedule('lookout-partitions', '17 3 * * *', $$SELECT ${fn.createPartitions}(${premake}); SELECT ${fn.dropPartitions}(interval ${quoteLiteral(retention)})$$);`,
    '\\set ON_ERROR_STOP on',
    'BEGIN;',
    ...partitionedEventsStatements(options).map((statement) => `${statement};`),
    'COMMIT;',
    '',
  ].join('\n');
}

/**
 * Runs `partitionedEventsStatements` as one transaction (an implicit one: the statements go in a
 * single simple-protocol query, so an error leaves nothing half done).
 *
 * @example
 * ```ts
 * await partitionEvents(pool, { schema: 'public', interval: 'month', premake: 3 });
 * ```
 */
export async function partitionEvents(executor: SqlExecutor, options: PartitionOptions = {}): Promise<void> {
  await executor.query(partitionedEventsStatements(options).map((statement) => `${statement};`).join('\n'));
}

/**
 * One partition of the events table and its range: `from` is undefined for the legacy partition
 * (`MINVALUE`), both are undefined for the default partition.
 *
 * @example
 * ```ts
 * const partition: EventPartition = { name: '"public"."events_p202407"', from: new Date('2024-07-01T00:00:00Z'), to: new Date('2024-08-01T00:00:00Z'), isDefault: false };
 * ```
 */
export interface EventPartition {
  readonly name: string;
  readonly from: Date | undefined;
  readonly to: Date | undefined;
  readonly isDefault: boolean;
}

/**
 * Lists the partitions of a table set up by `partitionedEventsSql`, oldest first, default last.
 *
 * @example
 * ```ts
 * for (const partition of await listEventPartitions(pool)) console.log(partition.name, partition.from, partition.to);
 * ```
 */
export async function listEventPartitions(executor: SqlExecutor, location: EventsLocation = {}): Promise<EventPartition[]> {
  const { rows } = await executor.query(`SELECT partition::text AS name, range_from, range_to, is_default FROM ${partitionFunctions(location).partitions}()`);
  return (rows as { name: string; range_from: unknown; range_to: unknown; is_default: boolean }[]).map((row) => ({
    name: row.name,
    from: toDate(row.range_from),
    to: toDate(row.range_to),
    isDefault: row.is_default,
  }));
}

// pg turns -infinity into a number (or a string), finite times into Dates.
function toDate(value: unknown): Date | undefined {
  return value instanceof Date && Number.isFinite(value.getTime()) ? value : undefined;
}

/**
 * What `maintainEventPartitions` should do.
 *
 * @example
 * ```ts
 * const options: MaintainOptions = { ahead: 3, retention: '13 months' };
 * ```
 */
export interface MaintainOptions extends EventsLocation {
  /** Periods to keep created ahead of the current one (default 3). */
  readonly ahead?: number;
  /** Drop partitions that ended longer ago than this PostgreSQL interval (default: keep everything). */
  readonly retention?: string;
  /** Detach instead of dropping (to archive them, e.g. pg_dump, then drop by hand). */
  readonly detachOnly?: boolean;
}

/**
 * The daily job of a partitioned events table: creates the partitions of the coming periods and
 * drops (or detaches) those past retention. Returns the partitions created and removed. Safe to
 * run from several processes at once (the functions take an advisory lock).
 *
 * @example
 * ```ts
 * const { created, removed } = await maintainEventPartitions(pool, { ahead: 3, retention: '13 months' });
 * setInterval(() => void maintainEventPartitions(pool, { retention: '13 months' }).catch(console.error), 86_400_000).unref();
 * ```
 */
export async function maintainEventPartitions(executor: SqlExecutor, options: MaintainOptions = {}): Promise<{ created: string[]; removed: string[] }> {
  const fn = partitionFunctions(options);
  const ahead = integerOption('ahead', options.ahead, 3, 0, 120);
  const created = await executor.query(`SELECT name FROM ${fn.createPartitions}($1) AS name`, [ahead]);
  let removed: { rows: unknown[] } = { rows: [] };
  if (options.retention !== undefined) {
    removed = await executor.query(`SELECT name FROM ${fn.dropPartitions}($1::interval, $2) AS name`, [pgInterval('retention', options.retention), options.detachOnly ?? false]);
  }
  return {
    created: (created.rows as { name: string }[]).map((row) => row.name),
    removed: (removed.rows as { name: string }[]).map((row) => row.name),
  };
}

/**
 * Options of the TimescaleDB variant.
 *
 * @example
 * ```ts
 * const options: TimescaleOptions = { chunkInterval: '1 day', compressAfter: '7 days', retention: '13 months' };
 * ```
 */
export interface TimescaleOptions extends EventsLocation {
  /** `chunk_time_interval` (default `1 day`). */
  readonly chunkInterval?: string;
  /** Compress chunks older than this (default `7 days`; `false`: no compression policy). */
  readonly compressAfter?: string | false;
  /** Drop chunks older than this (default `13 months`; `false`: keep everything). */
  readonly retention?: string | false;
  /** Role granted SELECT when it exists (default `lookout_reader`). */
  readonly readerRole?: string;
}

/**
 * SQL that makes the events table a TimescaleDB hypertable on `creation_time`, with
 * compression (segment by `event`) and retention policies. An existing plain table is converted
 * in place (`migrate_data`, its key widened to `(id, creation_time)` first). TimescaleDB itself is
 * not installed where lookout is tested: this script is generated, not run by any test.
 *
 * @example
 * ```ts
 * await writeFile('events-timescaledb.sql', timescaleEventsSql({ compressAfter: '7 days', retention: '13 months' }));
 * ```
 */
export function timescaleEventsSql(options: TimescaleOptions = {}): string {
  const schemaName = options.schema ?? 'public';
  const table = options.table ?? 'events';
  const schema = quoteIdent(schemaName);
  const events = `${schema}.${quoteIdent(table)}`;
  const lit = quoteLiteral;
  const chunk = pgInterval('chunkInterval', options.chunkInterval ?? '1 day');
  const compressAfter = options.compressAfter === false ? undefined : pgInterval('compressAfter', options.compressAfter ?? '7 days');
  const retention = options.retention === false ? undefined : pgInterval('retention', options.retention ?? '13 months');
  const reader = options.readerRole ?? 'lookout_reader';
  return [
    `-- ${events} as a TimescaleDB hypertable on creation_time (chunks of ${chunk}).`,
    '-- Needs the timescaledb extension (shared_preload_libraries = \'timescaledb\'), TimescaleDB 2.x.',
    '-- NOT exercised by lookout\'s tests (TimescaleDB is not installable there): review before use.',
    '-- Apply as the owner of the table: psql -v ON_ERROR_STOP=1 -f events-timescaledb.sql',
    '\\set ON_ERROR_STOP on',
    'BEGIN;',
    'CREATE EXTENSION IF NOT EXISTS timescaledb;',
    `CREATE SCHEMA IF NOT EXISTS ${schema};`,
    `CREATE TABLE IF NOT EXISTS ${events} (\n${columns('PRIMARY KEY (id, creation_time)')}\n);`,
    '-- A table made by migration 1 has PRIMARY KEY (id): a hypertable\'s unique keys must hold the time column.',
    `DO $lookout$
DECLARE
  key_name text;
BEGIN
  SELECT c.conname INTO key_name FROM pg_catalog.pg_constraint c
    WHERE c.conrelid = ${lit(events)}::regclass AND c.contype = 'p'
      AND c.conkey = ARRAY[(SELECT attnum FROM pg_catalog.pg_attribute WHERE attrelid = ${lit(events)}::regclass AND attname = 'id')]::int2[];
  IF key_name IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I, ADD PRIMARY KEY (id, creation_time)', ${lit(events)}, key_name);
  END IF;
END $lookout$;`,
    `SELECT create_hypertable(${lit(events)}, 'creation_time', chunk_time_interval => interval ${lit(chunk)}, if_not_exists => TRUE, migrate_data => TRUE);`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_creation_time_idx`)} ON ${events} (creation_time);`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_event_creation_time_idx`)} ON ${events} (event, creation_time);`,
    ...(compressAfter === undefined ? [] : [
      '-- Compressed chunks: one segment per event name, newest first. A late retry into a compressed chunk',
      '-- still works (TimescaleDB >= 2.11 checks ON CONFLICT DO NOTHING against compressed data).',
      `DO $lookout$
BEGIN
  IF NOT (SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_schema = ${lit(schemaName)} AND hypertable_name = ${lit(table)}) THEN
    EXECUTE format('ALTER TABLE %s SET (timescaledb.compress, timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)', ${lit(events)}, 'event', 'creation_time DESC, id');
  END IF;
END $lookout$;`,
      `SELECT add_compression_policy(${lit(events)}, interval ${lit(compressAfter)}, if_not_exists => TRUE);`,
    ]),
    ...(retention === undefined ? [] : [`SELECT add_retention_policy(${lit(events)}, interval ${lit(retention)}, if_not_exists => TRUE);`]),
    `DO $lookout$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${lit(reader)}) THEN
    EXECUTE format('GRANT SELECT ON %s TO %I', ${lit(events)}, ${lit(reader)});
  END IF;
END $lookout$;`,
    'COMMIT;',
    '',
  ].join('\n');
}
