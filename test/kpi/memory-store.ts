/**
 * An in-memory KPI store for unit tests, with knobs to fail the way a real
 * database does: refused connections, commits whose reply is lost, rows the
 * server rejects, slow writes.
 *
 * @example
 * ```ts
 * const store = new MemoryStore();
 * store.down = true; // every open/write throws ECONNREFUSED
 * ```
 */
import { batchIds, type KpiBatch } from '../../src/kpi/batch.js';
import type { KpiStore } from '../../src/kpi/store.js';

export interface StoredRow {
  id: string;
  time: number;
  event: string;
  user: string | null;
  model: string | null;
  args: string | null;
  value: number | null;
}

export class MemoryStore implements KpiStore {
  readonly kind = 'memory';
  readonly rows = new Map<string, StoredRow>();
  /** Every write call: size and retry flag. */
  readonly writes: { size: number; retry: boolean }[] = [];
  /** Refuse every open and write with ECONNREFUSED. */
  down = false;
  /** Fail the next N writes with ECONNRESET before touching the rows. */
  failNext = 0;
  /** Commit the next N writes, then throw as if the reply was lost. */
  loseAckNext = 0;
  /** Rows whose args contain this text make the whole write fail with SQLSTATE 22P02. */
  rejectArgsContaining: string | undefined;
  delayMs = 0;
  opens = 0;
  closed = false;
  inFlight = 0;
  maxInFlight = 0;

  async open(): Promise<void> {
    this.opens++;
    if (this.down) throw connectionError('ECONNREFUSED');
  }

  async write(batch: KpiBatch, retry: boolean): Promise<void> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.writes.push({ size: batch.size, retry });
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      if (this.down) throw connectionError('ECONNREFUSED');
      if (this.failNext > 0) {
        this.failNext--;
        throw connectionError('ECONNRESET');
      }
      const ids = batchIds(batch);
      if (this.rejectArgsContaining !== undefined && batch.args.some((args) => args?.includes(this.rejectArgsContaining!))) {
        throw Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' });
      }
      for (let row = 0; row < batch.size; row++) {
        const id = ids[row]!;
        if (this.rows.has(id)) continue; // ON CONFLICT (id) DO NOTHING
        this.rows.set(id, {
          id,
          time: batch.times[row]!,
          event: batch.events[row]!,
          user: batch.users[row]!,
          model: batch.models[row]!,
          args: batch.args[row]!,
          value: batch.values[row]!,
        });
      }
      if (this.loseAckNext > 0) {
        this.loseAckNext--;
        throw connectionError('ECONNRESET');
      }
    } finally {
      this.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Rows in id order. */
  sorted(): StoredRow[] {
    return [...this.rows.values()].sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
  }
}

function connectionError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
}
