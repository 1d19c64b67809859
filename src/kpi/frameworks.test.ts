import type { Server } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import { Registry } from '../core/registry.js';
import { trackConnections } from './connections.js';
import { createKpi, type Kpi } from './kpi.js';

type Events = 'good_inference' | 'bad_inference';

// Apps type `request.kpi` with a module augmentation (see frameworks.ts); a test
// file must not augment fastify for the whole project, so it casts instead.
type WithKpi = { kpi: Kpi<Events> };

function setup() {
  const registry = new Registry();
  const store = new MemoryStore();
  const kpi = createKpi({ registry, store, events: ['good_inference', 'bad_inference'] });
  return { registry, store, kpi };
}

async function openConnections(registry: Registry): Promise<number> {
  const line = (await registry.metrics()).split('\n').find((text) => text.startsWith('http_server_connections_open '));
  return Number(line?.split(' ')[1]);
}

async function listening(server: Server): Promise<number> {
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

describe('framework access to the recorder', () => {
  it('fastify: request.kpi and app.kpi, and connection tracking on app.server', async () => {
    const { registry, store, kpi } = setup();
    const app = Fastify();
    trackConnections(app.server, registry);
    await app.register(kpi.fastify());
    app.get('/users/:id', (request) => {
      const { kpi: fromRequest } = request as unknown as WithKpi;
      fromRequest.record('good_inference', { user: (request.params as { id: string }).id });
      return { ok: (app as unknown as WithKpi).kpi === fromRequest };
    });
    const port = await app.listen({ port: 0, host: '127.0.0.1' }).then(() => listening(app.server));
    const response = await fetch(`http://127.0.0.1:${port}/users/7`);
    expect(await response.json()).toEqual({ ok: true });
    expect(await openConnections(registry)).toBeGreaterThanOrEqual(1);
    await app.close();
    await kpi.flush();
    expect(store.sorted().map((row) => row.user)).toEqual(['7']);
    await kpi.close();
  });

  it('express: req.kpi, and connection tracking on the server app.listen returns', async () => {
    const { registry, store, kpi } = setup();
    const app = express();
    app.use(kpi.express());
    app.get('/users/:id', (request, response) => {
      (request as unknown as WithKpi).kpi.record('bad_inference', { user: request.params.id });
      response.send('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    trackConnections(server, registry);
    const port = await listening(server);
    expect(await (await fetch(`http://127.0.0.1:${port}/users/8`)).text()).toBe('ok');
    expect(await openConnections(registry)).toBeGreaterThanOrEqual(1);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await kpi.flush();
    expect(store.sorted().map((row) => [row.event, row.user])).toEqual([['bad_inference', '8']]);
    await kpi.close();
  });

  it('hono: c.get("kpi"), and connection tracking on the server serve() returns', async () => {
    const { registry, store, kpi } = setup();
    const app = new Hono<{ Variables: { kpi: typeof kpi } }>();
    app.use(kpi.hono());
    app.get('/users/:id', (c) => {
      c.get('kpi').record('good_inference', { user: c.req.param('id') });
      return c.text('ok');
    });
    expect(await (await app.request('/users/9')).text()).toBe('ok');
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as unknown as Server;
    trackConnections(server, registry);
    const port = await listening(server);
    expect(await (await fetch(`http://127.0.0.1:${port}/users/10`)).text()).toBe('ok');
    expect(await openConnections(registry)).toBeGreaterThanOrEqual(1);
    (server as unknown as { closeAllConnections(): void }).closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await kpi.flush();
    expect(store.sorted().map((row) => row.user)).toEqual(['9', '10']);
    await kpi.close();
  });
});
