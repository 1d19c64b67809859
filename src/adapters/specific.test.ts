import express from 'express';
import Fastify from 'fastify';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { close, listen, sumOf, waitFor } from '../../test/support/http.js';
import lookoutFastify from './fastify.js';
import { instrument as instrumentExpress, metrics as expressMetrics } from './express.js';
import { instrument } from './node.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function serve(server: http.Server): Promise<string> {
  servers.push(server);
  return listen(server);
}

/** The payload of a chunked body without trailers; throws unless the framing is exact to its last byte. */
function unchunk(body: string): string {
  let payload = '';
  for (let at = 0; ; ) {
    const line = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.slice(at, line), 16);
    if (line < 0 || !(size >= 0)) throw new Error(`no chunk size at ${at}: ${JSON.stringify(body)}`);
    if (size === 0) {
      if (body.slice(line) !== '\r\n\r\n') throw new Error(`bytes after the last chunk: ${JSON.stringify(body)}`);
      return payload;
    }
    payload += body.slice(line + 2, line + 2 + size);
    if (body.slice(line + 2 + size, line + 4 + size) !== '\r\n') throw new Error(`chunk ${payload.length} not closed: ${JSON.stringify(body)}`);
    at = line + 4 + size;
  }
}

describe('fastify', () => {
  it('names the route of requests that fail validation before their handler runs', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry });
    app.get('/items/:id', { schema: { params: { type: 'object', properties: { id: { type: 'integer' } } } } }, async () => 'ok');
    await app.ready();
    const base = await serve(app.server);
    expect((await fetch(`${base}/items/not-a-number`)).status).toBe(400);
    expect((await fetch(`${base}/items/5`)).status).toBe(200);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 2);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/items/:id"', 'status="400"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/items/:id"', 'status="200"')).toBe(1);
  });

  it('keeps handlers working as Fastify calls them (this, reply.send, async) while naming their routes', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry });
    app.decorate('greeting', 'hi');
    app.get('/this/:name', function (request) {
      return `${(this as unknown as { greeting: string }).greeting} ${(request.params as { name: string }).name}`;
    });
    app.get('/sync', (_request, reply) => {
      reply.code(201).send('sent');
    });
    app.get('/async', async (_request, reply) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return reply.code(202).send('later');
    });
    await app.ready();
    const base = await serve(app.server);
    expect(await (await fetch(`${base}/this/ada`)).text()).toBe('hi ada');
    const sync = await fetch(`${base}/sync`);
    expect([sync.status, await sync.text()]).toEqual([201, 'sent']);
    const later = await fetch(`${base}/async`);
    expect([later.status, await later.text()]).toEqual([202, 'later']);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 3);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/this/:name"', 'status="200"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/sync"', 'status="201"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/async"', 'status="202"')).toBe(1);
  });

  it("labels a handler's own 404 with its route and Fastify's not-found (or a method without a route) as unmatched", async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry });
    app.get('/users/:id', async (request, reply) => reply.code((request.params as { id: string }).id === 'gone' ? 404 : 200).send('x'));
    app.get('/users/me', async () => 'me');
    await app.register(async (scope) => {
      scope.post('/jobs', async () => 'queued');
    }, { prefix: '/v1' });
    await app.ready();
    const base = await serve(app.server);
    expect((await fetch(`${base}/users/gone`)).status).toBe(404);
    expect((await fetch(`${base}/users/7?full=1`)).status).toBe(200);
    expect((await fetch(`${base}/users/me`)).status).toBe(200);
    expect((await fetch(`${base}/users/7`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${base}/v1/jobs`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${base}/v1/jobs`)).status).toBe(404);
    expect((await fetch(`${base}/users/7`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${base}/nothing/here`)).status).toBe(404);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 8);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'method="GET"', 'status="404"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'method="GET"', 'status="200"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'method="HEAD"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/users/me"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/v1/jobs"', 'method="POST"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="__unmatched__"', 'status="404"')).toBe(3);
  });

  it('agrees with the router on parameter patterns and optional parameters', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry });
    app.get('/orders/:id(^\\d+)', async () => 'by id');
    app.get('/orders/:slug', async () => 'by slug');
    app.get('/files/:name?', async () => 'file');
    await app.ready();
    const base = await serve(app.server);
    expect(await (await fetch(`${base}/orders/42`)).text()).toBe('by id');
    expect(await (await fetch(`${base}/orders/latest`)).text()).toBe('by slug');
    expect(await (await fetch(`${base}/files/a.txt`)).text()).toBe('file');
    expect(await (await fetch(`${base}/files`)).text()).toBe('file');
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 4);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/orders/:id(^\\\\d+)"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/orders/:slug"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/files/:name?"')).toBe(2);
  });

  it('compares paths the way the router is configured (trailing slash, case, duplicate slashes)', async () => {
    const registry = new Registry();
    const app = Fastify({ routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, ignoreDuplicateSlashes: true } });
    await app.register(lookoutFastify, { registry });
    app.get('/Users/:id', async () => 'x');
    await app.ready();
    const base = await serve(app.server);
    for (const path of ['/Users/7', '/users/7/', '/USERS//7']) expect((await fetch(`${base}${path}`)).status).toBe(200);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 3);
    expect(sumOf(await registry.metrics(), 'http_requests_total', 'route="/Users/:id"', 'status="200"')).toBe(3);
  });

  it('can serve metrics elsewhere: metricsPath false leaves /metrics to the app', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry, metricsPath: false });
    await app.ready();
    const base = await serve(app.server);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});

describe.each(['middleware', 'instrument'] as const)('express (%s)', (how) => {
  it('gives nested routers their full template (baseUrl + route.path)', async () => {
    const registry = new Registry();
    const app = express();
    if (how === 'middleware') app.use(expressMetrics({ registry }));
    const v1 = express.Router();
    v1.get('/users/:id/posts/:post', (_req, res) => {
      res.send('ok');
    });
    const api = express.Router();
    api.use('/v1', v1);
    app.use('/api', api);
    if (how === 'instrument') instrumentExpress(app, { registry });
    const base = await serve(http.createServer(app));
    expect((await fetch(`${base}/api/v1/users/3/posts/9`)).status).toBe(200);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 1);
    expect(sumOf(await registry.metrics(), 'http_requests_total', 'route="/api/v1/users/:id/posts/:post"')).toBe(1);
  });
});

describe('express middleware moved into app.handle', () => {
  type Stack = { handle: unknown }[];
  const stackOf = (app: express.Express): Stack => (app as unknown as { router: { stack: Stack } }).router.stack;

  it('leaves the router after its first request when mounted first at /; requests and errors are still counted', async () => {
    const registry = new Registry();
    const app = express();
    const lookout = expressMetrics({ registry });
    app.use(lookout);
    app.get('/users/:id', (req, res) => {
      res.send(req.params.id);
    });
    app.get('/fail', () => {
      throw new TypeError('boom');
    });
    app.use(lookout.errors);
    const base = await serve(http.createServer(app));
    expect(stackOf(app).some((layer) => layer.handle === lookout)).toBe(true);
    for (let index = 0; index < 3; index++) expect((await fetch(`${base}/users/${index}`)).status).toBe(200);
    expect(stackOf(app).some((layer) => layer.handle === lookout)).toBe(false);
    expect((await fetch(`${base}/fail`)).status).toBe(500);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    await scrape.text();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 5);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'status="200"')).toBe(3);
    expect(sumOf(text, 'http_requests_total', 'route="/fail"', 'status="500"')).toBe(1);
    expect(sumOf(text, 'http_exceptions_total', 'route="/fail"', 'exception="TypeError"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'status="404"')).toBe(1);
  });

  it('lets a request that was already walking the router reach every layer', async () => {
    const registry = new Registry();
    const app = express();
    const lookout = expressMetrics({ registry });
    app.use(lookout);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const passed: string[] = [];
    app.use((req, _res, next) => {
      passed.push(req.path);
      if (req.path === '/slow') void gate.then(() => next());
      else next();
    });
    app.use((req, _res, next) => {
      passed.push(`second ${req.path}`);
      next();
    });
    app.get('/:name', (req, res) => {
      res.send(req.params.name);
    });
    const base = await serve(http.createServer(app));
    // The first request moves lookout out of the router while it waits in the second layer.
    const slow = fetch(`${base}/slow`);
    await waitFor(() => passed.includes('/slow'));
    expect(stackOf(app).some((layer) => layer.handle === lookout)).toBe(false);
    expect(await (await fetch(`${base}/fast`)).text()).toBe('fast');
    release();
    expect(await (await slow).text()).toBe('slow');
    expect(passed).toEqual(['/slow', '/fast', 'second /fast', 'second /slow']);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total', 'route="/:name"') === 2);
  });

  it('stays a layer behind a middleware that guards /metrics, and under a mount path', async () => {
    const registry = new Registry();
    const app = express();
    const lookout = expressMetrics({ registry });
    app.use((req, res, next) => {
      if (req.headers.authorization === 'Bearer ok') next();
      else res.status(401).end();
    });
    app.use(lookout);
    app.get('/x', (_req, res) => {
      res.send('x');
    });
    const mounted = express();
    const underPath = expressMetrics({ registry: new Registry() });
    mounted.use('/api', underPath);
    const base = await serve(http.createServer(app));
    const other = await serve(http.createServer(mounted));
    for (let index = 0; index < 3; index++) {
      expect((await fetch(`${base}/x`, { headers: { authorization: 'Bearer ok' } })).status).toBe(200);
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      expect((await fetch(`${other}/api/anything`)).status).toBe(404);
    }
    expect(stackOf(app).some((layer) => layer.handle === lookout)).toBe(true);
    expect(stackOf(mounted).some((layer) => layer.handle === underPath)).toBe(true);
    const scrape = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer ok' } });
    expect(scrape.status).toBe(200);
    expect(sumOf(await scrape.text(), 'http_requests_total', 'route="/x"')).toBe(3);
  });
});

describe('express instrument(app)', () => {
  it('refuses what is not an Express app with a stable code', () => {
    expect(() => instrumentExpress({} as never, { registry: new Registry() })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_OPTION' }));
  });

  it('counts a request once when an instrumented app mounts another one, and leaves errors to the app', async () => {
    const registry = new Registry();
    const outer = express();
    const inner = express();
    inner.get('/ping', (_req, res) => {
      res.send('pong');
    });
    inner.get('/fail', () => {
      throw new TypeError('inner failure');
    });
    instrumentExpress(inner, { registry, metricsPath: false });
    outer.use('/inner', inner);
    outer.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(503).send(`handled: ${error.message}`);
    });
    instrumentExpress(outer, { registry: new Registry(), metricsPath: false });
    const base = await serve(http.createServer(outer));
    expect(await (await fetch(`${base}/inner/ping`)).text()).toBe('pong');
    const failed = await fetch(`${base}/inner/fail`);
    expect(failed.status).toBe(503);
    expect(await failed.text()).toBe('handled: inner failure');
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 2);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/inner/ping"')).toBe(1);
    // Answered by the parent's error handler: Express has restored baseUrl by then, so the mount path is gone.
    expect(sumOf(text, 'http_requests_total', 'route="/fail"', 'status="503"')).toBe(1);
    expect(sumOf(text, 'http_exceptions_total', 'exception="TypeError"')).toBe(1);
  });
});

describe('node:http', () => {
  it('lets a listener\'s synchronous error propagate, and counts it', async () => {
    const registry = new Registry();
    const wrapped = instrument(
      (_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.end('partial');
        throw new RangeError('listener bug');
      },
      { registry, routes: ['/x'] },
    );
    const caught: unknown[] = [];
    const server = http.createServer((req, res) => {
      try {
        wrapped(req, res);
      } catch (error) {
        caught.push(error);
      }
    });
    const base = await serve(server);
    await (await fetch(`${base}/x`)).text();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 1);
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBeInstanceOf(RangeError);
    expect(sumOf(await registry.metrics(), 'http_exceptions_total', 'route="/x"', 'exception="RangeError"')).toBe(1);
  });

  it('keeps in-flight exact when clients go away mid-response', async () => {
    const registry = new Registry();
    const server = http.createServer(
      instrument(
        (_req: http.IncomingMessage, res: http.ServerResponse) => {
          res.write('started');
          // Never ends: the client aborts.
        },
        { registry, routes: ['/hang'] },
      ),
    );
    const base = await serve(server);
    const controller = new AbortController();
    const response = await fetch(`${base}/hang`, { signal: controller.signal });
    expect(sumOf(await registry.metrics(), 'http_requests_in_flight')).toBe(1);
    controller.abort();
    await response.text().catch(() => undefined);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_in_flight') === 0);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_aborted_total', 'route="/hang"')).toBe(1);
  });

  it('counts in-flight requests by method at each scrape, and keeps a seen method at 0 between requests', async () => {
    const registry = new Registry();
    const waiting: http.ServerResponse[] = [];
    const server = http.createServer(
      instrument(
        (req: http.IncomingMessage, res: http.ServerResponse) => {
          if (req.url === '/slow') waiting.push(res);
          else res.end('ok');
        },
        { registry, routes: ['/slow', '/fast'] },
      ),
    );
    const base = await serve(server);
    await (await fetch(`${base}/fast`, { method: 'DELETE' })).text();
    const slow = [fetch(`${base}/slow`), fetch(`${base}/slow`), fetch(`${base}/slow`, { method: 'POST', body: 'x' })];
    await waitFor(() => waiting.length === 3);
    let text = await registry.metrics();
    expect(text).toMatch(/^http_requests_in_flight\{method="GET"\} 2$/m);
    expect(text).toMatch(/^http_requests_in_flight\{method="POST"\} 1$/m);
    expect(text).toMatch(/^http_requests_in_flight\{method="DELETE"\} 0$/m);
    for (const res of waiting) res.end('done');
    await Promise.all(slow.map(async (response) => (await response).text()));
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_in_flight') === 0);
    text = await registry.metrics();
    for (const method of ['GET', 'POST', 'DELETE']) expect(text).toMatch(new RegExp(`^http_requests_in_flight\\{method="${method}"\\} 0$`, 'm'));
  });

  it('rejects bad options with stable codes', () => {
    expect(() => instrument(() => undefined, {} as never)).toThrow(LookoutError);
    try {
      instrument(() => undefined, { registry: new Registry(), statusLabel: 'weird' as never });
    } catch (error) {
      expect((error as LookoutError).code).toBe('LOOKOUT_E_INVALID_OPTION');
    }
    expect(() => instrument(() => undefined, { registry: new Registry(), headerLabels: { 'bad-label': 'x-a' } })).toThrow(/LOOKOUT_E_INVALID_LABEL_NAME/);
  });
});

describe('response sizes on one keep-alive connection', () => {
  it('sizes each response by its own bytes, pipelined requests included', async () => {
    const registry = new Registry();
    const big = 'x'.repeat(5000);
    const server = http.createServer(instrument((req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/fixed') {
        res.writeHead(200, { 'content-length': big.length });
        res.end(big);
      } else {
        res.write('chunk one;'); // chunked: no Content-Length
        res.end('chunk two');
      }
    }, { registry, routes: ['/fixed', '/chunked'] }));
    const base = new URL(await serve(server));
    // Three requests written at once on one connection: fixed, chunked, chunked.
    const { connect } = await import('node:net');
    const socket = connect(Number(base.port), base.hostname);
    const request = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    socket.write(request('/fixed') + request('/chunked') + request('/chunked'));
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    await waitFor(() => received.split('HTTP/1.1 200').length === 4 && received.endsWith('0\r\n\r\n'));
    socket.destroy();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 3);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/fixed"')).toBe(5000);
    // Each chunked response: its chunks as framed on the wire, not the fixed response's bytes.
    const chunked = 'a\r\nchunk one;\r\n9\r\nchunk two\r\n0\r\n\r\n';
    expect(received.split(chunked).length).toBe(3);
    expect(sumOf(text, 'http_response_size_bytes_count', 'route="/chunked"')).toBe(2);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/chunked"')).toBe(2 * chunked.length);
  });
});

describe('series chosen per request', () => {
  it('counts each request under its own route, method and status when they alternate', async () => {
    const registry = new Registry();
    const server = http.createServer(instrument((req: http.IncomingMessage, res: http.ServerResponse) => {
      res.statusCode = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
      res.end();
    }, { registry, routes: ['/a/:id', '/b/:id'] }));
    const base = await serve(server);
    const sequence: [string, string, number][] = [['GET', '/a/1', 200], ['GET', '/a/2', 200], ['GET', '/a/3', 404], ['POST', '/a/4', 404], ['POST', '/b/5', 404], ['GET', '/b/6', 500], ['GET', '/a/7', 200], ['GET', '/b/8', 500]];
    for (const [method, path, status] of sequence) await (await fetch(`${base}${path}?status=${status}`, { method })).arrayBuffer();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === sequence.length);
    const text = await registry.metrics();
    const count = (method: string, route: string, status: number): number => sumOf(text, 'http_requests_total', `method="${method}"`, `route="${route}"`, `status="${status}"`);
    expect([count('GET', '/a/:id', 200), count('GET', '/a/:id', 404), count('POST', '/a/:id', 404), count('POST', '/b/:id', 404), count('GET', '/b/:id', 500)]).toEqual([3, 1, 1, 1, 2]);
  });
});

describe('response sizes of every kind on one connection', () => {
  it('sizes declared, bodiless and chunked responses alike on one connection, in any order', async () => {
    const registry = new Registry();
    const body = 'y'.repeat(1234);
    const server = http.createServer(instrument((req: http.IncomingMessage, res: http.ServerResponse) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': body.length }); // as Fastify declares it
        res.end(body);
      } else if (req.url === '/capitalised') {
        res.setHeader('Content-Length', body.length); // as Express writes it
        res.end(body);
      } else if (req.url === '/shouting') {
        res.writeHead(200, { 'CONTENT-LENGTH': body.length });
        res.end(body);
      } else if (req.url === '/empty') {
        res.statusCode = 204;
        res.end();
      } else {
        res.write('chunk one;');
        res.end('chunk two');
      }
    }, { registry, routes: ['/declared', '/capitalised', '/shouting', '/empty', '/chunked'] }));
    const base = new URL(await serve(server));
    const { connect } = await import('node:net');
    const socket = connect(Number(base.port), base.hostname);
    const request = (path: string, method = 'GET'): string => `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const sequence = [request('/declared'), request('/chunked'), request('/declared', 'HEAD'), request('/empty'), request('/capitalised'), request('/chunked'), request('/shouting'), request('/chunked')];
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    // Half pipelined, half one at a time.
    socket.write(sequence.slice(0, 4).join(''));
    await waitFor(() => received.split('HTTP/1.1 ').length === 5);
    for (const next of sequence.slice(4)) {
      const before = received.split('HTTP/1.1 ').length;
      socket.write(next);
      await waitFor(() => received.split('HTTP/1.1 ').length === before + 1 && (received.endsWith(body) || received.endsWith('0\r\n\r\n')));
    }
    socket.destroy();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 8);
    const text = await registry.metrics();
    // A chunked body is counted as sent, framing included, so the expected sum is read off
    // the wire: node 20 and 22 frame each write() as a chunk (`a\r\nchunk one;\r\n9\r\nchunk
    // two\r\n0\r\n\r\n`, 34 bytes), node 24 and later gather the writes of one tick into one
    // chunk unless they were pipelined (`13\r\nchunk one;chunk two\r\n0\r\n\r\n`, 30 bytes).
    const chunkedBodies = received.split(/(?=HTTP\/1\.1 )/).filter((response) => /^transfer-encoding: chunked\r$/im.test(response)).map((response) => response.slice(response.indexOf('\r\n\r\n') + 4));
    expect(chunkedBodies.map(unchunk)).toEqual(['chunk one;chunk two', 'chunk one;chunk two', 'chunk one;chunk two']);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/declared"', 'method="GET"')).toBe(1234);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/declared"', 'method="HEAD"')).toBe(0);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/empty"')).toBe(0);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/capitalised"')).toBe(1234);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/shouting"')).toBe(1234);
    expect(sumOf(text, 'http_response_size_bytes_count', 'route="/chunked"')).toBe(3);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/chunked"')).toBe(chunkedBodies.join('').length);
  });
});

describe('hono instrument(app)', () => {
  it('labels by the answering route, counts errors through a later onError, and measures without node:http', async () => {
    const { Hono } = await import('hono');
    const { instrument: instrumentHono } = await import('./hono.js');
    const registry = new Registry();
    const app = new Hono();
    app.use('/api/*', async (_c, next) => next());
    app.get('/api/items/:id', (c) => c.text(`item ${c.req.param('id')}`));
    app.get('/api/inner', async (c) => c.text(`inner saw ${(await app.request('/api/items/9')).status}`));
    app.get('/api/fail', () => {
      throw new RangeError('bad range');
    });
    instrumentHono(app, { registry });
    app.onError((error, c) => c.text(`handled ${error.name}`, 503));
    // No node:http bindings: the fetch runtime path (Bun, Deno, workers).
    expect(await (await app.request('/api/items/1')).text()).toBe('item 1');
    expect(await (await app.request('/api/inner')).text()).toBe('inner saw 200');
    expect((await app.request('/api/fail')).status).toBe(503);
    expect((await app.request('/api/nothing')).status).toBe(404);
    expect((await app.request('/api/items/2', { method: 'HEAD' })).status).toBe(200);
    expect((await app.request('/metrics')).status).toBe(200);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/api/items/:id"', 'method="GET"')).toBe(2); // one nested in /api/inner
    expect(sumOf(text, 'http_requests_total', 'route="/api/inner"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/api/items/:id"', 'method="HEAD"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/api/fail"', 'status="503"')).toBe(1);
    expect(sumOf(text, 'http_exceptions_total', 'route="/api/fail"', 'exception="RangeError"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="__unmatched__"', 'status="404"')).toBe(1);
    expect(text).not.toContain('route="/metrics"');
  });

  it('names the answering route alike with each of Hono\'s routers, over node:http, routes interleaved', async () => {
    const { Hono } = await import('hono');
    const { createAdaptorServer } = await import('@hono/node-server');
    const { RegExpRouter } = await import('hono/router/reg-exp-router');
    const { TrieRouter } = await import('hono/router/trie-router');
    const { LinearRouter } = await import('hono/router/linear-router');
    const { PatternRouter } = await import('hono/router/pattern-router');
    const { instrument: instrumentHono } = await import('./hono.js');
    const routers = { smart: undefined, regexp: () => new RegExpRouter(), trie: () => new TrieRouter(), linear: () => new LinearRouter(), pattern: () => new PatternRouter() };
    for (const [name, router] of Object.entries(routers)) {
      const registry = new Registry();
      const app = router === undefined ? new Hono() : new Hono({ router: router() as never });
      app.use('*', async (_c, next) => next());
      app.get('/users/:id', (c) => c.text(c.req.param('id')));
      app.get('/static', (c) => c.text('static'));
      app.get('/files/*', (c) => c.text('file'));
      instrumentHono(app, { registry });
      const server = createAdaptorServer(app) as http.Server;
      const base = await listen(server);
      try {
        const paths = ['/users/1', '/static', '/users/2', '/files/a/b', '/nowhere', '/users/3', '/users/3?x=1', '/static', '/files/c'];
        for (const path of paths) await (await fetch(base + path)).text();
        await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === paths.length);
        const text = await registry.metrics();
        expect(sumOf(text, 'http_requests_total', 'route="/users/:id"'), name).toBe(4);
        expect(sumOf(text, 'http_requests_total', 'route="/static"'), name).toBe(2);
        expect(sumOf(text, 'http_requests_total', 'route="/files/*"'), name).toBe(2);
        expect(sumOf(text, 'http_requests_total', 'route="__unmatched__"', 'status="404"'), name).toBe(1);
      } finally {
        await close(server);
      }
    }
  });

  it('refuses what is not a Hono app', async () => {
    const { instrument: instrumentHono } = await import('./hono.js');
    expect(() => instrumentHono({} as never, { registry: new Registry() })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_OPTION' }));
  });
});
