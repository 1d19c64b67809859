import type { FastifyPluginCallback, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { trackServer } from '../http/channels.js';
import { createMetricsHandler } from '../http/serve.js';
import { FastifyRoutes, fastifyPathRules } from './fastify-routes.js';
import { createRecorder, type AdapterOptions } from './shared.js';

/**
 * Options of the Fastify plugin.
 *
 * @example
 * ```ts
 * await app.register(lookout, { registry, appName: 'api' });
 * ```
 */
export type LookoutFastifyOptions = AdapterOptions;

/**
 * No Fastify hook runs on the request path (an empty pair costs a
 * hello-world 6-12 %): requests are tracked by wrapping the server's request
 * listener (or, when something else listens too, through Node's diagnostics
 * channels). Each route's handler is wrapped at `onRoute` to name its
 * template as it starts (one store); a request answered before its handler
 * runs (validation, an `onRequest` reply, not found) is named when it
 * finishes, from the routes seen at `onRoute`, by method and path, compared
 * the way the app's router compares them.
 */
const lookoutFastify: FastifyPluginCallback<LookoutFastifyOptions> = (fastify, options, done) => {
  const routes = new FastifyRoutes(fastifyPathRules(fastify.initialConfig));
  const { recorder, metricsPath, dashboard } = createRecorder(options, (req, _res, method) => routes.match(method, req.url));

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const template = route.url;
    if (typeof template !== 'string') return;
    routes.add(route.method, template);
    // The handler names its route as it starts (a store: cheaper than the match at
    // finish, which stays for requests answered before their handler runs).
    const handler = route.handler;
    route.handler = function lookoutRoute(this: unknown, request, reply) {
      recorder.setRoute(request.raw, template);
      return handler.call(this as never, request, reply);
    };
  });

  fastify.addHook('onError', (request, _reply, error, next) => {
    recorder.exception(request.raw, error);
    next();
  });

  const detach = trackServer(fastify.server, recorder);
  fastify.addHook('onClose', (_instance, next) => {
    detach();
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

/**
 * The lookout Fastify plugin (wrapped with fastify-plugin, so it sees every
 * route of the app). Register it before your routes.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { Registry } from 'lookout';
 * import lookout from 'lookout/fastify';
 *
 * const app = Fastify();
 * await app.register(lookout, { registry: new Registry() });
 * app.get('/users/:id', async () => ({ ok: true }));
 * ```
 */
const plugin = fastifyPlugin(lookoutFastify, { fastify: '>=5', name: 'lookout' });
export default plugin;
export { plugin as lookout };
