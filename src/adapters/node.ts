import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { LookoutError } from '../core/errors.js';
import { listenForFinish } from '../http/channels.js';
import { pathOf } from '../http/methods.js';
import { RouteMatcher } from '../http/route-matcher.js';
import { createMetricsHandler } from '../http/serve.js';
import { createRecorder, type AdapterOptions } from './shared.js';

export { serveMetrics, createMetricsHandler, type MetricsServer, type MetricsServerOptions } from '../http/serve.js';
export { recordException } from '../http/recorder.js';

/**
 * Options of {@link instrument}: plain node:http has no router, so name the
 * route templates; paths that match none share the unmatched route value.
 *
 * @example
 * ```ts
 * const options: InstrumentOptions = { registry, routes: ['/users/:id', '/health'] };
 * ```
 */
export interface InstrumentOptions extends AdapterOptions {
  /** Route templates (`/users/:id`, `/files/*`). */
  readonly routes?: readonly string[];
  /** Or a function from request to template (return undefined for unmatched). */
  readonly route?: (req: IncomingMessage) => string | undefined;
}

/**
 * Wraps a node:http request listener: records every request, serves
 * `/metrics`, and never changes what the listener does (its errors are
 * counted by class and then propagate as before).
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { Registry } from 'lookout';
 * import { instrument } from 'lookout/node';
 *
 * const registry = new Registry();
 * http.createServer(instrument((req, res) => res.end('hi'), { registry, routes: ['/users/:id'] })).listen(3000);
 * ```
 */
export function instrument<Req extends IncomingMessage = IncomingMessage, Res extends ServerResponse<Req> = ServerResponse<Req>>(
  listener: RequestListener<typeof IncomingMessage, typeof ServerResponse> | ((req: Req, res: Res) => unknown),
  options: InstrumentOptions,
): (req: Req, res: Res) => void {
  if (typeof listener !== 'function') throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'instrument(listener, options): listener must be a function');
  const matcher = new RouteMatcher(options.routes ?? []);
  const routeFunction = options.route;
  /** The template of a request; a throwing route function counts as an internal error and leaves the route unmatched. */
  const routeOf = (req: IncomingMessage, url: string): string | undefined => {
    if (routeFunction === undefined) return matcher.match(url);
    try {
      return routeFunction(req);
    } catch {
      recorder.internalError();
      return undefined;
    }
  };
  const { recorder, metricsPath, dashboard } = createRecorder(options);
  const serve = metricsPath === undefined ? undefined : createMetricsHandler({ registry: options.registry, token: options.token });
  const handle = listener as (req: Req, res: Res) => unknown;
  listenForFinish();

  return function instrumented(req, res) {
    try {
      // Skips and the matcher both stop at a query string: the URL is passed as it is.
      const url = req.url ?? '/';
      if (!recorder.skips(url)) {
        recorder.track(req, res, routeOf(req, url));
      } else if (serve !== undefined && pathOf(url) === metricsPath) {
        void serve(req, res);
        return;
      } else if (dashboard?.owns(req.url) === true) {
        void dashboard.handle(req, res);
        return;
      }
    } catch {
      recorder.internalError();
    }
    let result: unknown;
    try {
      result = handle(req, res);
    } catch (error) {
      recorder.exception(req, error);
      throw error;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, (error: unknown) => {
        recorder.exception(req, error);
        throw error;
      });
    }
  };
}
