/**
 * Issue 23, Fastify 5 and 4: apps written the way Fastify's documentation
 * writes them must get the same answers and exact counts with lookout.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import Fastify4 from 'fastify4';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { appHeaders, checkConformance, clientTarget, selfSignedCertificate, UNMATCHED, type Call, type Protocol, type Target } from './conformance.test-support.js';
import lookoutFastify from './fastify.js';

type Factory = (options?: FastifyServerOptions & { http2?: boolean; https?: object }) => FastifyInstance;
const FACTORIES = { 'fastify 5': Fastify as unknown as Factory, 'fastify 4': Fastify4 as unknown as Factory };

/** Where lookout is registered: before the routes without await (getting started), with await, or after the routes. */
type Form = 'unawaited register' | 'awaited register' | 'registered after the routes';
const FORMS: readonly Form[] = ['unawaited register', 'awaited register', 'registered after the routes'];

/** The app of Fastify's guides: root route, params, JSON schema, hijack, prefixed and nested plugins, an auth hook, `*`, a not-found handler. */
export async function fastifyApp(factory: Factory, registry: Registry | undefined, form: Form, options: Parameters<Factory>[0] = {}): Promise<FastifyInstance> {
  const fastify = factory(options);
  if (registry !== undefined && form === 'unawaited register') void fastify.register(lookoutFastify, { registry });
  if (registry !== undefined && form === 'awaited register') await fastify.register(lookoutFastify, { registry });
  fastify.get('/', async () => ({ hello: 'world' }));
  fastify.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  const userSchema = { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } };
  fastify.post('/users', { schema: userSchema }, async (request, reply) => reply.code(201).send(request.body));
  fastify.get('/items/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async (request) => request.params);
  fastify.get('/raw', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain', 'x-hijacked': 'yes' });
    reply.raw.end('written by the handler');
  });
  void fastify.register(async (api) => {
    api.get('/status', async () => ({ ok: true }));
    await api.register(async (v1) => {
      v1.get('/orders/:orderId', async (request) => ({ order: (request.params as { orderId: string }).orderId }));
    }, { prefix: '/v1' });
  }, { prefix: '/api' });
  void fastify.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      if (request.headers.authorization !== 'Bearer good') await reply.code(401).send({ error: 'Unauthorized' });
    });
    admin.get('/admin/stats', async () => ({ users: 1 }));
  });
  fastify.get('/files/*', async (request) => ({ file: (request.params as Record<string, string>)['*'] }));
  fastify.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'Not Found', url: request.url }));
  if (registry !== undefined && form === 'registered after the routes') await fastify.register(lookoutFastify, { registry });
  await fastify.ready();
  return fastify;
}

const json = { 'content-type': 'application/json' };
export const FASTIFY_CALLS: readonly Call[] = [
  { method: 'GET', path: '/', route: '/' },
  { method: 'GET', path: '/users/42', route: '/users/:id' },
  { method: 'POST', path: '/users', headers: json, body: '{"name":"Ada"}', route: '/users' },
  { method: 'POST', path: '/users', headers: json, body: '{}', route: '/users' },
  { method: 'GET', path: '/items/abc', route: '/items/:id' },
  { method: 'GET', path: '/items/5?full=1', route: '/items/:id' },
  { method: 'GET', path: '/raw', route: '/raw' },
  { method: 'GET', path: '/api/status', route: '/api/status' },
  { method: 'GET', path: '/api/v1/orders/7', route: '/api/v1/orders/:orderId' },
  { method: 'GET', path: '/admin/stats', route: '/admin/stats' },
  { method: 'GET', path: '/admin/stats', headers: { authorization: 'Bearer good' }, route: '/admin/stats' },
  { method: 'GET', path: '/files/a/b.txt', route: '/files/*' },
  { method: 'GET', path: '/no/such/page', route: UNMATCHED },
  { method: 'DELETE', path: '/users/42', route: UNMATCHED },
];

/** Serves a built app with `fastify.listen` (as the docs do) and talks to it over `protocol`. */
export async function listening(fastify: FastifyInstance, protocol: Protocol): Promise<Target> {
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return clientTarget((fastify.server.address() as AddressInfo).port, protocol, () => fastify.close());
}

type InjectForm = 'promise' | 'callback' | 'chain';
type Chain = Record<string, (argument?: unknown) => Chain> & { end(): Promise<{ statusCode: number; headers: Record<string, string | string[] | number | undefined>; payload: string }> };

/** `fastify.inject()` in each of its documented forms, as a target. */
export function injecting(fastify: FastifyInstance, form: InjectForm): Target {
  const options = (call: Call) => ({ method: call.method as 'GET', url: call.path, headers: { ...call.headers }, ...(call.body !== undefined && { payload: call.body }) });
  const inject = async (call: Call) => {
    if (form === 'promise') return fastify.inject(options(call));
    if (form === 'callback') {
      return new Promise<Awaited<ReturnType<FastifyInstance['inject']>>>((resolve, reject) => {
        fastify.inject(options(call), (error, response) => (error ? reject(error) : resolve(response!)));
      });
    }
    let chain = (fastify.inject() as unknown as Chain)[call.method.toLowerCase()]!(call.path).headers!({ ...call.headers });
    if (call.body !== undefined) chain = chain.body!(call.body);
    return chain.end();
  };
  return {
    send: async (call) => {
      const response = await inject(call);
      return { status: response.statusCode, headers: appHeaders(Object.entries(response.headers)), body: response.payload };
    },
    close: () => fastify.close(),
  };
}

const certificate = selfSignedCertificate();

describe.each(Object.keys(FACTORIES) as (keyof typeof FACTORIES)[])('%s, documented apps', (version) => {
  const factory = FACTORIES[version];

  describe.each(FORMS)('lookout: %s', (form) => {
    it('over HTTP/1.1: same answers, each request counted once under its route, nothing left in flight', async () => {
      await checkConformance(async (registry) => listening(await fastifyApp(factory, registry, form), 'http1.1'), FASTIFY_CALLS);
    });

    it.each(['promise', 'callback', 'chain'] as const)('through inject() (%s form)', async (injectForm) => {
      await checkConformance(async (registry) => injecting(await fastifyApp(factory, registry, form), injectForm), FASTIFY_CALLS);
    });
  });

  it('http2: true (cleartext HTTP/2)', async () => {
    await checkConformance(async (registry) => listening(await fastifyApp(factory, registry, 'awaited register', { http2: true }), 'h2c'), FASTIFY_CALLS);
  });

  describe.skipIf(certificate === undefined).each(['h2', 'https1.1'] as const)('http2: true, https: { allowHTTP1: true }, client speaking %s', (protocol) => {
    it('same answers, exact counts, nothing left in flight', async () => {
      const options = { http2: true, https: { allowHTTP1: true, ...certificate } };
      await checkConformance(async (registry) => listening(await fastifyApp(factory, registry, 'awaited register', options), protocol), FASTIFY_CALLS);
    });
  });
});

describe('issue 23 regressions (Fastify 5)', () => {
  it('issue 23 #1: unawaited register labels root routes', async () => {
    const calls: Call[] = [{ method: 'GET', path: '/', route: '/' }, { method: 'GET', path: '/users/1', route: '/users/:id' }];
    await checkConformance(async (registry) => listening(await fastifyApp(Fastify as unknown as Factory, registry, 'unawaited register'), 'http1.1'), calls);
  });

  it('issue 23 #2: inject() requests are counted', async () => {
    await checkConformance(async (registry) => injecting(await fastifyApp(Fastify as unknown as Factory, registry, 'awaited register'), 'promise'), [{ method: 'GET', path: '/users/1', route: '/users/:id' }]);
  });

  it('issue 23 #3: http2: true requests are counted and leave nothing in flight', async () => {
    const app = (registry: Registry | undefined) => fastifyApp(Fastify as unknown as Factory, registry, 'awaited register', { http2: true });
    await checkConformance(async (registry) => listening(await app(registry), 'h2c'), [{ method: 'GET', path: '/users/1', route: '/users/:id' }]);
  });

  it("issue 23 #6: onRoute hooks added after lookout's see the app's own handler", async () => {
    const seenBy = async (withLookout: boolean) => {
      const fastify = Fastify();
      if (withLookout) await fastify.register(lookoutFastify, { registry: new Registry() });
      const seen: string[] = [];
      const handler = async () => 'ok';
      fastify.addHook('onRoute', (route) => {
        if (route.url === '/a') seen.push(`${String(route.method)} ${route.handler === handler ? 'own handler' : 'another function'}`);
      });
      fastify.get('/a', handler);
      await fastify.ready();
      await fastify.close();
      return seen;
    };
    expect(await seenBy(false)).toEqual(['GET own handler', 'HEAD own handler']);
    expect(await seenBy(true)).toEqual(['GET own handler', 'HEAD own handler']);
  });

  it('issue 23 #7: a request answered by a * route before its handler runs is labelled *', async () => {
    const build = async (registry: Registry | undefined) => {
      const fastify = Fastify();
      if (registry !== undefined) await fastify.register(lookoutFastify, { registry });
      fastify.post('*', async (request) => ({ got: request.body }));
      await fastify.ready();
      return listening(fastify, 'http1.1');
    };
    await checkConformance(build, [
      { method: 'POST', path: '/anything', headers: { 'content-type': 'application/json' }, body: '{"a":1}', route: '*' },
      { method: 'POST', path: '/anything', headers: { 'content-type': 'application/x-unknown' }, body: 'x', route: '*' },
    ]);
  });
});
