/**
 * Issue 23, Hono: apps written the way Hono's documentation writes them
 * (sub-apps with app.route, basePath, notFound, onError), served by
 * @hono/node-server over HTTP/1.1 and HTTP/2 or called with app.request(),
 * must get the same answers and exact counts with lookout.
 */
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { answerOf, checkConformance, requestOf, selfSignedCertificate, serverTarget, settled, UNMATCHED, type Build, type Call, type Protocol, type Target } from './conformance.test-support.js';
import { instrument, metrics } from './hono.js';

type Form = 'metrics() middleware' | 'instrument(app)';
const FORMS: readonly Form[] = ['metrics() middleware', 'instrument(app)'];

/** The app of Hono's guides, with lookout attached in `form` (or not at all). */
function honoApp(registry: Registry | undefined, form: Form): Hono {
  const app = new Hono();
  if (registry !== undefined && form === 'metrics() middleware') app.use(metrics({ registry }));
  app.get('/', (c) => c.text('Hello Hono!'));
  app.get('/posts/:id', (c) => c.json({ id: c.req.param('id') }));
  app.post('/posts', async (c) => c.json(await c.req.json(), 201));
  const books = new Hono();
  books.get('/', (c) => c.text('List Books'));
  books.get('/:id', (c) => c.text(`Get Book: ${c.req.param('id')}`));
  app.route('/books', books);
  const api = new Hono().basePath('/api');
  api.get('/book', (c) => c.text('List Books'));
  app.route('/', api);
  app.get('/boom', () => {
    throw new Error('broke');
  });
  app.notFound((c) => c.text('Custom 404 Message', 404));
  app.onError((_error, c) => c.text('Custom Error Message', 500));
  if (registry !== undefined && form === 'instrument(app)') instrument(app, { registry });
  return app;
}

const HONO_CALLS: readonly Call[] = [
  { method: 'GET', path: '/', route: '/' },
  { method: 'GET', path: '/posts/1?x=2', route: '/posts/:id' },
  { method: 'POST', path: '/posts', headers: { 'content-type': 'application/json' }, body: '{"title":"Hi"}', route: '/posts' },
  { method: 'GET', path: '/books', route: '/books' },
  { method: 'GET', path: '/books/3', route: '/books/:id' },
  { method: 'GET', path: '/api/book', route: '/api/book' },
  { method: 'GET', path: '/boom', route: '/boom' },
  { method: 'GET', path: '/no/such/page', route: UNMATCHED },
];

/** Hono's own testing helper, `app.request()`, as a target. */
const requesting = (app: Hono): Target => ({
  send: async (call) => answerOf(await app.request(call.path, { method: call.method, headers: { ...call.headers }, ...(call.body !== undefined && { body: call.body }) })),
  close: async () => undefined,
});

/** `app.fetch(request)` called directly, as a worker runtime does. */
const fetching = (app: Hono): Target => ({ send: async (call) => answerOf(await app.fetch(requestOf(call))), close: async () => undefined });

const certificate = selfSignedCertificate();

describe.each(FORMS)('hono, documented apps, lookout: %s', (form) => {
  /** `options`: what @hono/node-server's documentation passes to `serve()` besides `fetch` (`createServer`, `serverOptions`). */
  const served = (options: object, protocol: Protocol): Build =>
    async (registry) => serverTarget(createAdaptorServer({ ...options, fetch: honoApp(registry, form).fetch } as never) as never, protocol);

  it('@hono/node-server over HTTP/1.1', async () => {
    await checkConformance(served({}, 'http1.1'), HONO_CALLS);
  });

  it('@hono/node-server with createServer: http2.createServer (cleartext HTTP/2)', async () => {
    await checkConformance(served({ createServer: http2.createServer }, 'h2c'), HONO_CALLS);
  });

  describe.skipIf(certificate === undefined).each(['h2', 'https1.1'] as const)('@hono/node-server with http2.createSecureServer and allowHTTP1, client speaking %s', (protocol) => {
    it('same answers, exact counts, nothing left in flight', async () => {
      await checkConformance(served({ createServer: http2.createSecureServer, serverOptions: { ...certificate, allowHTTP1: true } }, protocol), HONO_CALLS);
    });
  });

  it('app.request()', async () => {
    await checkConformance(async (registry) => requesting(honoApp(registry, form)), HONO_CALLS);
  });

  it('app.fetch(new Request(...))', async () => {
    await checkConformance(async (registry) => fetching(honoApp(registry, form)), HONO_CALLS);
  });
});

describe('issue 23 regressions (Hono)', () => {
  it('issue 23 #3: @hono/node-server on HTTP/2 counts requests and leaves nothing in flight', async () => {
    const build: Build = async (registry) => serverTarget(createAdaptorServer({ fetch: honoApp(registry, 'metrics() middleware').fetch, createServer: http2.createServer }) as never, 'h2c');
    await checkConformance(build, [{ method: 'GET', path: '/posts/1', route: '/posts/:id' }]);
  });

  it.each(FORMS)('issue 23 #4: a request without headers gets the same answer (%s)', async (form) => {
    const bare = { method: 'GET', url: 'http://x/posts/1' } as Request;
    const answer = async (app: Hono) => {
      try {
        const response = await app.fetch(bare);
        return { status: response.status, body: await response.text() };
      } catch (error) {
        return { rejected: String(error) };
      }
    };
    const registry = new Registry();
    const without = await answer(honoApp(undefined, form));
    expect(without).toEqual({ status: 200, body: '{"id":"1"}' });
    expect(await answer(honoApp(registry, form))).toEqual(without);
    const text = await settled(registry, 1);
    expect(text).toMatch(/^http_requests_total\{[^}]*route="\/posts\/:id"[^}]*\} 1$/m);
  });
});
