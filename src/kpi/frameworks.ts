/**
 * Handy access to a KPI recorder from Fastify, Express and Hono handlers.
 * Structural types only: nothing here imports a framework, at runtime or in
 * the emitted types. Event names are yours, so the request typing is a
 * one-line augmentation on your side (see each function).
 */

/** The part of a Fastify instance the plugin uses. @example const instance: FastifyInstanceLike = Fastify(); */
export interface FastifyInstanceLike {
  decorate(name: string, value: unknown): unknown;
  decorateRequest(name: string, value: unknown): unknown;
}

/**
 * A Fastify plugin (already "skip-override": it decorates the root instance).
 *
 * @example
 * ```ts
 * await app.register(kpi.fastify());
 * ```
 */
export type KpiFastifyPlugin = (instance: FastifyInstanceLike, options: unknown, done: (error?: Error) => void) => void;

/**
 * An Express middleware that sets `req.kpi`.
 *
 * @example
 * ```ts
 * app.use(kpi.express());
 * ```
 */
export type KpiExpressMiddleware = (request: object, response: unknown, next: () => void) => void;

/** The part of a Hono context the middleware uses. @example app.use((c, next) => kpi.hono()(c, next)); */
export interface HonoContextLike {
  set(key: 'kpi', value: never): void;
}

/**
 * A Hono middleware that makes `c.get('kpi')` return the recorder.
 *
 * @example
 * ```ts
 * app.use(kpi.hono());
 * ```
 */
export type KpiHonoMiddleware = (context: HonoContextLike, next: () => Promise<void>) => Promise<void>;

/**
 * Fastify: `app.kpi` and `request.kpi` (a getter on the request prototype, so
 * no per-request hook and no per-request cost). Type it with
 * `declare module 'fastify' { interface FastifyRequest { kpi: typeof kpi } interface FastifyInstance { kpi: typeof kpi } }`.
 *
 * @example
 * ```ts
 * await app.register(fastifyPlugin(kpi));
 * app.get('/', (request) => { request.kpi.record('good_inference'); return 'ok'; });
 * ```
 */
export function fastifyPlugin(kpi: object): KpiFastifyPlugin {
  const plugin: KpiFastifyPlugin = (instance, _options, done) => {
    instance.decorate('kpi', kpi);
    instance.decorateRequest('kpi', { getter: () => kpi });
    done();
  };
  // What fastify-plugin sets, without depending on it: decorate the parent scope.
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'lookout-kpi' });
  return plugin;
}

/**
 * Express: `req.kpi`. Type it with
 * `declare global { namespace Express { interface Request { kpi: typeof kpi } } }`.
 *
 * @example
 * ```ts
 * app.use(expressMiddleware(kpi));
 * app.get('/', (req, res) => { req.kpi.record('good_inference'); res.send('ok'); });
 * ```
 */
export function expressMiddleware(kpi: object): KpiExpressMiddleware {
  return (request, _response, next) => {
    (request as { kpi?: object }).kpi = kpi;
    next();
  };
}

/**
 * Hono: `c.get('kpi')`. Type it with `new Hono<{ Variables: { kpi: typeof kpi } }>()`.
 *
 * @example
 * ```ts
 * app.use(honoMiddleware(kpi));
 * app.get('/', (c) => { c.get('kpi').record('good_inference'); return c.text('ok'); });
 * ```
 */
export function honoMiddleware(kpi: object): KpiHonoMiddleware {
  return async (context, next) => {
    context.set('kpi', kpi as never);
    await next();
  };
}
