import { LookoutError } from '../core/errors.js';
import { KPI_ERRORS } from './errors.js';

/**
 * Anything that runs SQL: a `pg` Client or Pool, or a PGlite instance.
 *
 * @example
 * ```ts
 * const executor: SqlExecutor = new pg.Pool();
 * ```
 */
export interface SqlExecutor {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

/** A `pg` Pool: migrations need one connection for their transaction. */
interface PoolLike extends SqlExecutor {
  readonly totalCount: number;
  connect(): Promise<SqlExecutor & {
    release(destroy?: boolean): void;
    on(event: 'error', listener: () => void): unknown;
    removeListener(event: 'error', listener: () => void): unknown;
  }>;
}

/**
 * Where the events live. Defaults: schema `public`, table `events`.
 *
 * @example
 * ```ts
 * const location: EventsLocation = { schema: 'analytics', table: 'events' };
 * ```
 */
export interface EventsLocation {
  readonly schema?: string;
  readonly table?: string;
}

/** Dollar quote of the DO blocks (identifiers holding it are refused). */
const DOLLAR = '$lookout_migration$';

/**
 * Double-quotes an identifier for SQL, doubling inner quotes.
 *
 * @example
 * ```ts
 * quoteIdent('user'); // '"user"'
 * ```
 */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name === '' || name.includes('\0') || name.includes(DOLLAR)) {
    throw new LookoutError(KPI_ERRORS.option, `invalid SQL identifier ${JSON.stringify(name)} (a non-empty string without NUL)`);
  }
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quotes a string literal for SQL where parameters cannot be used (DDL).
 *
 * @example
 * ```ts
 * quoteLiteral("it's"); // "'it''s'"
 * ```
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new LookoutError(KPI_ERRORS.option, 'SQL literals cannot contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * Quoted names derived from a location.
 *
 * @example
 * ```ts
 * qualifiedNames({ schema: 'kpi' }).events; // '"kpi"."events"'
 * ```
 */
export function qualifiedNames(location: EventsLocation = {}): { schema: string; events: string; migrations: string; table: string } {
  const schema = location.schema ?? 'public';
  const table = location.table ?? 'events';
  return {
    schema: quoteIdent(schema),
    table,
    events: `${quoteIdent(schema)}.${quoteIdent(table)}`,
    migrations: `${quoteIdent(schema)}.${quoteIdent(`${table === 'events' ? '' : `${table}_`}lookout_schema_migrations`)}`,
  };
}

/**
 * One schema version: statements run in order inside one transaction.
 *
 * @example
 * ```ts
 * MIGRATIONS[0].version; // 1
 * ```
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: (location: Required<EventsLocation>) => string[];
}

/**
 * The multi-row INSERT of a batch: seven array parameters (ids, times in ms, events, users,
 * models, args as JSON text, values) unnested into rows; rows whose key is already there are
 * skipped, so a retried batch never duplicates. The conflict has no target so that it
 * matches the table's key whatever it is (see `PgStoreOptions.dedupe`).
 *
 * @example
 * ```ts
 * await client.query(insertRowsSql('"public"."events"'), batchParams(batch));
 * ```
 */
export function insertRowsSql(events: string): string {
  return `INSERT INTO ${events} (id, creation_time, event, "user", model, args, value)
SELECT id, to_timestamp(ms / 1000), event, "user", model, args::jsonb, value
FROM UNNEST($1::uuid[], $2::float8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[]) AS rows(id, ms, event, "user", model, args, value)
ON CONFLICT DO NOTHING`;
}

/**
 * The versioned migrations. Append only: never edit a released one.
 *
 * @example
 * ```ts
 * MIGRATIONS.map((migration) => migration.version); // [1, 2]
 * ```
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events table with time and event+time indexes',
    statements: ({ schema, table }) => {
      const events = `${quoteIdent(schema)}.${quoteIdent(table)}`;
      return [
        `CREATE TABLE IF NOT EXISTS ${events} (
  id uuid PRIMARY KEY,
  creation_time timestamptz NOT NULL DEFAULT now(),
  event text NOT NULL,
  "user" text,
  model text,
  args jsonb,
  value double precision
)`,
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_creation_time_idx`)} ON ${events} (creation_time)`,
        `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${table}_event_creation_time_idx`)} ON ${events} (event, creation_time)`,
      ];
    },
  },
  {
    version: 2,
    name: 'no (event, creation_time) index',
    // With time-ordered ids, that btree cost 0.85 of the 3.0 µs of PostgreSQL CPU per event
    // (bench/kpi-indexes.ts) and 85 of its 323 bytes of WAL, while the dashboards' queries, which
    // read a time range and keep the labelled events, ran as fast on the creation_time index
    // (bench/kpi-queries.ts). `eventIndexSql` gives it back to whoever queries rare events over
    // long ranges. Only a plain table changes: a partitioned table or a hypertable (one with child
    // tables) keeps the indexes its own layout gave it.
    statements: ({ schema, table }) => {
      const events = quoteLiteral(`${quoteIdent(schema)}.${quoteIdent(table)}`);
      return [`DO ${DOLLAR}
BEGIN
  IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = to_regclass(${events})) = 'r'
    AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits WHERE inhparent = to_regclass(${events})) THEN
    DROP INDEX IF EXISTS ${quoteIdent(schema)}.${quoteIdent(`${table}_event_creation_time_idx`)};
  END IF;
END ${DOLLAR}`];
    },
  },
];

/**
 * SQL that adds the `(event, creation_time)` btree that migration 2 removed, without blocking
 * writes (`CONCURRENTLY`: run it outside a transaction; the migrations never drop it again).
 * Worth its cost (about 0.85 µs of PostgreSQL CPU and 85 bytes of WAL per event, and an index
 * of about a quarter of the table's size) only when the events you query are a small share of
 * those recorded in long ranges; the built-in dashboards read good and bad inferences, usually
 * most of the table.
 *
 * @example
 * ```ts
 * await pool.query(eventIndexSql({ schema: 'public' }));
 * ```
 */
export function eventIndexSql(location: EventsLocation = {}): string {
  const names = qualifiedNames(location);
  return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdent(`${names.table}_event_creation_time_idx`)} ON ${names.events} (event, creation_time)`;
}

/**
 * Brings the schema to the latest version, idempotently: it takes an advisory
 * lock (two processes starting together do not race), creates the schema and
 * `lookout_schema_migrations` when missing, and runs each missing migration
 * in its own transaction. Returns the versions it applied.
 *
 * @example
 * ```ts
 * await migrate(pool, { schema: 'public' }); // a Pool, a Client or a PGlite
 * ```
 */
export async function migrate(executor: SqlExecutor, location: EventsLocation = {}): Promise<number[]> {
  if (typeof (executor as Partial<PoolLike>).totalCount === 'number' && typeof (executor as Partial<PoolLike>).connect === 'function') {
    const client = await (executor as PoolLike).connect();
    const ignore = (): void => undefined; // the failing query reports a lost connection
    client.on('error', ignore);
    let failed = false;
    try {
      return await migrate(client, location);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A destroyed client may still report its end: it keeps the listener.
      if (!failed) client.removeListener('error', ignore);
      client.release(failed);
    }
  }
  const names = qualifiedNames(location);
  const resolved = { schema: location.schema ?? 'public', table: names.table };
  const applied: number[] = [];
  await executor.query('BEGIN');
  try {
    await executor.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lookout_kpi_migrations:${names.events}`]);
    await executor.query(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
    await executor.query(`CREATE TABLE IF NOT EXISTS ${names.migrations} (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`);
    const { rows } = await executor.query(`SELECT version FROM ${names.migrations}`);
    const done = new Set((rows as { version: number }[]).map((row) => Number(row.version)));
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements(resolved)) await executor.query(statement);
      await executor.query(`INSERT INTO ${names.migrations} (version, name) VALUES ($1, $2)`, [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await executor.query('COMMIT');
  } catch (error) {
    await executor.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return applied;
}

/**
 * Options of the read-only role Grafana uses.
 *
 * @example
 * ```ts
 * const options: ReaderRoleOptions = { role: 'lookout_reader', password: process.env.GRAFANA_DB_PASSWORD };
 * ```
 */
export interface ReaderRoleOptions extends EventsLocation {
  /** Role name (default `lookout_reader`). */
  readonly role?: string;
  /** Login password; without one the role is created NOLOGIN (grant it to a login role yourself). */
  readonly password?: string;
}

/**
 * SQL that creates (or updates) a role allowed to SELECT the events table and
 * nothing else, and makes its sessions read-only. Idempotent.
 *
 * @example
 * ```ts
 * fs.writeFileSync('reader.sql', readerRoleSql({ password: 'from-a-secret' }));
 * ```
 */
export function readerRoleSql(options: ReaderRoleOptions = {}): string {
  const role = quoteIdent(options.role ?? 'lookout_reader');
  const names = qualifiedNames(options);
  const login = options.password === undefined ? 'NOLOGIN' : `LOGIN PASSWORD ${quoteLiteral(options.password)}`;
  const roleLiteral = quoteLiteral(options.role ?? 'lookout_reader');
  return [
    `DO $lookout$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${roleLiteral}) THEN
    CREATE ROLE ${role} ${login};
  ELSE
    ALTER ROLE ${role} ${login};
  END IF;
END $lookout$;`,
    `ALTER ROLE ${role} SET default_transaction_read_only = on;`,
    `GRANT USAGE ON SCHEMA ${names.schema} TO ${role};`,
    `GRANT SELECT ON ${names.events} TO ${role};`,
  ].join('\n');
}

/**
 * Runs `readerRoleSql` (needs a role allowed to create roles).
 *
 * @example
 * ```ts
 * await createReaderRole(pool, { password: process.env.GRAFANA_DB_PASSWORD });
 * ```
 */
export async function createReaderRole(executor: SqlExecutor, options: ReaderRoleOptions = {}): Promise<void> {
  await executor.query(readerRoleSql(options));
}
