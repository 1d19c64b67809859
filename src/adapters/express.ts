import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { listenForFinish } from '../http/channels.js';
import { pathOf } from '../http/methods.js';
import { createMetricsHandler } from '../http/serve.js';
import { createRecorder, type AdapterOptions } from './shared.js';

/** Express-compatible middleware with an error companion. */
export interface ExpressMetricsMiddleware {
  (req: Request, res: Response, next: NextFunction): void;
  /** Error middleware: put it after your routes to count exceptions by class; it passes the error on. */
  readonly errors: (error: unknown, req: Request, res: Response, next: NextFunction) => void;
}

interface RoutedRequest extends IncomingMessage {
  baseUrl?: string;
  route?: { path?: unknown };
}

/** `baseUrl + route.path`: nested routers give the full template (`/api/v1/users/:id`). */
function expressRoute(req: IncomingMessage): string | undefined {
  const routed = req as RoutedRequest;
  const path = routed.route?.path;
  if (path === undefined) return undefined;
  const template = typeof path === 'string' ? path : Array.isArray(path) ? path.join('|') : String(path);
  return (routed.baseUrl ?? '') + template;
}

/**
 * Express middleware: records every request and serves `/metrics`. Mount it
 * first; add `.errors` after your routes to count exceptions.
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
  const { recorder, metricsPath, dashboard } = createRecorder(options, expressRoute);
  const serve = metricsPath === undefined ? undefined : createMetricsHandler({ registry: options.registry, token: options.token });
  listenForFinish();
  const middleware = function lookoutMetrics(req: Request, res: Response, next: NextFunction): void {
    if (serve !== undefined && pathOf(req.url) === metricsPath) {
      void serve(req, res);
      return;
    }
    if (dashboard?.owns(req.url) === true) {
      void dashboard.handle(req, res);
      return;
    }
    recorder.start(req, res);
    next();
  };
  const errors = function lookoutErrors(error: unknown, req: Request, _res: Response, next: NextFunction): void {
    recorder.exception(req, error);
    next(error);
  };
  return Object.assign(middleware, { errors });
}
