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
 * Nothing of lookout runs between Fastify receiving a request and its
 * handler: requests are tracked by wrapping the server's request listener
 * (or, when something else listens too, through Node's diagnostics
 * channels), and the route template is found when the response finishes,
 * from the routes seen at `onRoute`, by method and path, compared the way
 * the app's router compares them. No hook is added on the request path and
 * no handler is wrapped: each costs a hello-world a few per cent.
 */
const lookoutFastify: FastifyPluginCallback<LookoutFastifyOptions> = (fastify, options, done) => {
  const routes = new FastifyRoutes(fastifyPathRules(fastify.initialConfig));
  const { recorder, metricsPath, dashboard } = createRecorder(options, (req, _res, method) => routes.match(method, req.url));

  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (typeof route.url === 'string') routes.add(route.method, route.url);
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
