import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What the recorder keeps about one request until its response finishes.
 * Each connection's slot owns one state that its requests take in turn (one
 * at a time, unless the client pipelines), so tracking a request allocates
 * nothing and links nothing beyond its connection.
 */
export class RequestState {
  req: IncomingMessage | undefined = undefined;
  res: ServerResponse | undefined = undefined;
  start = 0;
  method = 0;
  route: string | undefined = undefined;
  /** What the framework's router matched, for the adapter's route resolver to name at the end (Hono: the matched handlers). */
  matched: unknown = undefined;
  exception: string | undefined = undefined;
  /**
   * Body bytes counted as the app writes them, for responses node does not
   * frame on a socket of their own (HTTP/2 streams, injected requests); -1 otherwise.
   */
  bodyBytes = -1;
  /** The next request of the same connection (HTTP/1.1 pipelining). */
  next: RequestState | undefined = undefined;
  /** The connection (or, without one, the request's own) slot this state belongs to. */
  readonly slot: Slot;

  constructor(slot: Slot) {
    this.slot = slot;
  }
}

/** The requests in flight on one connection, oldest first, and what it has sent. */
export class Slot {
  head: RequestState | undefined = undefined;
  /** The state this connection's requests take in turn; free whenever `head` is undefined. */
  readonly own: RequestState;
  /**
   * The connection (null for a request that has none, or an HTTP/2 stream: the
   * slot is keyed by the request); set to null once the connection has closed,
   * so a closed connection's slot keeps nothing of it alive.
   */
  socket: Socket | null;
  /** `socket.bytesWritten` when the connection's previous response finished. */
  private sent: number;

  constructor(socket: Socket | null) {
    this.own = new RequestState(this);
    this.socket = socket;
    this.sent = (socket === null ? undefined : bytesWritten(socket as DispatchingSocket)) ?? 0;
  }

  /** Moves the count on by a response whose size is known without asking the socket. */
  advance(bytes: number): void {
    this.sent += bytes;
  }

  /** Bytes the connection sent since the previous count (or since it was first seen). */
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

/**
 * The HTTP/2 stream of a compatibility-API request, if it is one.
 *
 * @example
 * ```ts
 * if (streamOf(req) !== undefined) {
 *   // an HTTP/2 request: no connection of its own to size it by
 * }
 * ```
 */
export function streamOf(req: IncomingMessage): object | undefined {
  const stream = (req as { stream?: unknown }).stream;
  return typeof stream === 'object' && stream !== null ? stream : undefined;
}

/**
 * Slots kept before closed connections are looked for: a closed socket's slot
 * holds its socket object until then (a few hundred KB at most).
 */
const PRUNE_AT_LEAST = 256;

/**
 * The requests a recorder tracks, found again by their request object.
 *
 * Keyed by connection rather than by request: a Map or WeakMap keyed by each
 * new request object makes V8 create that object's identity hash, which
 * measured ~90 ns per request, while a keep-alive connection is hashed once
 * and then serves thousands of requests. The connection's slot holds its
 * requests in arrival order (one, unless the client pipelines) in the state it
 * owns, so a request costs one lookup and a few stores. Nothing is stored on
 * node's objects: new properties there change their hidden class and slow
 * node's own HTTP code.
 *
 * @example
 * ```ts
 * const live = new LiveRequests(() => recorder.sweep());
 * const state = live.add(req, res);
 * live.find(req) === state; // true
 * live.remove(state);
 * ```
 */
export class LiveRequests {
  private readonly slots = new WeakMap<object, Slot>();
  /** Every slot since the last {@link prune}, in the order their connections were first seen. */
  private list: Slot[] = [];
  /** How many slots the list may hold before new ones ask for a sweep. */
  private pruneAt = PRUNE_AT_LEAST;
  /** How many requests are live. */
  size = 0;

  /**
   * `crowded` runs when connections have piled up since the last prune (a sweep then
   * prunes); `closed` runs for each request still live when its connection closes
   * (its client went away: no response will finish) and must remove it.
   */
  constructor(
    private readonly crowded: () => void = () => this.prune(),
    private readonly closed: (state: RequestState) => void = (state) => this.remove(state),
  ) {}

  /**
   * Starts tracking `req`; the returned state is the caller's to fill in. With `once`,
   * a request already tracked is left as it is (undefined is returned): the check
   * costs nothing on a connection with nothing else in flight.
   */
  add(req: IncomingMessage, res: ServerResponse, once: true, detached?: boolean): RequestState | undefined;
  add(req: IncomingMessage, res: ServerResponse, once?: false, detached?: boolean): RequestState;
  add(req: IncomingMessage, res: ServerResponse, once = false, detached = false): RequestState | undefined {
    // A detached request (an HTTP/2 stream, an injected request) has a slot of its own:
    // an HTTP/2 request's `socket` is a proxy of the session's, shared by its streams.
    const socket = detached ? null : req.socket ?? null;
    const key: object = socket ?? streamOf(req) ?? req;
    const slot = this.slots.get(key) ?? this.open(key, socket);
    let state = slot.own;
    const head = slot.head;
    if (head === undefined) {
      slot.head = state;
    } else {
      let tail = head;
      while (true) {
        if (once && tail.req === req) return undefined;
        if (tail.next === undefined) break;
        tail = tail.next;
      }
      if (state.req !== undefined) state = new RequestState(slot);
      tail.next = state;
    }
    state.req = req;
    state.res = res;
    this.size++;
    return state;
  }

  private open(key: object, socket: Socket | null): Slot {
    const slot = new Slot(socket);
    this.slots.set(key, slot);
    this.list.push(slot);
    // One listener per connection, not per request: requests still live when it closes
    // lost their client, and are released at once rather than at the next sweep.
    if (socket !== null && typeof socket.once === 'function') socket.once('close', () => this.release(slot));
    if (this.list.length >= this.pruneAt) this.crowded();
    return slot;
  }

  /** The request live on an HTTP/2 stream (detached requests of the compatibility API are keyed by it). */
  findByStream(stream: object): RequestState | undefined {
    return this.slots.get(stream)?.head;
  }

  /** A closed connection's live requests go to `closed`; the slot lets go of the socket. */
  private release(slot: Slot): void {
    let state = slot.head;
    while (state !== undefined) {
      const next = state.next;
      this.closed(state);
      // `closed` must remove the state; one that did not is removed here.
      if (state.req !== undefined) this.remove(state);
      state = next;
    }
    slot.socket = null;
  }

  /** The live state of `req`, if it is tracked. */
  find(req: IncomingMessage): RequestState | undefined {
    const slot = this.slots.get(req.socket ?? req) ?? this.slots.get(streamOf(req) ?? req);
    if (slot === undefined) return undefined;
    let state = slot.head;
    while (state !== undefined && state.req !== req) state = state.next;
    return state;
  }

  /** Stops tracking a state (which its connection may then reuse: do not keep it). */
  remove(state: RequestState): void {
    if (state.req === undefined) return;
    const slot = state.slot;
    if (slot.head === state) {
      slot.head = state.next;
    } else {
      let before = slot.head;
      while (before !== undefined && before.next !== state) before = before.next;
      if (before !== undefined) before.next = state.next;
    }
    this.size--;
    state.req = undefined;
    state.res = undefined;
    state.route = undefined;
    state.matched = undefined;
    state.exception = undefined;
    state.next = undefined;
    state.bodyBytes = -1;
  }

  /**
   * Every live state, by connection in the order connections were first seen, and
   * oldest first on each; `remove` may be called on the current one while iterating.
   */
  *states(): IterableIterator<RequestState> {
    for (const slot of this.list) {
      let state = slot.head;
      while (state !== undefined) {
        const next = state.next;
        yield state;
        state = next;
      }
    }
  }

  /** Forgets the slots of closed connections with nothing in flight (their WeakMap entries go with them). */
  prune(): void {
    this.list = this.list.filter((slot) => slot.head !== undefined || (slot.socket !== null && slot.socket.destroyed !== true));
    this.pruneAt = Math.max(PRUNE_AT_LEAST, this.list.length * 2);
  }

  /** How many connections are known since the last prune. */
  get connections(): number {
    return this.list.length;
  }
}
