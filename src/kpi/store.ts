import type { Registry } from '../core/registry.js';
import type { KpiBatch } from './batch.js';

/**
 * Where KPI rows go. lookout ships `pgStore` (PostgreSQL through `pg`, COPY),
 * `embeddedStore` (PGlite in a store process of its own, the default) and
 * `pgliteStore` (PGlite in this process); any object of this shape works.
 *
 * The dispatcher calls `open` before the first write (again after a failed
 * open), then `write` with one batch at a time, never two at once.
 *
 * @example
 * ```ts
 * const memory: KpiStore = {
 *   kind: 'memory',
 *   async open() {},
 *   async write(batch) { rows.push(...batch.ids); },
 *   async close() {},
 * };
 * ```
 */
export interface KpiStore {
  /** A short name for messages (`postgres`, `pglite`...). */
  readonly kind: string;
  /** Rows per flush this store handles well; `createKpi({ batchSize })` overrides it. */
  readonly preferredBatchSize?: number;
  /**
   * `'pg-copy-binary'`: the store writes PostgreSQL binary COPY (lookout's `pgStore`). The
   * recorder then encodes each event into bytes when it is recorded and hands the store
   * `EncodedBatch`es, whose `parts` are the rows ready to send; their columns are still there,
   * decoded on first access. Without it (the default), batches hold the columns as recorded.
   */
  readonly rowEncoding?: 'pg-copy-binary';
  /** Connects and runs the migrations. May be called again after it failed. */
  open(): Promise<void>;
  /**
   * Writes all rows of `batch` atomically, or throws. `retry` is true when an
   * earlier attempt with the same rows may have committed: the store must then
   * skip ids it already holds (the shipped stores always can).
   */
  write(batch: KpiBatch, retry: boolean): Promise<void>;
  /** Releases connections; aborts a write in progress. */
  close(): Promise<void>;
  /** Registers the store's own gauges (e.g. `db_pool_connections`). */
  instrument?(registry: Registry): void;
  /**
   * Runs one query in a READ ONLY transaction and returns its rows; `{events}`
   * in `sql` stands for the events table's quoted name. The built-in dashboard
   * reads accuracy per minute through it; custom stores may leave it out.
   */
  query?(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
}

/**
 * True for a failure of the link to the database rather than of the rows: a
 * socket error, a refused or terminated connection, or a server that is
 * starting or shutting down. Used only for wording and the `store_up` gauge:
 * every non-data error is retried.
 *
 * @example
 * ```ts
 * isConnectionError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })); // true
 * ```
 */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('E')) return true; // ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT...
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout|not queryable|closed/i.test(message);
}
