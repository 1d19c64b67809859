/**
 * Issue 23, Express 5 and 4: apps written the way Express's guide writes
 * them (app.route, express.Router, nested routers, mergeParams, error
 * middleware) must get the same answers and exact counts with lookout.
 */
import express, { type ErrorRequestHandler } from 'express';
import express4 from 'express4';
import http from 'node:http';
import { describe, it } from 'vitest';
import type { Registry } from '../core/registry.js';
import { checkConformance, serverTarget, UNMATCHED, type Call } from './conformance.test-support.js';
import { instrument, metrics } from './express.js';

const FACTORIES = { 'express 5': express, 'express 4': express4 as unknown as typeof express };
type Form = 'metrics() middleware' | 'instrument(app)';

/** The app of Express's routing guide, with lookout attached in `form` (or not at all). */
function expressApp(factory: typeof express, registry: Registry | undefined, form: Form): http.Server {
  const app = factory();
  const lookout = registry !== undefined && form === 'metrics() middleware' ? metrics({ registry }) : undefined;
  if (lookout !== undefined) app.use(lookout);
  app.use(factory.json());
  app.get('/', (_req, res) => {
    res.send('Hello World!');
  });
  app.route('/book')
    .get((_req, res) => {
      res.send('Get a random book');
    })
    .post((req, res) => {
      res.status(201).json({ added: (req.body as { title?: string }).title });
    });
  const birds = factory.Router();
  birds.use((_req, res, next) => {
    res.set('x-birds', 'yes');
    next();
  });
  birds.get('/about', (_req, res) => {
    res.send('About birds');
  });
  app.use('/birds', birds);
  const v1 = factory.Router();
  v1.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  const api = factory.Router();
  api.use('/v1', v1);
  app.use('/api', api);
  const posts = factory.Router({ mergeParams: true });
  posts.get('/:postId', (req, res) => {
    res.json(req.params);
  });
  app.use('/users/:userId/posts', posts);
  app.get('/boom', () => {
    throw new Error('broke');
  });
  if (lookout !== undefined) app.use(lookout.errors);
  const errorHandler: ErrorRequestHandler = (_error, _req, res, _next) => {
    res.status(500).send('Something broke!');
  };
  app.use(errorHandler);
  if (registry !== undefined && form === 'instrument(app)') instrument(app, { registry });
  return http.createServer(app);
}

const EXPRESS_CALLS: readonly Call[] = [
  { method: 'GET', path: '/', route: '/' },
  { method: 'GET', path: '/book', route: '/book' },
  { method: 'POST', path: '/book', headers: { 'content-type': 'application/json' }, body: '{"title":"Dune"}', route: '/book' },
  { method: 'GET', path: '/birds/about', route: '/birds/about' },
  { method: 'GET', path: '/api/v1/users/3?x=1', route: '/api/v1/users/:id' },
  { method: 'GET', path: '/boom', route: '/boom' },
  { method: 'GET', path: '/no/such/page', route: UNMATCHED },
  { method: 'DELETE', path: '/book', route: UNMATCHED },
];

describe.each(Object.keys(FACTORIES) as (keyof typeof FACTORIES)[])('%s, documented apps', (version) => {
  describe.each(['metrics() middleware', 'instrument(app)'] as const)('lookout: %s', (form) => {
    const build = (registry: Registry | undefined) => serverTarget(expressApp(FACTORIES[version], registry, form), 'http1.1');

    it('app.route, routers, nested routers, error middleware: same answers, exact counts, nothing left in flight', async () => {
      await checkConformance(build, EXPRESS_CALLS);
    });

    it('express.Router({ mergeParams: true }) under a parameterised mount path is labelled by its template', async () => {
      await checkConformance(build, [{ method: 'GET', path: '/users/7/posts/9', route: '/users/:userId/posts/:postId' }]);
    });
  });
});
