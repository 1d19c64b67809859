import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LookoutError } from '../core/errors.js';
import { listenForFinish } from '../http/channels.js';
import type { HttpRecorder } from '../http/recorder.js';
import { pathOf } from '../http/methods.js';
import { createMetricsHandler } from '../http/serve.js';
import { ExpressMounts } from './express-mounts.js';
import { createRecorder, type AdapterOptions } from './shared.js';

/** Express-compatible middleware with an error companion. */
export interface ExpressMetricsMiddleware {
  (req: Request, res: Response, next: NextFunction): void;
  /** Error middleware: put it after your routes to count exceptions by class; it passes the error on. */
  readonly errors: (error: unknown, req: Request, res: Response, next: NextFunction) => void;
}

interface RoutedRequest extends IncomingMessage {
  app?: unknown;
  baseUrl?: string;
  route?: { path?: unknown };
}

/**
 * The mount path's template + `route.path`: nested routers give the full
 * template (`/api/v1/users/:id`), parameters in mount paths included
 * (`/users/:userId/posts/:postId`, never the user's id).
 */
function expressRoute(mounts: ExpressMounts): (req: IncomingMessage) => string | undefined {
  return (req) => {
    const routed = req as RoutedRequest;
    const path = routed.route?.path;
    if (path === undefined) return undefined;
    const template = typeof path === 'string' ? path : Array.isArray(path) ? path.join('|') : String(path);
    const baseUrl = routed.baseUrl;
    return baseUrl === undefined || baseUrl === '' ? template : mounts.template(routed.app, baseUrl) + template;
  };
}

/**
 * Express middleware: records every request and serves `/metrics`. Mount it
 * first; add `.errors` after your routes to count exceptions.
 *
 * Mounted first and at `/` (as below), on its first request it moves from the
 * app's router into `app.handle`, where {@link instrument} sits: the same
 * requests are seen and recorded the same way, without a router layer to
 * walk (Express 5; `app.router.stack` then no longer lists it). Mounted
 * anywhere else, it stays an ordinary layer.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { Registry } from 'lookout';
 * import { metrics } from 'lookout/express';
 *
 * const app = express();
 * const lookout = metrics({ registry: new Registry() });
 * app.use(lookout);
 * app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
 * app.use(lookout.errors);
 * ```
 */
export function metrics(options: AdapterOptions): ExpressMetricsMiddleware {
  const { recorder, enter } = setUp(options);
  // The app whose router this middleware looked at last: each app is looked at once.
  let seen: unknown;
  const middleware = function lookoutMetrics(req: Request, res: Response, next: NextFunction): void {
    const app: unknown = req.app;
    if (app !== seen) {
      seen = app;
      hoist(app, middleware, enter);
    }
    if (enter(req, res)) next();
  };
  return Object.assign(middleware, { errors: countErrors(recorder) });
}

/** The parts of an Express 5 app (router 2) that {@link hoist} reads and changes. */
interface HoistableApp extends HandlingApp {
  readonly router: { stack: readonly { readonly handle?: unknown; readonly slash?: unknown; readonly route?: unknown }[] };
}

/**
 * When the middleware is its app's first layer and mounted at `/`, moves it
 * out of the router into `app.handle`, where {@link instrument} sits: every
 * request still passes lookout first, but the router no longer matches,
 * calls and steps past a layer for it on every request (on a hello-world the
 * gain is within what a benchmark run resolves: BENCHMARKS.md). Anywhere else (after another middleware,
 * which may guard `/metrics`; under a path; in a Router; Express 4) it stays
 * a layer. The router gets a new array without the layer rather than losing
 * an element: a request already walking the router keeps the array it started
 * with, so none skips a layer.
 */
function hoist(app: unknown, middleware: unknown, enter: Enter): void {
  try {
    const candidate = app as HoistableApp;
    if (typeof candidate?.handle !== 'function') return;
    const router = candidate.router; // Express 4's getter throws: left as a layer
    const first = router?.stack?.[0];
    if (first === undefined || first.handle !== middleware || first.slash !== true || first.route !== undefined) return;
    router.stack = router.stack.slice(1);
    candidate.handle = tracking(candidate.handle, enter);
  } catch {
    // Not an app this version of lookout knows: the middleware goes on as a layer.
  }
}

/** An `app.handle` that tracks each request (or answers `/metrics`) before the app's own runs. */
function tracking(handle: HandlingApp['handle'], enter: Enter): HandlingApp['handle'] {
  return function lookoutHandle(this: HandlingApp, req: IncomingMessage, res: ServerResponse, callback?: unknown): void {
    if (enter(req, res)) handle.call(this, req, res, callback);
  };
}

/**
 * What the middleware and {@link instrument} share: the recorder, and `enter`,
 * which answers `/metrics` and the dashboard (false: lookout answered) or
 * starts tracking the request (true: the app goes on).
 */
type Enter = (req: IncomingMessage, res: ServerResponse) => boolean;

function setUp(options: AdapterOptions): { recorder: HttpRecorder; enter: Enter } {
  const { recorder, metricsPath, dashboard } = createRecorder(options, expressRoute(new ExpressMounts()));
  const serve = metricsPath === undefined ? undefined : createMetricsHandler({ registry: options.registry, token: options.token });
  listenForFinish();
  const enter = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url;
    // The metrics path and the dashboard's are among the skipped ones: the path is cut only for those.
    if (recorder.skips(url)) {
      if (serve !== undefined && pathOf(url) === metricsPath) {
        void serve(req, res);
        return false;
      }
      if (dashboard?.owns(url) === true) {
        void dashboard.handle(req, res);
        return false;
      }
      return true;
    }
    try {
      recorder.startUnskipped(req, res);
    } catch {
      recorder.internalError();
    }
    return true;
  };
  return { recorder, enter };
}

/** The error middleware: counts the error by class against its request and passes it on. */
function countErrors(recorder: HttpRecorder): ExpressMetricsMiddleware['errors'] {
  return function lookoutErrors(error: unknown, req: Request, _res: Response, next: NextFunction): void {
    recorder.exception(req, error);
    next(error);
  };
}

/** The part of an Express app {@link instrument} wraps. */
interface HandlingApp {
  handle(req: IncomingMessage, res: ServerResponse, callback?: unknown): void;
  use(handler: (error: unknown, req: Request, res: Response, next: NextFunction) => void): unknown;
}

/**
 * Instruments an Express app without a middleware layer: wraps `app.handle`,
 * so a request is tracked before Express rebuilds it (Express swaps each
 * request's and response's prototype before the first middleware runs) and
 * before its router walks a layer for lookout. The route template is read
 * when the response finishes (`baseUrl` + `route.path`, nested routers
 * included), `/metrics` and the dashboard are answered before routing, and
 * exceptions are counted by an error-handling layer appended to the app's
 * router on its first request, after the routes registered by then (errors
 * from routes added later are not counted; the error passes on unchanged).
 * Same metrics and labels as {@link metrics}. Call it once, before serving.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { Registry } from 'lookout';
 * import { instrument } from 'lookout/express';
 *
 * const app = express();
 * app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
 * instrument(app, { registry: new Registry() });
 * app.listen(3000);
 * ```
 */
export function instrument<App extends object>(app: App, options: AdapterOptions): App {
  const target = app as unknown as HandlingApp;
  if (typeof target.handle !== 'function' || typeof target.use !== 'function') {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'instrument(app): app must be an Express application');
  }
  const { recorder, enter } = setUp(options);
  const tracked = tracking(target.handle, enter);
  // The first request appends the error layer (after the routes registered by then) and
  // hands over to `tracked`: later requests check nothing more.
  target.handle = function lookoutFirstHandle(this: HandlingApp, req: IncomingMessage, res: ServerResponse, callback?: unknown): void {
    target.handle = tracked;
    target.use(countErrors(recorder));
    tracked.call(this, req, res, callback);
  };
  return app;
}
