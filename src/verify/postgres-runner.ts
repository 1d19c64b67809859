import type pg from 'pg';
import { requireOptional } from '../core/optional.js';
import { LookoutError } from '../core/errors.js';

/**
 * Rows of one query: column names and values (`pg`'s JS types: numbers, strings, Dates).
 *
 * @example
 * ```ts
 * const result: SqlResult = { columns: ['time', 'accuracy'], rows: [[1704067200, 0.93]] };
 * ```
 */
export interface SqlResult {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

/**
 * What the connected role may do: the checker refuses a role that could write.
 *
 * @example
 * ```ts
 * const role: RoleInfo = { user: 'lookout_reader', superuser: false, writableTables: [] };
 * ```
 */
export interface RoleInfo {
  readonly user: string;
  readonly superuser: boolean;
  /** Tables the role may INSERT, UPDATE, DELETE or TRUNCATE. */
  readonly writableTables: readonly string[];
}

/**
 * Runs dashboard SQL the way Grafana's PostgreSQL datasource does: one connection as the
 * read-only role, with a statement timeout.
 *
 * @example
 * ```ts
 * const runner = new PostgresRunner({ connectionString: 'postgres://lookout_reader:...@127.0.0.1/app' });
 * const { rows } = await runner.query('SELECT 1');
 * await runner.close();
 * ```
 */
export class PostgresRunner {
  private readonly client: pg.Client;
  private connected: Promise<void> | undefined;

  constructor(options: { readonly connectionString: string; readonly searchPath?: string; readonly statementTimeoutMs?: number }) {
    const settings = [`-c statement_timeout=${options.statementTimeoutMs ?? 30_000}`];
    if (options.searchPath !== undefined) settings.push(`-c search_path=${options.searchPath}`);
    this.client = new (requireOptional<typeof pg>('check', 'pg').Client)({ connectionString: options.connectionString, application_name: 'lookout-check', options: settings.join(' '), connectionTimeoutMillis: 10_000 });
    this.client.on('error', () => undefined);
  }

  /** Runs one query; throws `LOOKOUT_E_VERIFY_POSTGRES` with PostgreSQL's message. */
  async query(sql: string): Promise<SqlResult> {
    await this.connect();
    try {
      const result = await this.client.query({ text: sql, rowMode: 'array' });
      return { columns: result.fields.map((field) => field.name), rows: result.rows as unknown[][] };
    } catch (error) {
      throw new LookoutError('LOOKOUT_E_VERIFY_POSTGRES', (error as Error).message);
    }
  }

  /** Who the connection runs as, and whether it could change any table. */
  async role(): Promise<RoleInfo> {
    const { rows } = await this.query(`SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
  coalesce((SELECT array_agg(DISTINCT table_schema || '.' || table_name) FROM information_schema.role_table_grants
    WHERE grantee = current_user AND privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')), '{}')`);
    const [user, superuser, writable] = rows[0] as [string, boolean, string[]];
    return { user, superuser, writableTables: writable };
  }

  async close(): Promise<void> {
    if (this.connected !== undefined) await this.client.end().catch(() => undefined);
  }

  private connect(): Promise<void> {
    const connecting = (this.connected ??= this.client.connect().then(
      () => undefined,
      (error: Error) => {
        throw new LookoutError('LOOKOUT_E_VERIFY_POSTGRES', `cannot connect: ${error.message}`);
      },
    ));
    return connecting;
  }
}
