import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the recorder keeps about one request until its response finishes.
 * States are pooled and linked into lists, so tracking a request allocates
 * nothing and hashes nothing new.
 */
export class RequestState {
  req: IncomingMessage | undefined = undefined;
  res: ServerResponse | undefined = undefined;
  start = 0;
  method = 0;
  route: string | undefined = undefined;
  exception: string | undefined = undefined;
  /** The connection's (or, without one, the request's) queue this state is in. */
  slot: Slot | undefined = undefined;
  /** Next request of the same connection (HTTP/1.1 pipelining). */
  nextOnSlot: RequestState | undefined = undefined;
  /** Neighbours in the list of every live request (for sweeps). */
  prev: RequestState | undefined = undefined;
  next: RequestState | undefined = undefined;
}

/** The requests in flight on one connection, oldest first, and what it has sent. */
export class Slot {
  head: RequestState | undefined = undefined;
  /** `socket.bytesWritten` when the connection's previous response finished. */
  private sent: number;

  constructor(socket: Socket | null) {
    this.sent = (socket === null ? undefined : bytesWritten(socket as DispatchingSocket)) ?? 0;
  }

  /** Bytes the connection sent since the previous call (or since it was first seen). */
  written(socket: Socket | null | undefined): number {
    const total = socket == null ? this.sent : bytesWritten(socket as DispatchingSocket) ?? this.sent;
    const bytes = total - this.sent;
    this.sent = total;
    return bytes > 0 ? bytes : 0;
  }
}

/** node's own counters behind `socket.bytesWritten`. */
export interface DispatchingSocket extends Socket {
  _bytesDispatched?: unknown;
  _pendingData?: unknown;
}

/**
 * `socket.bytesWritten` without its cost when nothing waits to be written. The getter adds
 * what is buffered to what was handed to the kernel (`_bytesDispatched`), and to do so copies
 * the write buffer into a new array on every call. When a response finishes its bytes have
 * left the buffer: with nothing buffered (`writableLength` 0) and nothing pending from a
 * connect, the two numbers are the same and the copy is skipped. Anything else (or a node
 * without that field) reads the getter.
 *
 * @example
 * ```ts
 * bytesWritten(res.socket!); // the same number as res.socket!.bytesWritten
 * ```
 */
export function bytesWritten(socket: DispatchingSocket): number | undefined {
  const dispatched = socket._bytesDispatched;
  if (typeof dispatched === 'number' && socket.writableLength === 0 && socket._pendingData == null) return dispatched;
  return socket.bytesWritten;
}

/** Enough pooled states for the requests of a busy process in flight at once; more are garbage. */
const POOL_SIZE = 1024;

/**
 * The requests a recorder tracks, found again by their request object.
 *
 * Keyed by connection rather than by request: a Map or WeakMap keyed by each
 * new request object makes V8 create that object's identity hash, which
 * measured ~90 ns per request, while a keep-alive connection is hashed once
 * and then serves thousands of requests. The connection's slot holds its
 * requests in arrival order (one, unless the client pipelines). Nothing is
 * stored on node's objects: new properties there change their hidden class
 * and slow node's own HTTP code.
 *
 * @example
 * ```ts
 * const live = new LiveRequests();
 * const state = live.add(req, res);
 * live.find(req) === state; // true
 * live.remove(state);
 * ```
 */
export class LiveRequests {
  private readonly slots = new WeakMap<object, Slot>();
  private readonly pool: RequestState[] = [];
  /** Sentinel of the circular list of live states. */
  private readonly all = new RequestState();
  /** How many requests are live. */
  size = 0;

  constructor() {
    this.all.prev = this.all;
    this.all.next = this.all;
  }

  /** Starts tracking `req`; the returned state is the caller's to fill in. */
  add(req: IncomingMessage, res: ServerResponse): RequestState {
    const state = this.pool.pop() ?? new RequestState();
    state.req = req;
    state.res = res;
    const key: object = req.socket ?? req;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new Slot(req.socket);
      this.slots.set(key, slot);
    }
    state.slot = slot;
    if (slot.head === undefined) {
      slot.head = state;
    } else {
      let tail = slot.head;
      while (tail.nextOnSlot !== undefined) tail = tail.nextOnSlot;
      tail.nextOnSlot = state;
    }
    const last = this.all.prev!;
    state.prev = last;
    state.next = this.all;
    last.next = state;
    this.all.prev = state;
    this.size++;
    return state;
  }

  /** The live state of `req`, if it is tracked. */
  find(req: IncomingMessage): RequestState | undefined {
    const slot = this.slots.get(req.socket ?? req);
    if (slot === undefined) return undefined;
    let state = slot.head;
    while (state !== undefined && state.req !== req) state = state.nextOnSlot;
    return state;
  }

  /** Stops tracking a state and returns it to the pool (do not use it afterwards). */
  remove(state: RequestState): void {
    const slot = state.slot!;
    if (slot.head === state) {
      slot.head = state.nextOnSlot;
    } else {
      let before = slot.head;
      while (before !== undefined && before.nextOnSlot !== state) before = before.nextOnSlot;
      if (before !== undefined) before.nextOnSlot = state.nextOnSlot;
    }
    state.prev!.next = state.next;
    state.next!.prev = state.prev;
    this.size--;
    state.req = undefined;
    state.res = undefined;
    state.route = undefined;
    state.exception = undefined;
    state.slot = undefined;
    state.nextOnSlot = undefined;
    state.prev = undefined;
    state.next = undefined;
    if (this.pool.length < POOL_SIZE) this.pool.push(state);
  }

  /** Every live state, oldest first; `remove` may be called on the current one while iterating. */
  *states(): IterableIterator<RequestState> {
    let state = this.all.next!;
    while (state !== this.all) {
      const next = state.next!;
      yield state;
      state = next;
    }
  }
}
