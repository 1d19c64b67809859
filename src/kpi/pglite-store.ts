import { mkdirSync } from 'node:fs';
import type * as PgliteModule from '@electric-sql/pglite';
import { importOptional, resolveOptional } from '../core/optional.js';
import { LookoutError } from '../core/errors.js';
import { insertRowsParams, type KpiBatch } from './batch.js';
import { KPI_ERRORS, integerOption, kpiError } from './errors.js';
import { insertRowsSql, migrate, qualifiedNames, type EventsLocation, type SqlExecutor } from './schema.js';
import type { KpiStore } from './store.js';

/**
 * A PGlite transaction as the store uses it (see `PgliteLike`).
 *
 * @example
 * ```ts
 * await db.transaction(async (tx: PgliteTransactionLike) => tx.exec('SET TRANSACTION READ ONLY'));
 * ```
 */
export interface PgliteTransactionLike {
  exec(sql: string): Promise<unknown>;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

/**
 * A PGlite instance as lookout's public types describe it: the calls the store
 * makes, written out so that lookout's declarations do not pull in
 * `@electric-sql/pglite`'s own (which need the global Emscripten types, and
 * fail a consumer's type check with `skipLibCheck: false`).
 *
 * @example
 * ```ts
 * import { PGlite } from '@electric-sql/pglite';
 * const db: PgliteLike = await PGlite.create();
 * pgliteStore({ db });
 * ```
 */
export interface PgliteLike {
  readonly closed: boolean;
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  transaction<T>(callback: (tx: PgliteTransactionLike) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

type PGlite = PgliteLike;

/**
 * Options of the embedded store.
 *
 * @example
 * ```ts
 * pgliteStore({ dataDir: '.lookout/pglite' });
 * ```
 */
export interface PgliteStoreOptions extends EventsLocation {
  /** Data folder (default `.lookout/pglite`); `memory://` keeps nothing on disk. One process per folder. */
  readonly dataDir?: string;
  /** Use this PGlite instance instead of opening one (it is not closed on close); `@electric-sql/pglite` is then yours to install. */
  readonly db?: PGlite;
  /** Rows per INSERT (default 2000). PGlite runs on the main thread: a 2000-row batch holds it for roughly 20-30 ms. */
  readonly batchSize?: number;
  /** Run the migrations on open (default true). */
  readonly migrate?: boolean;
}

/**
 * The embedded store: PGlite (PostgreSQL compiled to WebAssembly) in a local
 * folder, written with multi-row `INSERT ... SELECT FROM UNNEST(...)` and
 * `ON CONFLICT (id) DO NOTHING`. The default when nothing is configured.
 *
 * @example
 * ```ts
 * const kpi = createKpi({ registry, events: ['good_inference'], store: pgliteStore() });
 * ```
 */
export class PgliteStore implements KpiStore {
  readonly kind = 'pglite';
  readonly preferredBatchSize: number;
  /** The data folder (or `memory://`). */
  readonly dataDir: string;
  private readonly given: PGlite | undefined;
  private readonly location: EventsLocation;
  private readonly insertSql: string;
  private readonly eventsTable: string;
  private readonly runMigrations: boolean;
  private db: PGlite | undefined;
  private opening: Promise<PGlite> | undefined;

  constructor(options: PgliteStoreOptions = {}) {
    this.dataDir = options.dataDir ?? '.lookout/pglite';
    this.given = options.db;
    // Missing at setup rather than at the first flush: the install command is in the error.
    if (options.db === undefined) resolveOptional('pgliteStore', '@electric-sql/pglite', '@electric-sql/pglite');
    this.preferredBatchSize = integerOption('batchSize', options.batchSize, 2000, 1);
    this.runMigrations = options.migrate ?? true;
    this.location = { ...(options.schema !== undefined && { schema: options.schema }), ...(options.table !== undefined && { table: options.table }) };
    const { events } = qualifiedNames(this.location);
    this.eventsTable = events;
    this.insertSql = insertRowsSql(events);
  }

  async open(): Promise<void> {
    const db = await this.database();
    if (this.runMigrations) await migrate(db as unknown as SqlExecutor, this.location);
  }

  // Always ON CONFLICT: the check costs little, and one code path is simpler.
  async write(batch: KpiBatch, _retry: boolean): Promise<void> {
    const db = await this.database();
    await db.query(this.insertSql, insertRowsParams(batch));
  }

  /**
   * Runs one read-only query (`{events}` is the events table). PGlite has one
   * session: the transaction holds it, so a batch write waits for the query.
   *
   * @example
   * ```ts
   * const rows = await store.query('SELECT event, count(*)::float8 AS n FROM {events} GROUP BY 1');
   * ```
   */
  async query(sql: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
    const db = await this.database();
    return db.transaction(async (tx) => {
      await tx.exec('SET TRANSACTION READ ONLY');
      return (await tx.query<Record<string, unknown>>(sql.replaceAll('{events}', this.eventsTable), [...params])).rows;
    });
  }

  async close(): Promise<void> {
    const db = this.db ?? (this.opening === undefined ? undefined : await this.opening.catch(() => undefined));
    this.db = undefined;
    this.opening = undefined;
    if (db !== undefined && this.given === undefined && !db.closed) await db.close();
  }

  private database(): Promise<PGlite> {
    if (this.db !== undefined) return Promise.resolve(this.db);
    this.opening ??= this.openDatabase().then(
      (db) => (this.db = db),
      (error: unknown) => {
        this.opening = undefined;
        if (error instanceof LookoutError && error.code === 'LOOKOUT_E_MISSING_DEPENDENCY') throw error;
        throw kpiError(KPI_ERRORS.store, `opening PGlite in ${this.dataDir} failed (is another process using it?)`, error);
      },
    );
    return this.opening;
  }

  private async openDatabase(): Promise<PGlite> {
    if (this.given !== undefined) return this.given;
    if (!this.dataDir.includes('://')) mkdirSync(this.dataDir, { recursive: true });
    const { PGlite: PGliteClass } = await importOptional<typeof PgliteModule>('pgliteStore', '@electric-sql/pglite');
    return PGliteClass.create({ dataDir: this.dataDir });
  }
}

/**
 * Creates the embedded PGlite store.
 *
 * @example
 * ```ts
 * const store = pgliteStore({ dataDir: '/var/lib/my-api/kpi' });
 * ```
 */
export function pgliteStore(options: PgliteStoreOptions = {}): PgliteStore {
  return new PgliteStore(options);
}
