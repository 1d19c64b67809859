import type { FastifyPluginCallback, RouteOptions } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { trackServer } from '../http/channels.js';
import { pathOf } from '../http/methods.js';
import { RouteMatcher } from '../http/route-matcher.js';
import { createMetricsHandler } from '../http/serve.js';
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
 * Request timing comes from Node's diagnostics channels (no Fastify hook on
 * the hot path). The route template is attached by wrapping each route
 * handler once, at registration; requests that fail before their handler
 * runs are matched against the known templates when they finish.
 */
const lookoutFastify: FastifyPluginCallback<LookoutFastifyOptions> = (fastify, options, done) => {
  const templates = new RouteMatcher();
  const { recorder, metricsPath, dashboard } = createRecorder(options, (req, res) =>
    res.statusCode === 404 ? undefined : templates.match(pathOf(req.url)),
  );

  fastify.addHook('onRoute', (route: RouteOptions) => {
    const template = route.url;
    if (typeof template !== 'string') return;
    templates.add(template);
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
