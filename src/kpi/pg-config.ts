import type { ConnectionOptions } from 'node:tls';

/**
 * The settings lookout hands to `pg`'s Pool (a subset of pg's `PoolConfig`,
 * written out so that lookout's declarations do not need `@types/pg`).
 *
 * @example
 * ```ts
 * const config: PgPoolConfig = { connectionString: 'postgres://app@db:5432/app', ssl: true };
 * ```
 */
export interface PgPoolConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | ConnectionOptions;
}

/**
 * How to reach PostgreSQL. Give a URL or fields; leave everything out to use
 * `DATABASE_URL`, then the `PG*` variables, then pg's defaults.
 *
 * @example
 * ```ts
 * const connection: PgConnectionOptions = { host: '127.0.0.1', user: 'postgres', database: 'test' };
 * ```
 */
export interface PgConnectionOptions {
  readonly connectionString?: string;
  readonly host?: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly database?: string;
  readonly ssl?: boolean | ConnectionOptions;
}

/** Where the settings came from, in order of precedence. @example resolvePgConfig({}, {}).source; // 'default' */
export type PgConfigSource = 'explicit' | 'DATABASE_URL' | 'PG environment' | 'default';

/**
 * The resolved connection settings.
 *
 * @example
 * ```ts
 * const { config, source } = resolvePgConfig({}, { DATABASE_URL: 'postgres://a@b/c' });
 * ```
 */
export interface ResolvedPgConfig {
  readonly config: PgPoolConfig;
  readonly source: PgConfigSource;
}

const PG_ENV = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSSLMODE', 'PGSERVICE'];
const FIELDS = ['host', 'port', 'user', 'password', 'database', 'ssl'] as const;

/**
 * Resolves connection settings once, in one place: explicit options, else
 * `DATABASE_URL`, else the `PG*` environment variables (read by pg), else
 * pg's defaults (localhost:5432). Fields left out of explicit options are
 * still filled from `PG*` by pg.
 *
 * @example
 * ```ts
 * resolvePgConfig({}, process.env).source; // 'DATABASE_URL' when it is set
 * ```
 */
export function resolvePgConfig(options: PgConnectionOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedPgConfig {
  if (options.connectionString !== undefined && options.connectionString !== '') {
    // pg lets the URL win over host/user/...: only `ssl` is worth passing beside it.
    return { config: { connectionString: options.connectionString, ...(options.ssl !== undefined && { ssl: options.ssl }) }, source: 'explicit' };
  }
  const explicit: PgPoolConfig = {};
  for (const field of FIELDS) {
    if (options[field] !== undefined) Object.assign(explicit, { [field]: options[field] });
  }
  if (Object.keys(explicit).length > 0) return { config: explicit, source: 'explicit' };
  const url = env['DATABASE_URL'];
  if (url !== undefined && url !== '') return { config: { connectionString: url }, source: 'DATABASE_URL' };
  if (PG_ENV.some((name) => env[name] !== undefined && env[name] !== '')) return { config: {}, source: 'PG environment' };
  return { config: {}, source: 'default' };
}

/**
 * `host:port/database` of a config, without credentials, for messages.
 *
 * @example
 * ```ts
 * describeTarget({ connectionString: 'postgres://u:secret@db:5432/app' }); // 'db:5432/app'
 * ```
 */
export function describeTarget(config: PgPoolConfig, env: NodeJS.ProcessEnv = process.env): string {
  if (config.connectionString !== undefined) {
    try {
      const url = new URL(config.connectionString);
      return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
    } catch {
      return 'the configured connection string';
    }
  }
  const host = config.host ?? env['PGHOST'] ?? 'localhost';
  const port = config.port ?? env['PGPORT'] ?? 5432;
  const database = config.database ?? env['PGDATABASE'] ?? config.user ?? env['PGUSER'] ?? env['USER'] ?? '';
  return `${host}:${String(port)}/${database}`;
}
