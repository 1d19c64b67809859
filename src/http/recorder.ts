import type { IncomingMessage, ServerResponse } from 'node:http';
// Imported rather than the global: in Node 20 the global `performance` is a lazy getter, ~15 ns a call.
import { performance } from 'node:perf_hooks';
import type { CounterSeries } from '../core/counter.js';
import type { GaugeSeries } from '../core/gauge.js';
import type { HistogramSeries } from '../core/histogram.js';
import { rawHeader, ScannedHeaders, scanRequestHeaders } from './headers.js';
import { LiveRequests, Slot, streamOf, type RequestState } from './live.js';
import { METHODS, methodIndex } from './methods.js';
import { traceIdFromTraceparent, traceIdOfTraceparent, type ResolvedHttpOptions } from './options.js';
import { HttpMetricSet } from './metric-set.js';

/**
 * A request being tracked, as {@link HttpRecorder.track} returns it: the
 * adapter may set its route template until the response finishes (and must
 * not keep it afterwards: the state is reused).
 *
 * @example
 * ```ts
 * const tracked = recorder.track(req, res, undefined);
 * tracked.route = '/users/:id';
 * ```
 */
export interface TrackedRequest {
  route: string | undefined;
  /**
   * What the framework's router matched, when the adapter names the route only
   * once the response has finished (its {@link RouteResolver} is given this).
   */
  matched: unknown;
}

/**
 * Finds the route template of a finished request when the adapter did not set
 * it; `matched` is what the adapter kept in {@link TrackedRequest.matched}.
 */
export type RouteResolver = (req: IncomingMessage, res: ServerResponse, method: number, matched: unknown) => string | undefined;

interface SeriesHandles {
  readonly requests: CounterSeries | undefined;
  readonly duration: HistogramSeries | undefined;
  readonly requestSize: HistogramSeries | undefined;
  readonly responseSize: HistogramSeries | undefined;
  readonly route: string;
  readonly method: number;
  readonly status: number;
}

type StatusKey = number | string;

/** A request measured without node:http objects. */
export interface DirectSample {
  readonly path: string;
  readonly method: number;
  readonly route: string | undefined;
  readonly status: number;
  readonly elapsedSeconds: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly headers: Record<string, string>;
  readonly error: unknown;
}

const OTHER = '__other__';

/**
 * The framework-neutral request recorder every adapter shares. Options are
 * resolved once; series handles are bound once per (route, method, status)
 * and reused, so recording a request allocates nothing.
 *
 * @example
 * ```ts
 * const recorder = new HttpRecorder(resolveHttpOptions({ registry }));
 * recorder.start(req, res); // when the request arrives
 * // ...the `http.server.response.finish` channel calls recorder.finish(req, res)
 * ```
 */
export class HttpRecorder {
  readonly options: ResolvedHttpOptions;
  private readonly metricSet: HttpMetricSet;
  private readonly resolveRoute: RouteResolver | undefined;
  private readonly routes = new Map<string, (Map<StatusKey, SeriesHandles> | undefined)[]>();
  private readonly inFlight: (GaugeSeries | undefined)[] = new Array<GaugeSeries | undefined>(METHODS.length).fill(undefined);
  private readonly live = new LiveRequests(() => this.sweep(), (state) => this.abort(state));
  /** The state `track` returned last (its `req` is cleared once it finishes, and it may be reused). */
  private lastTracked: RequestState = new Slot(null).own;
  private readonly skipped: readonly string[];
  /** A bit per ASCII code a skipped URL's second character can have (see {@link secondCharacters}). */
  private readonly skippedSeconds: Int32Array;
  private readonly headerValues: Set<string>[];
  private readonly exceptionTypes = new Set<string>();
  /** What the header walk of the request being recorded found (reused). */
  private readonly scanned = new ScannedHeaders();
  /** The handles of the previous request: most requests of a busy service look alike. */
  private lastHandles: SeriesHandles | undefined;
  /** Exemplars take their trace id from `traceparent`, read in the same walk as the request's size. */
  private readonly fromTraceparent: boolean;
  /** A finished request's headers are walked: for its size, its `traceparent`, or both. */
  private readonly scansHeaders: boolean;
  /** No header labels: a request's series are known by route, method and status alone. */
  private readonly plainKeys: boolean;

  constructor(options: ResolvedHttpOptions, resolveRoute?: RouteResolver) {
    this.options = options;
    this.resolveRoute = resolveRoute;
    this.metricSet = new HttpMetricSet(options, () => this.collect());
    this.headerValues = options.headerLabels.map(() => new Set<string>());
    this.skipped = [...options.skipPaths];
    this.skippedSeconds = secondCharacters(this.skipped);
    this.fromTraceparent = options.traceId === traceIdFromTraceparent;
    this.scansHeaders = this.fromTraceparent || this.metricSet.requestSize !== undefined;
    this.plainKeys = options.headerLabels.length === 0;
    addRecorder(this);
  }

  /**
   * True when `url`'s path is one of the skipped paths (`/metrics` by default),
   * whatever its query string (a path already cut is checked the same way). A walk over a few strings that mostly differ in
   * length, compared in place: a Set would hash each request's new string first
   * (~80 ns), and cutting the query string off first costs more than the comparison.
   */
  skips(url: string | undefined): boolean {
    const target = url ?? '/';
    // Most URLs differ from every skipped path at their second character: one bit test.
    const second = target.charCodeAt(1);
    if (second < 128 && (this.skippedSeconds[second >> 5]! & (1 << (second & 31))) === 0) return false;
    const skipped = this.skipped;
    for (let index = 0; index < skipped.length; index++) {
      const path = skipped[index]!;
      if (target === path || (target.length > path.length && target.charCodeAt(path.length) === 63 && target.startsWith(path))) return true;
    }
    return false;
  }

  /**
   * Marks a request as tracked and starts its clock (skipped paths and already
   * tracked requests are left alone).
   */
  start(req: IncomingMessage, res: ServerResponse): void {
    if (!this.skips(req.url)) this.startUnskipped(req, res);
  }

  /**
   * {@link start} for a request whose URL the caller has already found not
   * skipped: a request already tracked is still left alone.
   */
  startUnskipped(req: IncomingMessage, res: ServerResponse): void {
    const detached = isDetached(req);
    const state = this.live.add(req, res, true, detached);
    if (state !== undefined) this.begin(state, req, res, undefined, detached);
  }

  /**
   * Starts tracking without the checks of {@link start}: for adapters that
   * have already matched the path against {@link skips} and see each request once.
   * `detached` marks a request whose end node's HTTP/1 finish channel will not
   * report (an injected request); HTTP/2 requests are recognised by themselves.
   */
  track(req: IncomingMessage, res: ServerResponse, route: string | undefined, detached = isDetached(req)): TrackedRequest {
    const state = this.live.add(req, res, false, detached);
    this.begin(state, req, res, route, detached);
    return state;
  }

  private begin(state: RequestState, req: IncomingMessage, res: ServerResponse, route: string | undefined, detached: boolean): void {
    this.lastTracked = state;
    state.start = performance.now();
    state.route = route;
    state.method = methodIndex(req.method);
    if (detached) this.watch(req, res, state);
  }

  /**
   * Follows a detached request's response by its own events (HTTP/2 streams and
   * injected requests never reach node's HTTP/1 finish channel): `finish` records
   * it, `close` before `finish` counts it as aborted (a stream reset by its client).
   * Neither has a connection of its own whose byte count would tell its size: an
   * injected response's body is counted as the app writes it, an HTTP/2 response
   * is sized by its content-length (0 without one).
   */
  private watch(req: IncomingMessage, res: ServerResponse, state: RequestState): void {
    if (typeof res.once !== 'function') return;
    state.bodyBytes = 0;
    // An HTTP/2 response is sized by its declared content-length alone: counting its body
    // means replacing its write and end, which changes the shape of node's response object
    // and measured ~6 µs a request (bench/http2.ts); injected responses are counted.
    const http2 = streamOf(req) !== undefined;
    if (!http2) countBody(res, state);
    // Node 22 and later publish each HTTP/2 stream's close on a channel (see
    // streamClosed); once it has been seen to, HTTP/2 requests need no listeners.
    if (streamChannelSeen && http2) return;
    const finished = (): void => {
      res.removeListener('close', closed);
      // HTTP/2's compatibility response emits `finish` when its stream closes, also when
      // the client reset it: a response the app never ended, or a reset stream, was aborted.
      if (wasAborted(res)) closed();
      else this.guard(() => this.finish(req, res));
    };
    const closed = (): void => {
      res.removeListener('finish', finished);
      this.guard(() => {
        const live = this.live.find(req);
        if (live !== undefined) this.abort(live);
      });
    };
    res.once('finish', finished);
    res.once('close', closed);
  }

  /**
   * An HTTP/2 stream closed (node's `http2.server.stream.close` channel, Node 22 and
   * later): its request is recorded, or counted as aborted when the client reset the
   * stream or the app never ended its response. False when the stream is not this
   * recorder's.
   */
  streamClosed(stream: object): boolean {
    // This node publishes stream closes: later HTTP/2 requests need no listeners.
    streamChannelSeen = true;
    const state = this.live.findByStream(stream);
    if (state === undefined) return false;
    const res = state.res!;
    if (wasAborted(res)) this.abort(state);
    else this.finish(state.req!, res);
    return true;
  }

  /** Runs `work`; a failure is counted, never thrown into the app's event handlers. */
  private guard(work: () => void): void {
    try {
      work();
    } catch {
      this.internalError();
    }
  }

  /** Counts a request whose client went away before its response finished, and forgets it. */
  private abort(state: RequestState): void {
    this.metricSet.countAborted(METHODS[state.method]!, this.routeOf(state));
    this.live.remove(state);
  }

  /** True while `req` is tracked by this recorder. */
  tracks(req: IncomingMessage): boolean {
    return this.live.find(req) !== undefined;
  }

  /** Sets the route template of a tracked request; false when `req` is not tracked. */
  setRoute(req: IncomingMessage, route: string): boolean {
    // Frameworks usually route a request in the same tick it arrived: the
    // last tracked request then needs no lookup.
    const last = this.lastTracked;
    const state = last.req === req ? last : this.live.find(req);
    if (state === undefined) return false;
    state.route = route;
    return true;
  }

  /** Remembers the error class name of a failed request (counted when it finishes). */
  exception(req: IncomingMessage, error: unknown): void {
    const state = this.live.find(req);
    if (state !== undefined) state.exception = this.exceptionType(error);
  }

  private exceptionType(error: unknown): string {
    const name = error instanceof Error ? error.constructor.name || error.name : typeof error;
    const type = name.length > 100 ? name.slice(0, 100) : name;
    if (this.exceptionTypes.has(type)) return type;
    if (this.exceptionTypes.size >= this.options.maxExceptionTypes) return OTHER;
    this.exceptionTypes.add(type);
    return type;
  }

  /**
   * Records a finished request; false when the request is not this
   * recorder's. Called from the response-finish channel.
   */
  finish(req: IncomingMessage, res: ServerResponse): boolean {
    // A handler that answers without waiting on I/O finishes its response in the tick its
    // request arrived, before any other request starts: no lookup then.
    const last = this.lastTracked;
    const state = last.req === req ? last : this.live.find(req);
    if (state === undefined) return false;
    const elapsed = (performance.now() - state.start) / 1000;
    const method = state.method;
    const status = res.statusCode;
    const handles = this.handlesFor(this.routeOf(state), method, status, req);
    // The request's size and (with exemplars from `traceparent`, the default) its trace id in one walk over its headers.
    const fromTraceparent = this.fromTraceparent;
    const scanned = this.scanned;
    if (this.scansHeaders) scanRequestHeaders(req, fromTraceparent, scanned);
    const readTraceId = this.options.traceId;
    const traceId = fromTraceparent ? traceIdOfTraceparent(scanned.traceparent) : readTraceId === undefined ? undefined : readTraceId(req);
    if (traceId === undefined) {
      handles.requests?.inc();
      handles.duration?.observe(elapsed);
    } else {
      this.observeWithExemplar(handles, elapsed, traceId);
    }
    if (handles.requestSize !== undefined) handles.requestSize.observe(scanned.contentLength);
    if (handles.responseSize !== undefined) handles.responseSize.observe(responseBytes(state, res));
    const exception = state.exception;
    this.live.remove(state);
    if (exception !== undefined) this.metricSet.countException(METHODS[method]!, handles.route, exception);
    if (this.options.onRequest !== undefined) this.runHook(req, res, elapsed, handles.route, method, status);
    return true;
  }

  /**
   * Records a request measured outside node:http (Hono on Bun, Deno or
   * workers). The per-request hook is not called: it needs node objects.
   */
  recordDirect(sample: DirectSample): void {
    if (this.skips(sample.path)) return;
    const headers = { rawHeaders: Object.entries(sample.headers).flat() } as IncomingMessage;
    const handles = this.handlesFor(sample.route ?? this.options.unmatchedRoute, sample.method, sample.status, headers);
    const traceId = this.options.traceId?.(headers);
    if (traceId === undefined) {
      handles.requests?.inc();
      handles.duration?.observe(sample.elapsedSeconds);
    } else {
      this.observeWithExemplar(handles, sample.elapsedSeconds, traceId);
    }
    handles.requestSize?.observe(sample.requestBytes >= 0 ? sample.requestBytes : 0);
    handles.responseSize?.observe(sample.responseBytes >= 0 ? sample.responseBytes : 0);
    if (sample.error !== undefined) this.metricSet.countException(METHODS[sample.method]!, handles.route, this.exceptionType(sample.error));
  }

  private observeWithExemplar(handles: SeriesHandles, elapsed: number, traceId: string): void {
    handles.requests?.incWithExemplar(1, traceId);
    handles.duration?.observeWithExemplar(elapsed, traceId);
  }

  private runHook(req: IncomingMessage, res: ServerResponse, elapsed: number, route: string, method: number, status: number): void {
    try {
      this.options.onRequest!(req, res, elapsed, { route, method: METHODS[method]!, status });
    } catch {
      this.metricSet.hookErrors.inc();
    }
  }

  /** Counts an internal failure; the request itself is left alone. */
  internalError(): void {
    this.metricSet.internalErrors.inc();
  }

  /**
   * Finds requests whose client went away before the response finished
   * (no finish event will come), so the in-flight gauge never drifts, and
   * forgets closed connections. Runs before each scrape and whenever new
   * connections have piled up since the last sweep.
   */
  sweep(): void {
    for (const state of this.live.states()) {
      const res = state.res!;
      if (!res.destroyed || res.writableFinished) continue;
      this.abort(state);
    }
    this.live.prune();
  }

  /**
   * Before each scrape: sweeps, then sets the in-flight gauge from the requests still
   * live. Counted here rather than raised and lowered at every request: the same
   * figure at every scrape, and nothing on the request path.
   */
  private collect(): void {
    this.sweep();
    if (this.metricSet.inFlight === undefined) return;
    const counts = new Array<number>(METHODS.length).fill(0);
    for (const state of this.live.states()) counts[state.method]!++;
    counts.forEach((count, method) => {
      const series = this.inFlight[method] ?? (count > 0 ? this.bindInFlight(method) : undefined);
      series?.set(count);
    });
  }

  private routeOf(state: RequestState): string {
    const route = state.route ?? this.resolveRoute?.(state.req!, state.res!, state.method, state.matched);
    return route === undefined || route === '' ? this.options.unmatchedRoute : route;
  }

  private handlesFor(route: string, method: number, status: number, req: IncomingMessage): SeriesHandles {
    const last = this.lastHandles;
    if (last !== undefined && last.route === route && last.method === method && last.status === status && this.plainKeys) return last;
    return (this.lastHandles = this.lookUpHandles(route, method, status, req));
  }

  private lookUpHandles(route: string, method: number, status: number, req: IncomingMessage): SeriesHandles {
    const byMethod = this.routes.get(route) ?? this.addRoute(route);
    let byStatus = byMethod[method];
    if (byStatus === undefined) byStatus = byMethod[method] = new Map();
    const key = this.plainKeys ? status : this.headerKey(status, req);
    return byStatus.get(key) ?? this.bindHandles(byStatus, key, byMethod === this.overflowRoute ? '__overflow__' : route, method, status, req);
  }

  private overflowRoute: (Map<StatusKey, SeriesHandles> | undefined)[] | undefined;

  private addRoute(route: string): (Map<StatusKey, SeriesHandles> | undefined)[] {
    if (this.routes.size >= this.options.maxRoutes) {
      this.overflowRoute ??= new Array<Map<StatusKey, SeriesHandles> | undefined>(METHODS.length).fill(undefined);
      return this.overflowRoute;
    }
    const byMethod = new Array<Map<StatusKey, SeriesHandles> | undefined>(METHODS.length).fill(undefined);
    this.routes.set(route, byMethod);
    return byMethod;
  }

  private headerKey(status: number, req: IncomingMessage): string {
    let key = String(status);
    for (const value of this.headerLabelValues(req)) key += `\u0000${value}`;
    return key;
  }

  private headerLabelValues(req: IncomingMessage): string[] {
    return this.options.headerLabels.map(([, header], index) => {
      let value = rawHeader(req, header) ?? '';
      if (value.length > 128) value = value.slice(0, 128);
      const seen = this.headerValues[index]!;
      if (seen.has(value)) return value;
      if (seen.size >= this.options.maxHeaderValues) return OTHER;
      seen.add(value);
      return value;
    });
  }

  private bindHandles(byStatus: Map<StatusKey, SeriesHandles>, key: StatusKey, route: string, method: number, status: number, req: IncomingMessage): SeriesHandles {
    const set = this.metricSet;
    const statusText = this.options.statusLabel === 'class' ? `${Math.floor(status / 100)}xx` : String(status);
    const labels = set.labelsFor(METHODS[method]!, route, statusText, this.plainKeys ? [] : this.headerLabelValues(req));
    const handles: SeriesHandles = {
      requests: set.requests?.labels(labels.full),
      duration: set.duration?.labels(labels.full),
      requestSize: set.requestSize?.labels(labels.noStatus),
      responseSize: set.responseSize?.labels(labels.noStatus),
      route,
      method,
      status,
    };
    byStatus.set(key, handles);
    // A method's in-flight series exists from its first request on (0 between requests).
    if (set.inFlight !== undefined && this.inFlight[method] === undefined) this.bindInFlight(method);
    return handles;
  }

  private bindInFlight(method: number): GaugeSeries {
    const series = this.metricSet.inFlightSeries(METHODS[method]!);
    this.inFlight[method] = series;
    return series;
  }
}

/** node's own fields of a finished response (read, never written). */
interface SentResponse extends ServerResponse {
  /** The header block node wrote (a latin1 string, one byte a character, once headers are sent). */
  _header?: unknown;
  /** The body length when one was declared: `content-length` set by the app, or the body given whole to `end()`. */
  _contentLength?: unknown;
  /** False for HEAD requests and 1xx / 204 / 304 answers: no body goes out whatever the app writes. */
  _hasBody?: unknown;
}

/**
 * The ASCII codes the second character of a URL that `paths` skip can have, a bit each in four
 * 32-bit words: a path's own second character, and `?` after a one-character path (`/?x` is
 * `/`). An empty path matches URLs that begin with `?`, whatever follows: every bit is set.
 */
function secondCharacters(paths: readonly string[]): Int32Array {
  const bits = new Int32Array(4);
  const set = (code: number): void => {
    if (code < 128) bits[code >> 5]! |= 1 << (code & 31);
  };
  for (const path of paths) {
    if (path.length === 0) bits.fill(-1);
    else set(path.length === 1 ? 63 : path.charCodeAt(1));
  }
  return bits;
}

/** Set once node has published a tracked HTTP/2 stream's close on its channel (Node 22 and later). */
let streamChannelSeen = false;

/** A detached response that ended without being sent whole: never ended by the app, or its HTTP/2 stream reset. */
function wasAborted(res: ServerResponse): boolean {
  const stream = (res as { stream?: { rstCode?: unknown } }).stream;
  return res.writableEnded === false || (stream !== undefined && stream !== null && typeof stream.rstCode === 'number' && stream.rstCode !== 0);
}

/**
 * True for requests whose end node's HTTP/1 finish channel never reports:
 * HTTP/2 streams (the compatibility API's request, `allowHTTP1` aside) and
 * request objects without a connection.
 */
function isDetached(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2 || req.socket == null;
}

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => unknown;

/** Adds the body bytes `res` is given to `state.bodyBytes` (its own `write` and `end`, wrapped). */
function countBody(res: ServerResponse, state: RequestState): void {
  const writable = res as unknown as { write: Write; end: Write };
  const write = writable.write;
  const end = writable.end;
  if (typeof write !== 'function' || typeof end !== 'function') return;
  // `end(chunk)` may write its chunk through `write` (HTTP/2's compatibility response does).
  let ending = false;
  writable.write = function lookoutWrite(this: unknown, ...args: unknown[]) {
    if (!ending && state.res === res) state.bodyBytes += byteLength(args[0], args[1]);
    return Reflect.apply(write, this, args);
  };
  writable.end = function lookoutEnd(this: unknown, ...args: unknown[]) {
    if (state.res === res && typeof args[0] !== 'function') state.bodyBytes += byteLength(args[0], args[1]);
    ending = true;
    try {
      return Reflect.apply(end, this, args);
    } finally {
      ending = false;
    }
  };
}

function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

function responseBytes(state: RequestState, res: ServerResponse): number {
  if (state.bodyBytes >= 0) {
    // A detached response: what the app declared, else what it wrote (none for HEAD).
    if (state.method === 1) return 0;
    const declared = Number(res.getHeader('content-length'));
    return declared >= 0 ? declared : state.bodyBytes;
  }
  const sent = res as SentResponse;
  const header = sent._header;
  const slot = state.slot;
  if (typeof header === 'string' && !res.chunkedEncoding) {
    // Most responses declare their length (a body given whole to `end()`, or a
    // `content-length`), or have none: the connection then sent exactly the header
    // block and that body, so the connection's count moves on by the sum without
    // reading the socket's byte count (a C++ accessor, ~60-100 ns).
    const declared = sent._hasBody === false ? 0 : sent._contentLength;
    if (typeof declared === 'number' && declared >= 0) {
      slot.advance(header.length + declared);
      return declared;
    }
  }
  // Otherwise (chunked, or a length node did not record): what went out on the
  // connection since its previous response finished (responses of a connection
  // finish in order, pipelined or not), less the header block; chunk framing included.
  const written = slot.written(res.socket ?? state.req!.socket);
  if (typeof header === 'string') return written > header.length ? written - header.length : 0;
  const length = Number(res.getHeader('content-length'));
  return length >= 0 ? length : written;
}

/**
 * Counts an error against a tracked request when your code handles the
 * error itself (it shows in `http_exceptions_total` by class name once the
 * response finishes). Does nothing for requests lookout does not track.
 *
 * @example
 * ```ts
 * try { await predict(input); } catch (error) { recordException(req, error); res.statusCode = 500; res.end(); }
 * ```
 */
export function recordException(req: IncomingMessage, error: unknown): void {
  for (const recorder of recorders) {
    if (recorder.tracks(req)) recorder.exception(req, error);
  }
}

/**
 * Every live recorder of this process, in an array the finish channel walks
 * without an iterator (there is usually one). Replaced, never mutated, so a
 * walk in progress is not disturbed.
 */
export let recorders: readonly HttpRecorder[] = [];

function addRecorder(recorder: HttpRecorder): void {
  recorders = [...recorders, recorder];
}

/**
 * Takes a recorder out of the finish-event walk (its app closed).
 *
 * @example
 * ```ts
 * removeRecorder(recorder);
 * ```
 */
export function removeRecorder(recorder: HttpRecorder): void {
  recorders = recorders.filter((other) => other !== recorder);
}
