import type { FastifyInstance, FastifyPluginCallback, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { trackServer } from '../http/channels.js';
import { METHODS, pathOf } from '../http/methods.js';
import type { HttpRecorder } from '../http/recorder.js';
import { createMetricsHandler } from '../http/serve.js';
import { FastifyRoutes, fastifyPathRules, templateFromParams } from './fastify-routes.js';
import { createRecorder, type AdapterOptions } from './shared.js';

/**
 * Options of the Fastify plugin.
 *
 * @example
 * ```ts
 * app.register(lookout, { registry, appName: 'api' });
 * ```
 */
export type LookoutFastifyOptions = AdapterOptions;

/** What Fastify (5) publishes as a route's handler starts, on its `fastify.request.handler` tracing channel. */
interface HandlerStart {
  readonly request?: { readonly raw?: IncomingMessage; readonly server?: { readonly server?: unknown } };
  readonly reply?: { readonly raw?: ServerResponse };
  readonly route?: { readonly url?: unknown };
}

const HANDLER_START = 'tracing:fastify.request.handler:start';
/** Every Fastify app with lookout in this process (usually one), by its server. */
let fastifyApps: readonly { readonly server: unknown; readonly recorder: HttpRecorder }[] = [];

/**
 * Tracks a request of a lookout app that no one tracks yet as its handler
 * starts: one injected before the app was ready, through Fastify's own
 * `inject` (lookout's was not in place when it was called). Subscribed only
 * while an app boots (see {@link watchBoot}): with a subscriber, Fastify
 * builds a store object for every request, which measured ~5,000 instructions
 * per request on a hello-world.
 */
function onHandlerStart(message: unknown): void {
  const { request, reply, route } = message as HandlerStart;
  const raw = request?.raw;
  const template = route?.url;
  if (raw === undefined || reply?.raw === undefined) return;
  const server = request?.server?.server;
  const apps = fastifyApps;
  for (let index = 0; index < apps.length; index++) {
    const { server: own, recorder } = apps[index]!;
    if (own !== server) continue;
    try {
      if (!recorder.tracks(raw) && !recorder.skips(raw.url)) recorder.track(raw, reply.raw, typeof template === 'string' ? template : undefined, true);
    } catch {
      recorder.internalError();
    }
    return;
  }
}

/**
 * The handler channel stays subscribed from lookout's load until the turn after
 * the app is ready: the `inject()` calls that booted the app dispatch their
 * requests as it becomes ready. No longer: while subscribed, every reply gets
 * one more property, and replies of two shapes would slow Fastify's own code
 * for the life of the process; requests from a listening server come later.
 */
let booting = 0;

function watchBoot(): () => void {
  if (booting++ === 0) diagnosticsChannel.subscribe(HANDLER_START, onHandlerStart);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--booting === 0) diagnosticsChannel.unsubscribe(HANDLER_START, onHandlerStart);
  };
}

/** The parts of light-my-request's chain that `inject` hands back, as far as lookout uses them. */
interface InjectChain {
  dispatch: (this: unknown, req: IncomingMessage, res: ServerResponse) => void;
  option: object;
  end(callback?: unknown): unknown;
}
type Inject = (this: FastifyInstance, options?: unknown, callback?: unknown) => unknown;

function isChain(value: unknown): value is InjectChain {
  return typeof value === 'object' && value !== null && typeof (value as InjectChain).dispatch === 'function' && typeof (value as InjectChain).end === 'function';
}

/**
 * Wraps `fastify.inject` so that injected requests (light-my-request: no socket,
 * so neither the server's listener nor node's HTTP channels see them) are
 * tracked from the moment Fastify routes them. Every form is kept: promise,
 * callback and chain. The request goes through a chain from Fastify's own
 * `inject()`, whose dispatch function lookout wraps; anything unexpected falls
 * back to the original call, untouched.
 */
function instrumentInject(fastify: FastifyInstance, recorder: HttpRecorder): void {
  const inject = fastify.inject as unknown as Inject;
  if (typeof inject !== 'function') return;
  const routing = (fastify as unknown as { routing: (req: IncomingMessage, res: ServerResponse) => void }).routing;
  const track = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      if (!recorder.skips(req.url)) recorder.track(req, res, undefined, true);
    } catch {
      recorder.internalError();
    }
  };
  const wrapDispatch = (chain: InjectChain): void => {
    const dispatch = chain.dispatch;
    chain.dispatch = function lookoutDispatch(req, res) {
      if (dispatch === routing) {
        track(req, res);
        routing.call(this, req, res);
        return;
      }
      // Not started yet: Fastify's own dispatch waits until the app is ready; the clock starts then.
      fastify.ready((error) => {
        if (error != null) {
          dispatch.call(this, req, res);
          return;
        }
        track(req, res);
        routing.call(this, req, res);
      });
    };
  };
  (fastify as unknown as { inject: Inject }).inject = function lookoutInject(this: FastifyInstance, options?: unknown, callback?: unknown) {
    let chain: unknown;
    try {
      chain = inject.call(this);
    } catch {
      return inject.call(this, options, callback);
    }
    if (!isChain(chain) || typeof routing !== 'function') {
      // A closing app answers with an error, which the original call gives again.
      if (chain instanceof Promise) chain.catch(() => undefined);
      return options === undefined && callback === undefined ? chain : inject.call(this, options, callback);
    }
    wrapDispatch(chain);
    if (options === undefined && callback === undefined) return chain;
    chain.option = typeof options === 'string' ? { url: options } : { ...(options as object) };
    return typeof callback === 'function' ? chain.end(callback) : chain.end();
  };
}

/**
 * No Fastify hook runs on the request path (an empty pair costs a
 * hello-world 6-12 %): requests are tracked by wrapping the server's request
 * listener (or, when something else listens too, through Node's diagnostics
 * channels), injected requests through `inject`'s dispatch. Every request is
 * named when it finishes, whatever answered it (its handler, validation, an
 * `onRequest` reply, a content-type refusal, not found), from the routes seen
 * at `onRoute`, by method and path compared the way the app's router compares
 * them, and, for routes declared before lookout ran, from the app's own router
 * (`findRoute` and `hasRoute`): any order of registration, awaited or not.
 * Handlers are left as the app passed them: other plugins see the app's own.
 */
const lookoutFastify: FastifyPluginCallback<LookoutFastifyOptions> = (fastify, options, done) => {
  const routes = new FastifyRoutes(fastifyPathRules(fastify.initialConfig));
  // Routes declared before lookout ran (`register` not awaited, or after the routes)
  // never reach its onRoute hook: the router then has the last word.
  const router = routerTemplates(fastify, routes, hasRoutesAlready(fastify));
  const { recorder, metricsPath, dashboard } = createRecorder(options, (req, _res, method) => router(method, req.url));

  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (typeof route.url === 'string') routes.add(route.method, route.url);
  });

  fastify.addHook('onError', (request, _reply, error, next) => {
    recorder.exception(request.raw, error);
    next();
  });

  fastifyApps = [...fastifyApps, { server: fastify.server, recorder }];
  const booted = watchBoot();
  fastify.addHook('onReady', (next) => {
    setImmediate(booted);
    next();
  });
  instrumentInject(fastify, recorder);
  const detach = trackServer(fastify.server, recorder);
  fastify.addHook('onClose', (_instance, next) => {
    detach();
    booted();
    fastifyApps = fastifyApps.filter((app) => app.recorder !== recorder);
    dashboard?.close();
    next();
  });

  if (metricsPath !== undefined) {
    const serve = createMetricsHandler({ registry: options.registry, token: options.token });
    fastify.route({
      method: ['GET', 'HEAD'],
      url: metricsPath,
      handler: (request, reply) => {
        reply.hijack();
        return serve(request.raw, reply.raw);
      },
    });
  }
  for (const url of dashboard?.paths ?? []) {
    fastify.route({
      method: ['GET', 'HEAD'],
      url,
      handler: (request, reply) => {
        reply.hijack();
        return dashboard!.handle(request.raw, reply.raw);
      },
    });
  }
  done();
};

/** True when the app has routes already as lookout runs (declared before it: its onRoute hook missed them). */
function hasRoutesAlready(fastify: FastifyInstance): boolean {
  try {
    return fastify.printRoutes().trim() !== '(empty tree)';
  } catch {
    return true;
  }
}

/** The parameters the app's own router finds for a request, and whether a template is one of its routes (Fastify >= 4.x). */
interface RouterLookups {
  findRoute?: (options: { method: string; url: string }) => { params?: Record<string, string | undefined> } | null;
  hasRoute?: (options: { method: string; url: string }) => boolean;
}

/**
 * The template of a finished request that its handler did not name. From
 * the templates seen at `onRoute`, matched the way the app's router matches;
 * when the app declared routes before lookout ran (so some templates were
 * never seen), from the app's own router: `findRoute` gives the parameters the
 * path matched, and the template they imply is confirmed with `hasRoute`
 * (and remembered). A template matched among those seen is then kept only when
 * it names the same parameters the router found: a more specific route the
 * hook never saw may be the one that answered.
 */
function routerTemplates(fastify: FastifyInstance, routes: FastifyRoutes, routesBefore: boolean): (method: number, url: string | undefined) => string | undefined {
  const router = fastify as unknown as RouterLookups;
  if (!routesBefore || typeof router.findRoute !== 'function' || typeof router.hasRoute !== 'function') return (method, url) => routes.match(method, url);
  const findRoute = router.findRoute.bind(fastify);
  const hasRoute = router.hasRoute.bind(fastify);
  return (method, url) => {
    const name = METHODS[method]!;
    const seen = routes.match(method, url);
    if (name === '_OTHER') return seen;
    const path = routes.normalise(pathOf(url));
    const found = findRoute({ method: name, url: path });
    if (found === null || found === undefined) return undefined;
    const params = found.params ?? {};
    if (seen !== undefined && sameParameters(seen, params)) return seen;
    const template = templateFromParams(path, params, (candidate) => hasRoute({ method: name, url: candidate }));
    if (template !== undefined) routes.add(name, template);
    return template ?? seen;
  };
}

/** True when `template` names exactly the parameters in `params`, in order. */
function sameParameters(template: string, params: Readonly<Record<string, unknown>>): boolean {
  const names = Object.keys(params);
  const inTemplate = template.match(/:[A-Za-z0-9_]+|\*/g) ?? [];
  return names.length === inTemplate.length && names.every((name, index) => (name === '*' ? inTemplate[index] === '*' : inTemplate[index] === `:${name}`));
}

/**
 * The lookout Fastify plugin (wrapped with fastify-plugin, so it sees every
 * route of the app). Register it the way Fastify's guides do, awaited or not,
 * before or after your routes; Fastify 4 and 5.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { Registry } from 'lookout';
 * import lookout from 'lookout/fastify';
 *
 * const app = Fastify();
 * app.register(lookout, { registry: new Registry() });
 * app.get('/users/:id', async () => ({ ok: true }));
 * ```
 */
const plugin = fastifyPlugin(lookoutFastify, { fastify: '4.x || 5.x', name: 'lookout' });
export default plugin;
export { plugin as lookout };
