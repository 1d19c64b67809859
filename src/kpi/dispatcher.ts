import type { LookoutError } from '../core/errors.js';
import { batchIds, type KpiBatch } from './batch.js';
import { EventBuffer } from './buffer.js';
import { KPI_ERRORS, describe, isDataError, kpiError } from './errors.js';
import { IdGenerator } from './ids.js';
import type { KpiMetrics } from './metrics.js';
import { CopyRowBuffer, EncodedBatch, sliceBatch } from './row-buffer.js';
import { isConnectionError, type KpiStore } from './store.js';
import { Waiters } from './waiters.js';

/** What to do with a new event when the buffer is full. @example const policy: DropPolicy = 'drop-oldest'; */
export type DropPolicy = 'drop-newest' | 'drop-oldest';

/**
 * Resolved dispatcher settings (`createKpi` fills the defaults).
 *
 * @example
 * ```ts
 * const settings: DispatcherSettings = { bufferSize: 100_000, batchSize: 10_000, flushIntervalMs: 1000,
 *   dropPolicy: 'drop-newest', minRetryDelayMs: 100, maxRetryDelayMs: 10_000, report: () => {} };
 * ```
 */
export interface DispatcherSettings {
  readonly bufferSize: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly dropPolicy: DropPolicy;
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** Receives store failures and overflow notices; must not throw (createKpi guards it). */
  readonly report: (error: LookoutError) => void;
}

/** The two buffers: columns (`EventBuffer`) or rows encoded at record time (`CopyRowBuffer`). */
interface PendingEvents {
  readonly size: number;
  push(event: string, timeMs: number, user: string | null, model: string | null, args: string | null, value: number | null): void;
  discard(n: number): number;
  take(max: number, ids: IdGenerator): KpiBatch;
}

interface Work {
  batch: KpiBatch;
  /** Sequence number of the batch's first event. */
  firstSeq: number;
  /** An earlier attempt may have committed these rows. */
  retry: boolean;
}

/**
 * The bounded buffer and its single background writer: flushes by size or
 * interval, one batch in flight, retries with exponential backoff and full
 * jitter, splits batches that PostgreSQL rejects to isolate the bad row, and
 * counts every event it cannot store.
 *
 * @example
 * ```ts
 * const dispatcher = new Dispatcher(store, metrics, settings);
 * dispatcher.enqueue('good_inference', Date.now(), 'u1', null, null, null);
 * await dispatcher.close(5000);
 * ```
 */
export class Dispatcher {
  private readonly buffer: PendingEvents;
  private readonly ids = new IdGenerator();
  private readonly work: Work[] = [];
  private workRows = 0;
  /** Events accepted into the buffer so far. */
  private acceptedSeq = 0;
  /** Events that left the buffer (taken into a batch or discarded). */
  private takenSeq = 0;
  /** Take partial batches until `takenSeq` reaches this (interval ticks, flush, close). */
  private takeTarget = 0;
  private opened = false;
  private failures = 0;
  private stopped = false;
  private overflowing = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly waiters = new Waiters();
  private readonly interval: NodeJS.Timeout;

  constructor(
    private readonly store: KpiStore,
    private readonly metrics: KpiMetrics,
    private readonly settings: DispatcherSettings,
  ) {
    this.buffer = store.rowEncoding === 'pg-copy-binary' ? new CopyRowBuffer(settings.bufferSize, this.ids) : new EventBuffer(settings.bufferSize);
    this.interval = setInterval(() => this.tick(), settings.flushIntervalMs);
    this.interval.unref();
    this.schedule(); // opens the store (and runs its migrations) at once
  }

  /** Events waiting, the batch being written included. */
  get depth(): number {
    return this.buffer.size + this.workRows;
  }

  /**
   * Appends one validated event, or counts it as dropped (`buffer_full`) when
   * the buffer is full and the policy is `drop-newest`. Never throws, never awaits.
   */
  enqueue(event: string, timeMs: number, user: string | null, model: string | null, args: string | null, value: number | null): boolean {
    if (this.buffer.size + this.workRows >= this.settings.bufferSize && !this.makeRoom()) return false;
    this.buffer.push(event, timeMs, user, model, args, value);
    this.acceptedSeq++;
    if (this.running === undefined && this.buffer.size >= this.settings.batchSize) this.schedule();
    return true;
  }

  /** Resolves true once every event accepted before the call is written or dropped, false at the deadline. */
  flush(deadlineMs: number): Promise<boolean> {
    const target = this.acceptedSeq;
    if (this.settledBelow() >= target) return Promise.resolve(true);
    this.takeTarget = Math.max(this.takeTarget, target);
    this.schedule();
    this.wake?.();
    return this.waiters.wait(() => this.settledBelow() >= target, deadlineMs);
  }

  /** Resolves true once the store is open (migrations done), false at the deadline. */
  ready(deadlineMs: number): Promise<boolean> {
    return this.waiters.wait(() => this.opened, deadlineMs);
  }

  /**
   * Flushes everything within `deadlineMs`, then closes the store. What is
   * still unwritten at the deadline is counted as dropped (`close_timeout`).
   * Resolves true when nothing was lost.
   */
  async close(deadlineMs: number): Promise<boolean> {
    clearInterval(this.interval);
    const flushed = await this.flush(deadlineMs);
    this.stopped = true;
    this.wake?.();
    // Closing the store aborts a write still in progress at the deadline.
    await this.store.close().catch((error: unknown) => this.settings.report(kpiError(KPI_ERRORS.store, `closing the ${this.store.kind} store failed: ${describe(error)}`, error)));
    await this.running;
    const lost = this.buffer.size + this.workRows;
    if (lost > 0) {
      this.buffer.discard(this.buffer.size);
      for (const item of this.work) release(item.batch);
      this.work.length = 0;
      this.workRows = 0;
      this.metrics.dropped.close_timeout.inc(lost);
      this.settings.report(kpiError(KPI_ERRORS.closeTimeout, `close() reached its ${deadlineMs} ms deadline with ${lost} KPI events unwritten; they are counted as dropped (close_timeout)`));
    }
    return flushed && lost === 0;
  }

  /** Counts one `buffer_full` drop; true when the oldest pending event made room for the new one. */
  private makeRoom(): boolean {
    const dropOldest = this.settings.dropPolicy === 'drop-oldest' && this.buffer.size > 0;
    if (dropOldest) {
      this.buffer.discard(1);
      this.takenSeq++;
      this.waiters.notify();
    }
    this.metrics.dropped.buffer_full.inc();
    if (!this.overflowing) {
      this.overflowing = true;
      this.settings.report(kpiError(KPI_ERRORS.bufferFull, `the KPI buffer is full (${this.settings.bufferSize} events); ${this.settings.dropPolicy === 'drop-oldest' ? 'the oldest events' : 'new events'} are dropped and counted until the store catches up`));
    }
    return dropOldest;
  }

  private tick(): void {
    if (this.acceptedSeq > this.takenSeq) {
      this.takeTarget = Math.max(this.takeTarget, this.acceptedSeq);
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.running !== undefined || this.stopped) return;
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run())
      .finally(() => {
        this.running = undefined;
        if (!this.stopped && (!this.opened || this.work.length > 0 || this.wantsBatch())) this.schedule();
      });
  }

  private wantsBatch(): boolean {
    const pending = this.buffer.size;
    return pending > 0 && (pending >= this.settings.batchSize || this.takenSeq < this.takeTarget);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.opened && !(await this.open())) {
        await this.backoff();
        continue;
      }
      if (this.work.length === 0) {
        if (!this.wantsBatch()) return;
        const firstSeq = this.takenSeq;
        const batch = this.buffer.take(this.settings.batchSize, this.ids);
        this.takenSeq += batch.size;
        this.work.push({ batch, firstSeq, retry: false });
        this.workRows += batch.size;
      }
      if (!(await this.writeFirst())) await this.backoff();
    }
  }

  private async open(): Promise<boolean> {
    try {
      await this.store.open();
      this.opened = true;
      this.failures = 0;
      this.metrics.storeUp.set(1);
      this.waiters.notify();
      return true;
    } catch (error) {
      this.failed(`opening the ${this.store.kind} store failed`, error);
      return false;
    }
  }

  /** Writes the oldest batch. False means: back off, then try again. */
  private async writeFirst(): Promise<boolean> {
    const item = this.work[0]!;
    const started = performance.now();
    try {
      await this.store.write(item.batch, item.retry);
    } catch (error) {
      if (this.stopped) return true;
      if (isDataError(error)) {
        this.split(item, error);
        return true;
      }
      item.retry = true;
      this.failed(`writing ${item.batch.size} KPI events to ${this.store.kind} failed (will retry)`, error);
      return false;
    }
    const { metrics } = this;
    metrics.flushDuration.observe((performance.now() - started) / 1000);
    metrics.written.inc(item.batch.size);
    metrics.lastFlush.setToCurrentTime();
    metrics.storeUp.set(1);
    this.failures = 0;
    this.overflowing = false;
    this.finish(item);
    return true;
  }

  // A data error names no row: halve the batch until the bad row stands alone.
  private split(item: Work, error: unknown): void {
    const { batch } = item;
    if (batch.size === 1) {
      this.metrics.dropped.invalid.inc();
      this.settings.report(kpiError(KPI_ERRORS.rowRejected, `${this.store.kind} rejected KPI event ${batchIds(batch)[0]!} (${batch.events[0]!}): ${describe(error)}; dropped as invalid`, error));
      this.finish(item);
      return;
    }
    const half = batch.size >>> 1;
    this.work.splice(0, 1,
      { batch: sliceBatch(batch, 0, half), firstSeq: item.firstSeq, retry: item.retry },
      { batch: sliceBatch(batch, half, batch.size), firstSeq: item.firstSeq + half, retry: item.retry });
    release(batch);
  }

  private finish(item: Work): void {
    release(item.batch);
    this.work.shift();
    this.workRows -= item.batch.size;
    this.waiters.notify();
  }

  private failed(message: string, error: unknown): void {
    this.failures++;
    this.metrics.flushErrors.inc();
    this.metrics.storeUp.set(0);
    const kind = isConnectionError(error) ? 'connection' : 'error';
    this.settings.report(kpiError(KPI_ERRORS.store, `${message} [${kind}]: ${describe(error)}`, error));
  }

  private backoff(): Promise<void> {
    const { minRetryDelayMs, maxRetryDelayMs } = this.settings;
    const ceiling = Math.min(maxRetryDelayMs, minRetryDelayMs * 2 ** Math.min(this.failures - 1, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    return new Promise((resolve) => {
      const timer = setTimeout(done, delay);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Lowest sequence number not yet written or dropped. */
  private settledBelow(): number {
    return this.work.length > 0 ? this.work[0]!.firstSeq : this.takenSeq;
  }
}

/** Lets an encoded batch's bytes be reused once it is written or dropped. */
function release(batch: KpiBatch): void {
  if (batch instanceof EncodedBatch) batch.release();
}
