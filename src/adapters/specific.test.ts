import express from 'express';
import Fastify from 'fastify';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { close, listen, sumOf, waitFor } from '../../test/support/http.js';
import lookoutFastify from './fastify.js';
import { metrics as expressMetrics } from './express.js';
import { instrument } from './node.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function serve(server: http.Server): Promise<string> {
  servers.push(server);
  return listen(server);
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

  it('can serve metrics elsewhere: metricsPath false leaves /metrics to the app', async () => {
    const registry = new Registry();
    const app = Fastify();
    await app.register(lookoutFastify, { registry, metricsPath: false });
    await app.ready();
    const base = await serve(app.server);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
  });
});

describe('express', () => {
  it('gives nested routers their full template (baseUrl + route.path)', async () => {
    const registry = new Registry();
    const app = express();
    app.use(expressMetrics({ registry }));
    const v1 = express.Router();
    v1.get('/users/:id/posts/:post', (_req, res) => {
      res.send('ok');
    });
    const api = express.Router();
    api.use('/v1', v1);
    app.use('/api', api);
    const base = await serve(http.createServer(app));
    expect((await fetch(`${base}/api/v1/users/3/posts/9`)).status).toBe(200);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 1);
    expect(sumOf(await registry.metrics(), 'http_requests_total', 'route="/api/v1/users/:id/posts/:post"')).toBe(1);
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
