/**
 * The same small app in each framework, for the adapter tests: every
 * adapter must record the same metric names and labels.
 */
import { createAdaptorServer } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { stream as honoStream } from 'hono/streaming';
import http from 'node:http';
import type { Registry } from '../core/registry.js';
import lookoutFastify from './fastify.js';
import { instrument as instrumentExpress, metrics as expressMetrics } from './express.js';
import { instrument as instrumentHono, metrics as honoMetrics } from './hono.js';
import { instrument, recordException } from './node.js';
import type { AdapterOptions } from './shared.js';

/** `hono-instrument`, `express-instrument`: `instrument(app)` instead of the middleware. */
export type Framework = 'fastify' | 'express' | 'express-instrument' | 'hono' | 'hono-instrument' | 'node';
export const FRAMEWORKS: readonly Framework[] = ['fastify', 'express', 'express-instrument', 'hono', 'hono-instrument', 'node'];

/** Thrown by `/boom`; the tests expect its class name as the exception label. */
export class ModelError extends Error {}

const user = (id: string) => JSON.stringify({ id, name: 'Ada' });
const CHUNK_DELAY_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes three chunks 100 ms apart: the duration must run to the last one. */
async function writeChunks(write: (text: string) => unknown): Promise<void> {
  for (let index = 0; index < 3; index++) {
    await write(`chunk ${index}\n`);
    await sleep(CHUNK_DELAY_MS);
  }
}

/** Builds a node http.Server for `framework` with lookout installed. */
export async function buildApp(framework: Framework, options: Omit<AdapterOptions, 'registry'> & { registry: Registry }): Promise<http.Server> {
  switch (framework) {
    case 'fastify': {
      const app = Fastify();
      await app.register(lookoutFastify, options);
      app.get('/users/:id', async (request) => user((request.params as { id: string }).id));
      app.get('/boom', async () => {
        throw new ModelError('model failed');
      });
      app.post('/echo', async (request) => String(request.body ?? ''));
      app.addContentTypeParser('application/octet-stream', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      app.get('/stream', (_request, reply) => {
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        void writeChunks((text) => reply.raw.write(text)).then(() => reply.raw.end());
        return reply.hijack();
      });
      await app.ready();
      return app.server;
    }
    case 'express':
    case 'express-instrument': {
      const app = express();
      const lookout = framework === 'express' ? expressMetrics(options) : undefined;
      if (lookout !== undefined) app.use(lookout);
      app.get('/users/:id', (req, res) => {
        res.type('json').send(user(req.params.id));
      });
      app.get('/boom', () => {
        throw new ModelError('model failed');
      });
      app.post('/echo', express.text({ type: '*/*' }), (req, res) => {
        res.send(String(req.body ?? ''));
      });
      app.get('/stream', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        void writeChunks((text) => res.write(text)).then(() => res.end());
      });
      if (lookout !== undefined) app.use(lookout.errors);
      else instrumentExpress(app, options);
      return http.createServer(app);
    }
    case 'hono':
    case 'hono-instrument': {
      const app = new Hono();
      if (framework === 'hono') app.use('*', honoMetrics(options));
      // Middleware of the app's own: instrument() must not take it for the answering route.
      else app.use('*', async (c, next) => {
        await next();
        c.header('x-app', 'demo');
      });
      app.get('/users/:id', (c) => c.body(user(c.req.param('id')), 200, { 'content-type': 'application/json' }));
      app.get('/boom', () => {
        throw new ModelError('model failed');
      });
      app.post('/echo', async (c) => c.text(await c.req.text()));
      app.get('/stream', (c) => honoStream(c, (stream) => writeChunks((text) => stream.write(text))));
      if (framework === 'hono-instrument') instrumentHono(app, options);
      return createAdaptorServer(app) as http.Server;
    }
    case 'node': {
      const listener = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
        const url = req.url ?? '/';
        if (url.startsWith('/users/')) {
          res.setHeader('content-type', 'application/json');
          res.end(user(url.slice(7)));
        } else if (url === '/boom') {
          res.statusCode = 500;
          res.end('failed');
          recordException(req, new ModelError('model failed'));
        } else if (url === '/echo') {
          let body = '';
          for await (const chunk of req) body += String(chunk);
          res.end(body);
        } else if (url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          await writeChunks((text) => res.write(text));
          res.end();
        } else {
          res.statusCode = 404;
          res.end('not found');
        }
      };
      const server = http.createServer(instrument(listener, { ...options, routes: ['/users/:id', '/boom', '/echo', '/stream'] }));
      return server;
    }
  }
}
