import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveOptional } from '../core/optional.js';
import type { KpiBatch } from './batch.js';
import { integerOption } from './errors.js';
import { copyStreamsInstalled, PgStore } from './pg-store.js';
import type { EventsLocation } from './schema.js';
import { readStoreAddress, STORE_PORT_FILE, type StoreAddress } from './store-host.js';
import { joinStore } from './store-process.js';
import { isConnectionError, type KpiStore } from './store.js';

/**
 * Options of the embedded store.
 *
 * @example
 * ```ts
 * embeddedStore({ dataDir: '/var/lib/my-api/kpi', idleTimeoutMs: 300_000 });
 * ```
 */
export interface EmbeddedStoreOptions extends EventsLocation {
  /** Data folder (default `.lookout/pglite`). Every process that names the same folder shares one store process. */
  readonly dataDir?: string;
  /** Rows per write (default 2000). */
  readonly batchSize?: number;
  /** Run the migrations on open (default true). */
  readonly migrate?: boolean;
  /** Wait this long for the store process to answer (default 60,000 ms). */
  readonly startTimeoutMs?: number;
  /** A store process started by this one stops once no client has been connected for this long (default 60,000 ms). */
  readonly idleTimeoutMs?: number;
  /** Abort a write that takes longer (default 30,000 ms); the batch is retried. */
  readonly writeTimeoutMs?: number;
  /** A store process started by this one listens on this port of 127.0.0.1 (default: any free one), e.g. for a Grafana datasource. */
  readonly port?: number;
}

/**
 * The embedded store, out of the API's process: PGlite in a local folder, served over the
 * PostgreSQL wire protocol on loopback by one store process per folder (see `joinStore`),
 * and written through `pgStore`'s code path: binary COPY, as to PostgreSQL (the store
 * process takes `COPY ... FROM STDIN`; the open probes it, and a multi-row INSERT is the
 * fallback when it is refused, by a store process of an older version, or when
 * `pg-copy-streams` is not installed). With COPY, the events waiting for their write are
 * bytes, encoded when recorded (see `KpiStore.rowEncoding`), not strings on the API's heap.
 * The API's process holds a `pg` pool, not PostgreSQL:
 * PGlite's memory and CPU are the store process's. The store process is started on first
 * use, joined by every process using the folder, started again when it has died (the
 * dispatcher keeps the events meanwhile, buffered and counted), and stops once no client
 * has been connected for `idleTimeoutMs`. The default when nothing is configured;
 * `pgliteStore` runs PGlite in the API's process instead.
 *
 * @example
 * ```ts
 * const kpi = createKpi({ registry, events: ['good_inference'], store: embeddedStore() });
 * ```
 */
export class EmbeddedStore implements KpiStore {
  readonly kind = 'embedded';
  readonly preferredBatchSize: number;
  /** `pg-copy-binary` when `pg-copy-streams` is installed: events are encoded when recorded, for COPY. */
  readonly rowEncoding?: 'pg-copy-binary';
  /** The data folder. */
  readonly dataDir: string;
  private readonly options: EmbeddedStoreOptions;
  private inner: PgStore | undefined;
  private address: StoreAddress | undefined;
  /** A connection failed: the store process may be gone; join (or start) again before the next write. */
  private rejoin = true;

  constructor(options: EmbeddedStoreOptions = {}) {
    this.dataDir = options.dataDir ?? '.lookout/pglite';
    // Missing at setup rather than at the first flush: the install command is in the error.
    resolveOptional('embeddedStore', '@electric-sql/pglite', '@electric-sql/pglite');
    resolveOptional('embeddedStore', 'pg', 'pg');
    if (copyStreamsInstalled()) this.rowEncoding = 'pg-copy-binary';
    this.preferredBatchSize = integerOption('batchSize', options.batchSize, 2000, 1);
    integerOption('startTimeoutMs', options.startTimeoutMs, 60_000, 1);
    integerOption('idleTimeoutMs', options.idleTimeoutMs, 60_000, 1);
    integerOption('port', options.port, 0, 0, 65_535);
    this.options = options;
  }

  /** Where the store process listens (after the first open). @example store.connectionString; */
  get connectionString(): string | undefined {
    return this.address?.connectionString;
  }

  /** `copy` or `insert`, as the probe found (after the first open). @example store.writeMethod; */
  get writeMethod(): string | undefined {
    return this.inner?.writeMethod;
  }

  async open(): Promise<void> {
    const address = await joinStore({
      dataDir: this.dataDir,
      ...(this.options.startTimeoutMs !== undefined && { startTimeoutMs: this.options.startTimeoutMs }),
      ...(this.options.idleTimeoutMs !== undefined && { idleTimeoutMs: this.options.idleTimeoutMs }),
      ...(this.options.port !== undefined && { port: this.options.port }),
    });
    if (this.inner === undefined || this.address?.connectionString !== address.connectionString) {
      const previous = this.inner;
      this.inner = new PgStore({
        connectionString: address.connectionString,
        writeMethod: 'probe',
        applicationName: 'lookout-kpi-embedded',
        ...(this.options.schema !== undefined && { schema: this.options.schema }),
        ...(this.options.table !== undefined && { table: this.options.table }),
        ...(this.options.migrate !== undefined && { migrate: this.options.migrate }),
        ...(this.options.writeTimeoutMs !== undefined && { writeTimeoutMs: this.options.writeTimeoutMs }),
      });
      this.address = address;
      await previous?.close().catch(() => undefined);
    }
    await this.inner.open();
    this.rejoin = false;
  }

  async write(batch: KpiBatch, retry: boolean): Promise<void> {
    if (this.rejoin || this.inner === undefined) await this.open();
    try {
      await this.inner!.write(batch, retry);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.rejoin = true;
      // Stopped cleanly (idle: no port file) or replaced by another live one: not a failure
      // worth a report and a backoff; join or start the store now and write again (the
      // INSERT skips rows already there). A crash (a port file whose process is gone) is
      // reported, and the next attempt starts a new store.
      const current = readStoreAddress(this.dataDir);
      const stoppedCleanly = !existsSync(join(this.dataDir, STORE_PORT_FILE));
      if (!stoppedCleanly && (current === undefined || current.connectionString === this.address?.connectionString)) throw error;
      await this.open();
      await this.inner!.write(batch, true);
    }
  }

  /**
   * Runs one read-only query through the store process (`{events}` is the events table).
   *
   * @example
   * ```ts
   * const rows = await store.query('SELECT event, count(*)::float8 AS n FROM {events} GROUP BY 1');
   * ```
   */
  async query(sql: string, params: readonly unknown[] = []): Promise<Record<string, unknown>[]> {
    if (this.rejoin || this.inner === undefined) await this.open();
    try {
      return await this.inner!.query(sql, params);
    } catch (error) {
      if (isConnectionError(error)) this.rejoin = true;
      throw error;
    }
  }

  /** Ends this process's connections; the store process stops on its own once idle. */
  async close(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    this.rejoin = true;
    await inner?.close();
  }
}

/**
 * Creates the embedded store (the default of `createKpi` without `DATABASE_URL`).
 *
 * @example
 * ```ts
 * const store = embeddedStore({ dataDir: '/var/lib/my-api/kpi' });
 * ```
 */
export function embeddedStore(options: EmbeddedStoreOptions = {}): EmbeddedStore {
  return new EmbeddedStore(options);
}
