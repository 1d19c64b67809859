import type { Context, Hono, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { IncomingMessage, ServerResponse } from 'node:http';
// Imported rather than the global: in Node 20 the global `performance` is a lazy getter.
import { performance } from 'node:perf_hooks';
import { LookoutError } from '../core/errors.js';
import { listenForFinish } from '../http/channels.js';
import { methodIndex, pathOf } from '../http/methods.js';
import type { TrackedRequest } from '../http/recorder.js';
import { createMetricsResponder, type MetricsAnswer, type MetricsRequest } from '../http/serve.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { createRecorder, type AdapterOptions } from './shared.js';

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * Hono middleware: records every request and serves `/metrics`. On Node
 * (`@hono/node-server`) the duration runs until the response has finished
 * streaming; on other runtimes, until the handler's response is ready.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { serve } from '@hono/node-server';
 * import { Registry } from 'lookout';
 * import { metrics } from 'lookout/hono';
 *
 * const app = new Hono();
 * app.use('*', metrics({ registry: new Registry() }));
 * app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
 * serve(app);
 * ```
 */
export function metrics(options: AdapterOptions): MiddlewareHandler {
  const { recorder, metricsPath, dashboard } = createRecorder(options);
  const respond = metricsPath === undefined ? undefined : createMetricsResponder({ registry: options.registry, token: options.token });
  const unmatched = recorder.options.unmatchedRoute;
  const ownAnswer = ownAnswers(respond, metricsPath, dashboard);
  listenForFinish();

  /** The handler's route template, or unmatched when no route below this middleware answered. */
  const templateOf = (c: Context, ownIndex: number): string => (c.req.routeIndex === ownIndex ? unmatched : routePath(c) || unmatched);

  return async function lookoutMetrics(c, next) {
    let path: string;
    try {
      path = c.req.path;
    } catch {
      // A request Hono cannot read a path from: the app's own answer, unmeasured.
      recorder.internalError();
      return next();
    }
    const own = ownAnswer(c.req.raw, path);
    if (own !== undefined) return own;
    const bindings = c.env as NodeBindings | undefined;
    const incoming = bindings?.incoming;
    const ownIndex = c.req.routeIndex;
    if (incoming !== undefined && bindings?.outgoing !== undefined) {
      recorder.start(incoming, bindings.outgoing);
      await next();
      recorder.setRoute(incoming, templateOf(c, ownIndex));
      if (c.error !== undefined) recorder.exception(incoming, c.error);
      return;
    }
    // Runtimes without node:http (Bun, Deno, workers): measure around the handler.
    const started = performance.now();
    await next();
    recorder.recordDirect({
      path: c.req.path,
      method: methodIndex(c.req.method),
      route: templateOf(c, ownIndex),
      status: c.res.status,
      elapsedSeconds: (performance.now() - started) / 1000,
      requestBytes: Number(headerOf(c.req.raw, 'content-length') ?? 0),
      responseBytes: Number(headerOf(c.res, 'content-length') ?? 0),
      headers: headersOf(c.req.raw),
      error: c.error,
    });
  };
}

/** A header of a web Request or Response; undefined when it has none, or no readable headers at all. */
function headerOf(message: { readonly headers?: Headers }, name: string): string | undefined {
  try {
    return message.headers?.get(name) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Every header of a web Request as a plain object (empty when it has no readable headers). */
function headersOf(request: Request): Record<string, string> {
  try {
    return request.headers === undefined ? {} : Object.fromEntries(request.headers);
  } catch {
    return {};
  }
}

/**
 * The answers lookout gives itself, on `/metrics` and the dashboard's paths, for both
 * forms; undefined for every other request.
 */
function ownAnswers(respond: ((request: MetricsRequest) => MetricsAnswer) | undefined, metricsPath: string | undefined, dashboard: Dashboard | undefined) {
  return (request: Request, path: string): Response | Promise<Response> | undefined => {
    if (respond !== undefined && path === metricsPath) {
      return toResponse(respond({ method: request.method, authorization: headerOf(request, 'authorization'), accept: headerOf(request, 'accept'), acceptEncoding: headerOf(request, 'accept-encoding') }));
    }
    if (dashboard?.owns(path) === true) {
      const url = String(request.url);
      return dashboard.respond({
        method: request.method, url, authorization: headerOf(request, 'authorization'), cookie: headerOf(request, 'cookie'),
        acceptEncoding: headerOf(request, 'accept-encoding'), secure: url.startsWith('https:'),
      }).then((answer) => new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers }));
    }
    return undefined;
  };
}

/** Writes a scrape answer as a web Response (gzip through CompressionStream). */
/** The parts of a Hono app `instrument` works with (Hono 4). */
interface RouterRoute {
  readonly method: string;
  readonly path: string;
}
type MatchedHandlers = readonly (readonly [readonly [unknown, RouterRoute], unknown])[];
interface RouterLike {
  readonly name: string;
  add(method: string, path: string, handler: unknown): void;
  match(method: string, path: string): [MatchedHandlers, ...unknown[]];
}
type ErrorHandler = (error: Error, c: Context) => Response | Promise<Response>;
type Fetch = (request: Request, env?: unknown, executionCtx?: unknown) => Response | Promise<Response>;
interface HonoInternals {
  fetch: Fetch;
  router: RouterLike;
  errorHandler: ErrorHandler;
  onError: (handler: ErrorHandler) => unknown;
}

/**
 * The template of the route that answers a request, from the router's match:
 * the last matched route other than `app.use` middleware (registered for
 * every method on a wildcard path); unmatched when only middleware matched.
 */
function answeringTemplate(handlers: MatchedHandlers, unmatched: string): string {
  for (let index = handlers.length - 1; index >= 0; index--) {
    const route = handlers[index]![0][1];
    if (route.method === 'ALL' && route.path.endsWith('*')) continue;
    return route.path;
  }
  return unmatched;
}

/** The path of an absolute request URL (`https://host/a/b?q` → `/a/b`). */
function pathOfUrl(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  return start < 0 ? '/' : pathOf(url.slice(start));
}

/**
 * Instruments a Hono app without a middleware: the fastest way on Node.
 * Any Hono middleware moves every request onto Hono's composed, promise-based
 * path (measured: a middleware that does nothing costs a hello-world about
 * 9 % of its throughput); `instrument` wraps `app.fetch` instead, takes each
 * request's route template from the app's own router match, counts errors
 * through the app's error handler (also one set later with `app.onError`),
 * and answers `/metrics` (and the dashboard) before Hono routes the request.
 * Same metrics and labels as {@link metrics}.
 *
 * Route templates: a request is labelled with the last route its path
 * matched, skipping middleware registered with `app.use` on wildcard paths
 * (`'*'`, `'/api/*'`); a request that matched only middleware is unmatched.
 * For apps whose answering route is not the last match (a handler registered
 * with `app.all` on a wildcard path after other routes, say), use the
 * middleware, which knows which handler ran.
 *
 * Call it before serving, and pass `app.fetch` (or the app) afterwards.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { serve } from '@hono/node-server';
 * import { Registry } from 'lookout';
 * import { instrument } from 'lookout/hono';
 *
 * const app = new Hono();
 * app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
 * instrument(app, { registry: new Registry() });
 * serve(app);
 * ```
 */
export function instrument<App extends Hono<any, any, any>>(app: App, options: AdapterOptions): App { // eslint-disable-line @typescript-eslint/no-explicit-any
  const internals = app as unknown as HonoInternals;
  if (typeof internals?.fetch !== 'function' || typeof internals.router?.match !== 'function') {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'instrument(app, options): app must be a Hono (v4) app');
  }
  // The route is named from the router's match once the response has finished.
  let lastMatched: MatchedHandlers | undefined;
  let lastTemplate = '';
  const templateOf = (matched: unknown): string => {
    // Hono's RegExpRouter returns the same handlers array for every request of a route.
    if (matched !== lastMatched) {
      lastTemplate = answeringTemplate(matched as MatchedHandlers, unmatched);
      lastMatched = matched as MatchedHandlers;
    }
    return lastTemplate;
  };
  const { recorder, metricsPath, dashboard } = createRecorder(options, (_req, _res, _method, matched) => (matched === undefined ? undefined : templateOf(matched)));
  const respond = metricsPath === undefined ? undefined : createMetricsResponder({ registry: options.registry, token: options.token });
  const unmatched = recorder.options.unmatchedRoute;
  listenForFinish();

  // The router's latest match. The wrapper stays this small on purpose: V8 inlines it into
  // Hono's dispatch, whose inlining budget it shares with Hono's getPath, and a wrapper that
  // also named the route there left getPath out (~160 instructions a request more, Node 26).
  let latest: ReturnType<RouterLike['match']> | undefined;
  const router = internals.router;
  internals.router = {
    get name() {
      return router.name;
    },
    add: (method, path, handler) => router.add(method, path, handler),
    match: (method, path) => (latest = router.match(method, path)),
  };

  // Errors reach Hono's error handler (the default, or one set later with app.onError).
  // Both are replaced as plain values: redefining `errorHandler` as an accessor would turn
  // the app into a dictionary-mode object, and Hono reads its fields on every request.
  const directErrors = new WeakMap<Request, unknown>();
  let handleError = internals.errorHandler;
  const countingHandler: ErrorHandler = (error, c) => {
    const incoming = (c.env as NodeBindings | undefined)?.incoming;
    if (incoming !== undefined) recorder.exception(incoming, error);
    else directErrors.set(c.req.raw, error);
    return handleError(error, c);
  };
  internals.errorHandler = countingHandler;
  internals.onError = (handler: ErrorHandler) => {
    handleError = handler;
    return app;
  };

  const own = ownAnswers(respond, metricsPath, dashboard);

  const fetch = internals.fetch;
  /**
   * Hono's own fetch; what its router matched meanwhile (Hono matches before it calls any
   * handler) goes to `tracked`. A nested app.fetch from a handler keeps its own match.
   */
  const dispatch = (tracked: TrackedRequest | undefined, request: Request, env: unknown, executionCtx: unknown): Response | Promise<Response> => {
    const outer = latest;
    latest = undefined;
    try {
      const result = fetch(request, env, executionCtx);
      if (tracked !== undefined && latest !== undefined) tracked.matched = latest[0];
      return result;
    } finally {
      latest = outer;
    }
  };
  internals.fetch = (request, env, executionCtx) => {
    const bindings = env as NodeBindings | undefined;
    const incoming = bindings?.incoming;
    const outgoing = bindings?.outgoing;
    if (incoming !== undefined && outgoing !== undefined) {
      // `skips` reads the URL whole (its query string too): the path is cut only for a skipped request.
      const url = incoming.url;
      if (recorder.skips(url)) return own(request, pathOf(url)) ?? fetch(request, env, executionCtx);
      let tracked: TrackedRequest | undefined;
      try {
        tracked = recorder.track(incoming, outgoing, undefined);
      } catch {
        recorder.internalError();
      }
      return dispatch(tracked, request, env, executionCtx);
    }
    // Runtimes without node:http (Bun, Deno, workers): measure until the response is ready.
    let path: string;
    try {
      path = pathOfUrl(String(request.url));
    } catch {
      recorder.internalError();
      return fetch(request, env, executionCtx);
    }
    if (recorder.skips(path)) return own(request, path) ?? fetch(request, env, executionCtx);
    const started = performance.now();
    const tracked: TrackedRequest = { route: undefined, matched: undefined };
    const result = dispatch(tracked, request, env, executionCtx);
    const record = (response: Response): Response => {
      try {
        recordDirect(response);
      } catch {
        recorder.internalError();
      }
      return response;
    };
    const recordDirect = (response: Response): void => {
      recorder.recordDirect({
        path,
        method: methodIndex(request.method),
        route: tracked.matched === undefined ? unmatched : templateOf(tracked.matched),
        status: response.status,
        elapsedSeconds: (performance.now() - started) / 1000,
        requestBytes: Number(headerOf(request, 'content-length') ?? 0),
        responseBytes: Number(headerOf(response, 'content-length') ?? 0),
        headers: headersOf(request),
        error: directErrors.get(request),
      });
    };
    return result instanceof Promise ? result.then(record) : record(result);
  };
  return app;
}

function toResponse(answer: MetricsAnswer): Response {
  if (typeof answer.body === 'string') return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
  const iterator = answer.body[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  if (answer.gzip) stream = stream.pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  return new Response(stream, { status: answer.status, headers: answer.headers });
}
