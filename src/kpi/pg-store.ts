import type pg from 'pg';
import type copyStreams from 'pg-copy-streams';
import { LookoutError } from '../core/errors.js';
import { requireOptional } from '../core/optional.js';
import type { Registry } from '../core/registry.js';
import { insertRowsText, type KpiBatch } from './batch.js';
import { trackPool, type PoolStatsLike } from './connections.js';
import { COPY_COLUMNS, COPY_HEADER, COPY_TRAILER, CopyBinaryEncoder } from './copy-binary.js';
import { KPI_ERRORS, integerOption, kpiError } from './errors.js';
import { describeTarget, resolvePgConfig, type PgConnectionOptions } from './pg-config.js';
import { EncodedBatch } from './row-buffer.js';
import { insertRowsSql, migrate, qualifiedNames, type EventsLocation } from './schema.js';
import type { KpiStore } from './store.js';

/**
 * Options of the PostgreSQL store. Connection: see `PgConnectionOptions`
 * (explicit > `DATABASE_URL` > `PG*` > default), or pass your own `pool`.
 *
 * @example
 * ```ts
 * pgStore({ connectionString: process.env.KPI_DATABASE_URL, schema: 'analytics' });
 * ```
 */
export interface PgStoreOptions extends PgConnectionOptions, EventsLocation {
  /** Use this `pg` Pool instead of creating one (it is not ended on close). */
  readonly pool?: PgPoolLike;
  /** Connections of the store's own pool (default 2: one writing, one spare). */
  readonly maxConnections?: number;
  /** `application_name` of the store's connections (default `lookout-kpi`). */
  readonly applicationName?: string;
  /** Give up connecting after this long (default 5000 ms); the batch is retried. */
  readonly connectTimeoutMs?: number;
  /** Abort a write that takes longer (default 30,000 ms): the connection is destroyed, the batch retried. */
  readonly writeTimeoutMs?: number;
  /**
   * `on-retry` (default): a batch's first attempt is one atomic `COPY` into
   * the table; any later attempt, whose predecessor may have committed, goes
   * through a temporary staging table and `INSERT ... ON CONFLICT DO NOTHING`.
   * `always`: every batch takes the staging path. The conflict has no target so that it
   * matches the table's key whatever it is: `PRIMARY KEY (id)` of migration 1, or
   * `(id, creation_time)` of a partitioned table or TimescaleDB hypertable (a key there must
   * hold the partitioning column; a retried row has the same id and time, so it still conflicts).
   * Lookout's tables have no other unique constraint.
   */
  readonly dedupe?: 'on-retry' | 'always';
  /** Run the migrations on open (default true). */
  readonly migrate?: boolean;
  /**
   * `copy` (default): binary COPY, as above. `insert`: one multi-row `INSERT ... SELECT FROM
   * UNNEST(...) ON CONFLICT DO NOTHING` per batch (a server without COPY FROM STDIN). `probe`:
   * on open, a zero-row COPY in a transaction that is rolled back tells which of the two the
   * server takes (a store process of lookout before COPY FROM STDIN refuses it); without `pg-copy-streams`
   * installed, `probe` means `insert`.
   */
  readonly writeMethod?: 'copy' | 'insert' | 'probe';
}

const STAGING = 'pg_temp.lookout_kpi_staging';

/**
 * A `pg` Pool as lookout's public types describe it: the calls the store makes,
 * written out here so that lookout's declarations need neither `pg` nor
 * `@types/pg` in an app that does not write to PostgreSQL.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool: PgPoolLike = new pg.Pool();
 * pgStore({ pool });
 * ```
 */
export interface PgPoolLike extends PoolStatsLike {
  connect(): Promise<unknown>;
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  on(event: 'error' | 'acquire', listener: (...args: never[]) => void): unknown;
  end(): Promise<void>;
}

/** pg and pg-copy-streams, loaded when the first PostgreSQL store or migration is created. */
function pgModules(copy: 'required' | 'optional' | 'no' = 'required'): { pg: typeof pg; copyStreams: typeof copyStreams | undefined } {
  const pgModule = requireOptional<typeof pg>('pgStore', 'pg');
  if (copy === 'no') return { pg: pgModule, copyStreams: undefined };
  try {
    return { pg: pgModule, copyStreams: requireOptional<typeof copyStreams>('pgStore', 'pg-copy-streams') };
  } catch (error) {
    if (copy === 'optional' && error instanceof LookoutError && error.code === 'LOOKOUT_E_MISSING_DEPENDENCY') return { pg: pgModule, copyStreams: undefined };
    throw error;
  }
}

/**
 * Whether `pg-copy-streams` (an optional peer) can be loaded, so that a store can write with
 * COPY; any other failure to load it is thrown, as `pgStore` throws it.
 *
 * @example
 * ```ts
 * const rowEncoding = copyStreamsInstalled() ? 'pg-copy-binary' : undefined;
 * ```
 */
export function copyStreamsInstalled(): boolean {
  return pgModules('optional').copyStreams !== undefined;
}

/**
 * The PostgreSQL store: batches are written with binary COPY (`pg-copy-streams`);
 * a retried batch never duplicates rows (see `dedupe`).
 *
 * @example
 * ```ts
 * const kpi = createKpi({ registry, events: ['good_inference'], store: pgStore() });
 * ```
 */
export class PgStore implements KpiStore {
  readonly kind = 'postgres';
  readonly preferredBatchSize: number;
  /** With COPY, events are encoded at record time; batches arrive as COPY bytes (see `KpiStore.rowEncoding`). */
  readonly rowEncoding?: 'pg-copy-binary';
  /** The pool rows are written through. */
  readonly pool: PgPoolLike;
  private readonly pgPool: pg.Pool;
  private readonly copyFrom: typeof copyStreams.from | undefined;
  /** How batches are written: decided by `writeMethod`, or by the probe on open. */
  private method: 'copy' | 'insert' | 'probe';
  /** `host:port/database`, without credentials. */
  readonly target: string;
  private readonly ownsPool: boolean;
  private readonly names: ReturnType<typeof qualifiedNames>;
  private readonly location: EventsLocation;
  private readonly writeTimeoutMs: number;
  private readonly dedupe: 'on-retry' | 'always';
  private readonly runMigrations: boolean;
  private readonly insertSql: string;
  private readonly encoded = new WeakMap<KpiBatch, Buffer[]>();
  private readonly staged = new WeakSet<pg.PoolClient>();
  private active: pg.PoolClient | undefined;

  constructor(options: PgStoreOptions = {}) {
    this.location = { ...(options.schema !== undefined && { schema: options.schema }), ...(options.table !== undefined && { table: options.table }) };
    this.names = qualifiedNames(this.location);
    this.insertSql = insertRowsSql(this.names.events);
    this.writeTimeoutMs = integerOption('writeTimeoutMs', options.writeTimeoutMs, 30_000, 1);
    this.dedupe = options.dedupe ?? 'on-retry';
    this.runMigrations = options.migrate ?? true;
    const writeMethod = options.writeMethod ?? 'copy';
    if (writeMethod !== 'copy' && writeMethod !== 'insert' && writeMethod !== 'probe') {
      throw new LookoutError(KPI_ERRORS.option, `writeMethod must be 'copy', 'insert' or 'probe', got ${String(writeMethod)}`);
    }
    const modules = pgModules(writeMethod === 'copy' ? 'required' : writeMethod === 'probe' ? 'optional' : 'no');
    this.copyFrom = modules.copyStreams?.from;
    this.method = this.copyFrom === undefined ? 'insert' : writeMethod;
    if (this.method === 'copy') this.rowEncoding = 'pg-copy-binary';
    this.preferredBatchSize = this.method === 'copy' ? 20_000 : 2000;
    if (options.pool !== undefined) {
      this.pgPool = options.pool as pg.Pool;
      this.ownsPool = false;
      this.target = 'the given pool';
    } else {
      const { config } = resolvePgConfig(options);
      this.pgPool = new modules.pg.Pool({
        ...config,
        max: integerOption('maxConnections', options.maxConnections, 2, 1, 100),
        application_name: options.applicationName ?? 'lookout-kpi',
        connectionTimeoutMillis: integerOption('connectTimeoutMs', options.connectTimeoutMs, 5000, 1),
        idleTimeoutMillis: 30_000,
        keepAlive: true,
        allowExitOnIdle: true,
      });
      this.ownsPool = true;
      this.target = describeTarget(config);
    }
    this.pool = this.pgPool;
    // An idle connection that dies (server restart, pg_terminate_backend) is
    // reported here; the pool drops it and the next write reconnects.
    this.pgPool.on('error', ignore);
    // A checked-out client has no error listener of the pool's: a backend killed
    // between two statements (or in the same read as the connection's first
    // ReadyForQuery, before any code of ours runs) would crash the process. The
    // failing query reports the error anyway, so every client ignores the event.
    this.pgPool.on('acquire', (client: pg.PoolClient) => {
      if (guarded.has(client)) return;
      guarded.add(client);
      client.on('error', ignore);
    });
  }

  async open(): Promise<void> {
    if (this.runMigrations) await migrate(this.pgPool, this.location);
    if (this.method === 'probe') this.method = (await this.copyWorks()) ? 'copy' : 'insert';
  }

  /** How batches are written now (`probe` until the first open). @example store.writeMethod; // 'insert' */
  get writeMethod(): 'copy' | 'insert' | 'probe' {
    return this.method;
  }

  async write(batch: KpiBatch, retry: boolean): Promise<void> {
    const client = await this.pgPool.connect();
    this.active = client;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      destroyConnection(client);
    }, this.writeTimeoutMs);
    try {
      if (this.method !== 'copy') await client.query(this.insertSql, await insertRowsText(batch));
      else if (retry || this.dedupe === 'always') await this.writeStaged(client, batch);
      else await this.copyIn(client, `COPY ${this.names.events} (${COPY_COLUMNS}) FROM STDIN (FORMAT binary)`, batch);
      client.release();
    } catch (error) {
      // Whatever failed, the connection may be mid-COPY or mid-transaction: drop it.
      client.release(true);
      if (timedOut) throw kpiError(KPI_ERRORS.store, `writing ${batch.size} events to ${this.target} took more than writeTimeoutMs (${this.writeTimeoutMs} ms)`, error);
      throw error;
    } finally {
      clearTimeout(timer);
      this.active = undefined;
    }
  }

  /**
   * Runs one query in a READ ONLY transaction, at most `writeTimeoutMs` long
   * (`{events}` is the events table). It takes a pool connection of its own.
   *
   * @example
   * ```ts
   * const rows = await store.query('SELECT event, count(*)::float8 AS n FROM {events} WHERE creation_time > $1 GROUP BY 1', [since]);
   * ```
   */
  async query(sql: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
    const client = await this.pgPool.connect();
    try {
      await client.query(`BEGIN READ ONLY; SET LOCAL statement_timeout = ${this.writeTimeoutMs}`);
      const { rows } = await client.query<Record<string, unknown>>(sql.replaceAll('{events}', this.names.events), [...params]);
      await client.query('COMMIT');
      client.release();
      return rows;
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.active !== undefined) destroyConnection(this.active);
    if (this.ownsPool) await this.pgPool.end();
  }

  instrument(registry: Registry): void {
    trackPool(this.pool, registry);
  }

  /** A zero-row binary COPY in a transaction that is rolled back; its connection is then dropped whatever happened. */
  private async copyWorks(): Promise<boolean> {
    const client = await this.pgPool.connect();
    try {
      await client.query('BEGIN');
      const stream = client.query(this.copyFrom!(`COPY ${this.names.events} (${COPY_COLUMNS}) FROM STDIN (FORMAT binary)`));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.write(COPY_HEADER);
        stream.end(COPY_TRAILER);
      });
      await client.query('ROLLBACK');
      return true;
    } catch {
      return false;
    } finally {
      client.release(true);
    }
  }

  // The rows may already be in the table (the commit of an earlier attempt can
  // succeed while its reply is lost): stage them, insert only the new ids.
  private async writeStaged(client: pg.PoolClient, batch: KpiBatch): Promise<void> {
    if (!this.staged.has(client)) {
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS lookout_kpi_staging (LIKE ${this.names.events} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
      this.staged.add(client);
    }
    await client.query('BEGIN');
    await this.copyIn(client, `COPY ${STAGING} (${COPY_COLUMNS}) FROM STDIN (FORMAT binary)`, batch);
    await client.query(`INSERT INTO ${this.names.events} (${COPY_COLUMNS}) SELECT ${COPY_COLUMNS} FROM ${STAGING} ON CONFLICT DO NOTHING`);
    await client.query('COMMIT');
  }

  /**
   * Streams the batch into a COPY. An `EncodedBatch` is sent as it is (its rows
   * were encoded at record time); other batches are encoded chunk by chunk,
   * each chunk sent before the next is encoded (the server works while we
   * encode, and the event loop is never held for a whole batch), and the
   * chunks are kept for a retry.
   */
  private async copyIn(client: pg.PoolClient, sql: string, batch: KpiBatch): Promise<void> {
    const stream = client.query(this.copyFrom!(sql));
    let failure: unknown;
    const finished = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', (error) => {
        failure = error;
        reject(error);
      });
    });
    finished.catch(() => undefined); // awaited below; the writing loop stops on `failure`
    // Waits for room in the stream when it asks for it (and lets the event loop run between encoded chunks).
    const sent = (accepted: boolean): Promise<unknown> => accepted ? new Promise((resolve) => setImmediate(resolve)) : new Promise((resolve) => {
      stream.once('drain', resolve);
      finished.then(resolve, resolve);
    });
    const cached = batch instanceof EncodedBatch ? undefined : this.encoded.get(batch);
    if (batch instanceof EncodedBatch) {
      stream.write(COPY_HEADER);
      for (const part of batch.parts) {
        if (failure !== undefined) break;
        if (!stream.write(part)) await sent(false);
      }
      if (failure === undefined) stream.write(COPY_TRAILER);
    } else if (cached !== undefined) {
      for (const chunk of cached) stream.write(chunk);
    } else {
      const chunks: Buffer[] = [];
      const encoder = new CopyBinaryEncoder(batch);
      for (let chunk = encoder.next(); chunk !== undefined && failure === undefined; chunk = encoder.next()) {
        chunks.push(chunk);
        await sent(stream.write(chunk));
      }
      if (failure === undefined) this.encoded.set(batch, chunks);
    }
    if (failure === undefined) stream.end();
    await finished;
  }
}

/**
 * Creates the PostgreSQL store.
 *
 * @example
 * ```ts
 * const store = pgStore({ host: '127.0.0.1', user: 'postgres', database: 'app' });
 * ```
 */
export function pgStore(options: PgStoreOptions = {}): PgStore {
  return new PgStore(options);
}

/**
 * Runs the migrations against PostgreSQL once and disconnects: what a
 * `lookout migrate` command or a deploy step calls. Connection settings are
 * resolved like the store's (explicit > `DATABASE_URL` > `PG*` > default).
 * Returns the versions it applied (`[]` when the schema was current).
 *
 * @example
 * ```ts
 * const applied = await migrateDatabase({ schema: 'public' });
 * ```
 */
export async function migrateDatabase(options: PgConnectionOptions & EventsLocation = {}): Promise<number[]> {
  const pool = new (pgModules('no').pg.Pool)({ ...resolvePgConfig(options).config, max: 1, application_name: 'lookout-migrate' });
  pool.on('error', ignore);
  try {
    return await migrate(pool, { ...(options.schema !== undefined && { schema: options.schema }), ...(options.table !== undefined && { table: options.table }) });
  } finally {
    await pool.end();
  }
}

function ignore(): void {}

const guarded = new WeakSet<pg.PoolClient>();

// pg has no public way to abort a query in progress: end the socket under it.
function destroyConnection(client: pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
