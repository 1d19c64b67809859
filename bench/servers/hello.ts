/**
 * A hello-world `/users/:id` server for the side-by-side benchmark:
 *   tsx bench/servers/hello.ts <fastify|express|hono|node> <bare|lookout|peer|noop|middleware>
 * (`noop`: the framework's cheapest hook doing nothing; `middleware`: Hono's
 * `app.use(metrics())`, where `lookout` is `instrument(app)`; `instrument`:
 * Express's `instrument(app)`, where `lookout` is its middleware; `floor`: the
 * bare app with lookout's mechanism doing nothing: its request listener
 * wrapped and a subscriber on node's response-finish channel, each reading
 * the clock, i.e. the cost of any recorder measured to the response's end;
 * `spin`: the bare app made slower by a known amount, `BENCH_SPIN_NS` (default
 * 1000) of busy waiting per request, to calibrate a method: it must read as
 * that much slower; `ladder1..3`: the floor plus lookout's pieces one by one, to
 * see what each costs inside a real server: 1 keeps each request's state as the
 * recorder does (LiveRequests), 2 also matches the route at the end, 3 also
 * counts the request and observes its duration in a bound series; 4 is 2 plus
 * the same counting deferred: durations go to a ring and are folded into the
 * series 256 at a time.)
 * Prints `READY <port>` once listening. Runs until killed.
 */
import diagnostics from 'node:diagnostics_channel';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import { Registry } from '../../src/index.js';

type Framework = 'fastify' | 'express' | 'hono' | 'node';
/** `noop`: the cheapest hook each framework offers, doing nothing (the floor of any middleware). */
type Variant = 'bare' | 'lookout' | 'peer' | 'noop' | 'middleware' | 'floor' | 'instrument' | 'spin' | 'ladder1' | 'ladder2' | 'ladder3' | 'ladder4';

const framework = process.argv[2] as Framework;
const variant = process.argv[3] as Variant;
/** Extra lookout options for experiments, e.g. BENCH_LOOKOUT_OPTIONS='{"exemplars":false}'. */
const extra = JSON.parse(process.env['BENCH_LOOKOUT_OPTIONS'] ?? '{}') as Record<string, unknown>;

async function fastifyServer(): Promise<http.Server> {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ logger: false });
  if (variant === 'lookout') {
    const { default: lookout } = await import('../../src/adapters/fastify.js');
    await app.register(lookout, { registry: new Registry(), ...extra });
  } else if (variant === 'peer') {
    const { default: fastifyMetrics } = await import('fastify-metrics');
    await app.register(fastifyMetrics as never, { endpoint: '/metrics' });
  } else if (variant === 'noop') {
    app.addHook('onRequest', (_request, _reply, done) => done());
    app.addHook('onResponse', (_request, _reply, done) => done());
  }
  app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id, name: 'Ada' }));
  await app.ready();
  return app.server;
}

async function expressServer(): Promise<http.Server> {
  const { default: express } = await import('express');
  const app = express();
  if (variant === 'lookout') {
    const { metrics } = await import('../../src/adapters/express.js');
    app.use(metrics({ registry: new Registry(), ...extra }));
  } else if (variant === 'instrument') {
    const { instrument } = await import('../../src/adapters/express.js');
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id, name: 'Ada' });
    });
    instrument(app, { registry: new Registry(), ...extra });
    return http.createServer(app);
  } else if (variant === 'peer') {
    const { default: promBundle } = await import('express-prom-bundle');
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  } else if (variant === 'noop') {
    app.use((_req, _res, next) => next());
  }
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: 'Ada' });
  });
  return http.createServer(app);
}

async function honoServer(): Promise<http.Server> {
  const { Hono } = await import('hono');
  const { createAdaptorServer } = await import('@hono/node-server');
  const app = new Hono();
  if (variant === 'middleware') {
    const { metrics } = await import('../../src/adapters/hono.js');
    app.use('*', metrics({ registry: new Registry(), ...extra }));
  } else if (variant === 'peer') {
    const { prometheus } = await import('@hono/prometheus');
    const { printMetrics, registerMetrics } = prometheus();
    app.use('*', registerMetrics);
    app.get('/metrics', printMetrics);
  } else if (variant === 'noop') {
    app.use('*', (_c, next) => next());
  }
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), name: 'Ada' }));
  if (variant === 'lookout') {
    // lookout's recommended Hono integration on Node: no middleware.
    const { instrument } = await import('../../src/adapters/hono.js');
    instrument(app, { registry: new Registry(), ...extra });
  }
  return createAdaptorServer(app) as http.Server;
}

async function nodeServer(): Promise<http.Server> {
  const match = /^\/users\/([^/?]+)/;
  const hello: http.RequestListener = (req, res) => {
    const found = match.exec(req.url ?? '');
    if (found === null) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const body = JSON.stringify({ id: found[1], name: 'Ada' });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (variant === 'lookout') {
    const { instrument } = await import('../../src/adapters/node.js');
    return http.createServer(instrument(hello, { registry: new Registry(), routes: ['/users/:id'], ...extra }));
  }
  if (variant === 'peer') {
    // prom-client wired by hand, the way its README shows.
    const client = await import('prom-client');
    const registry = new client.Registry();
    const requests = new client.Counter({ name: 'http_requests_total', help: 'Requests.', labelNames: ['method', 'route', 'status'], registers: [registry] });
    const duration = new client.Histogram({ name: 'http_request_duration_seconds', help: 'Duration.', labelNames: ['method', 'route', 'status'], registers: [registry] });
    return http.createServer((req, res) => {
      if (req.url === '/metrics') {
        void registry.metrics().then((text) => res.end(text));
        return;
      }
      const end = duration.startTimer();
      res.once('finish', () => {
        const labels = { method: req.method ?? 'GET', route: match.test(req.url ?? '') ? '/users/:id' : 'unmatched', status: String(res.statusCode) };
        requests.inc(labels);
        end(labels);
      });
      hello(req, res);
    });
  }
  if (variant === 'noop') return http.createServer((req, res) => hello(req, res));
  return http.createServer(hello);
}

const builders: Record<Framework, () => Promise<http.Server>> = { fastify: fastifyServer, express: expressServer, hono: honoServer, node: nodeServer };
const server = await builders[framework]();
type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;
/** Runs `before` ahead of the app's request listener (how lookout's own wrapper sits). */
function beforeEachRequest(before: Listener): void {
  const [listener] = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  server.on('request', function wrapped(this: http.Server, req: http.IncomingMessage, res: http.ServerResponse) {
    before(req, res);
    listener!.call(this, req, res);
  });
}
const onFinish = (subscriber: (request: http.IncomingMessage) => void): void =>
  diagnostics.subscribe('http.server.response.finish', (message) => subscriber((message as { request: http.IncomingMessage }).request));

if (variant === 'floor') {
  let last = 0;
  beforeEachRequest(() => {
    last = performance.now();
  });
  onFinish(() => {
    last = performance.now() - last;
  });
}
if (variant.startsWith('ladder')) {
  const level = Number(variant.slice(6));
  const { LiveRequests } = await import('../../src/http/live.js');
  const { RouteMatcher } = await import('../../src/http/route-matcher.js');
  const { pathOf } = await import('../../src/http/methods.js');
  const registry = new Registry();
  const requests = registry.counter({ name: 'http_requests_total', help: 'r', labelNames: ['route'] }).labels({ route: '/users/:id' });
  const duration = registry.histogram({ name: 'http_request_duration_seconds', help: 'd', labelNames: ['route'] }).labels({ route: '/users/:id' });
  const live = new LiveRequests();
  const matcher = new RouteMatcher(['/users/:id']);
  let matched = 0;
  const ring = new Float64Array(256);
  let filled = 0;
  beforeEachRequest((req, res) => {
    live.add(req, res).start = performance.now();
  });
  onFinish((request) => {
    const state = live.find(request);
    if (state === undefined) return;
    const elapsed = (performance.now() - state.start) / 1000;
    if (level >= 2 && matcher.match(pathOf(request.url)) !== undefined) matched++;
    if (level === 3) {
      requests.inc();
      duration.observe(elapsed);
    } else if (level === 4) {
      ring[filled++] = elapsed;
      if (filled === ring.length) {
        for (let index = 0; index < filled; index++) {
          requests.inc();
          duration.observe(ring[index]!);
        }
        filled = 0;
      }
    }
    live.remove(state);
  });
  process.on('exit', () => void matched);
}
if (variant === 'spin') {
  const milliseconds = Number(process.env['BENCH_SPIN_NS'] ?? 1000) / 1e6;
  beforeEachRequest(() => {
    const until = performance.now() + milliseconds;
    while (performance.now() < until);
  });
}
// Bytes allocated on the JavaScript heap between two SIGUSR2s (bench/alloc.ts): v8's GC
// profiler reports the heap before and after each collection, so what was allocated is what
// the collections freed plus how much the used heap grew over the window. Printed as `ALLOC <bytes>`.
let profiler: v8.GCProfiler | undefined;
let usedAtStart = 0;
process.on('SIGUSR2', () => {
  if (profiler === undefined) {
    profiler = new v8.GCProfiler();
    usedAtStart = v8.getHeapStatistics().used_heap_size;
    profiler.start();
    console.log('ALLOC started');
    return;
  }
  const usedAtEnd = v8.getHeapStatistics().used_heap_size;
  const report = profiler.stop() as unknown as { statistics: { beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }[] } | undefined;
  profiler = undefined;
  const freed = (report?.statistics ?? []).reduce((total, gc) => total + gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize, 0);
  console.log(`ALLOC ${usedAtEnd - usedAtStart + freed} ${report?.statistics.length ?? 0} collections`);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`READY ${(server.address() as AddressInfo).port}`);
});
// Exit normally on signals so `--cpu-prof` can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
