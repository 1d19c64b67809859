import type { KpiBatch } from './batch.js';
import type { IdGenerator } from './ids.js';

/**
 * A fixed-capacity FIFO of pending events, stored column by column in
 * preallocated arrays so that `push` allocates nothing.
 *
 * @example
 * ```ts
 * const buffer = new EventBuffer(1000);
 * buffer.push('good_inference', Date.now(), 'u1', null, '{"id":1}', null);
 * const batch = buffer.take(500, new IdGenerator());
 * ```
 */
export class EventBuffer {
  readonly capacity: number;
  private readonly events: (string | null)[];
  private readonly times: Float64Array;
  private readonly users: (string | null)[];
  private readonly models: (string | null)[];
  private readonly args: (string | null)[];
  private readonly values: (number | null)[];
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.events = new Array<string | null>(capacity).fill(null);
    this.times = new Float64Array(capacity);
    this.users = new Array<string | null>(capacity).fill(null);
    this.models = new Array<string | null>(capacity).fill(null);
    this.args = new Array<string | null>(capacity).fill(null);
    this.values = new Array<number | null>(capacity).fill(null);
  }

  /** Events waiting. */
  get size(): number {
    return this.count;
  }

  /** Appends one event; the caller checks `size < capacity` first. */
  push(event: string, timeMs: number, user: string | null, model: string | null, args: string | null, value: number | null): void {
    let slot = this.head + this.count;
    if (slot >= this.capacity) slot -= this.capacity;
    this.events[slot] = event;
    this.times[slot] = timeMs;
    this.users[slot] = user;
    this.models[slot] = model;
    this.args[slot] = args;
    this.values[slot] = value;
    this.count++;
  }

  /** Forgets the oldest `n` events (drop-oldest policy, close timeout). Returns how many went. */
  discard(n: number): number {
    const gone = Math.min(n, this.count);
    for (let index = 0; index < gone; index++) this.clear(this.advance());
    return gone;
  }

  /** Removes up to `max` of the oldest events as a batch, giving each an id. */
  take(max: number, ids: IdGenerator): KpiBatch {
    const size = Math.min(max, this.count);
    const idTimes = new Float64Array(size);
    const idCounters = new Uint32Array(size);
    const times = new Float64Array(size);
    const events = new Array<string>(size);
    const users = new Array<string | null>(size);
    const models = new Array<string | null>(size);
    const args = new Array<string | null>(size);
    const values = new Array<number | null>(size);
    for (let row = 0; row < size; row++) {
      const slot = this.advance();
      const time = this.times[slot]!;
      times[row] = time;
      ids.next(time, idTimes, idCounters, row);
      events[row] = this.events[slot]!;
      users[row] = this.users[slot]!;
      models[row] = this.models[slot]!;
      args[row] = this.args[slot]!;
      values[row] = this.values[slot]!;
      this.clear(slot);
    }
    return { size, idTimes, idCounters, idNode: ids.node, times, events, users, models, args, values };
  }

  private advance(): number {
    const slot = this.head;
    this.head = slot + 1 === this.capacity ? 0 : slot + 1;
    this.count--;
    return slot;
  }

  // Releases the strings so a drained buffer holds no garbage.
  private clear(slot: number): void {
    this.events[slot] = null;
    this.users[slot] = null;
    this.models[slot] = null;
    this.args[slot] = null;
    this.values[slot] = null;
  }
}
