/**
 * Micro-benchmarks against prom-client, same process, interleaved rounds:
 *  1. a labelled counter `inc` + histogram `observe` (what a request costs);
 *  2. rendering 10,000 histogram series, with the longest event-loop block;
 *  3. lookout's own work for one HTTP request, in process, as the Fastify
 *     plugin does it (track when the request arrives; route match, counters,
 *     three histograms, sizes when it finishes), on node's own request and
 *     response objects: the steady figure behind the noisy throughput table.
 *
 *   npx tsx bench/micro.ts
 */
import http from 'node:http';
import net from 'node:net';
import client from 'prom-client';
import { FastifyRoutes, fastifyPathRules } from '../src/adapters/fastify-routes.js';
import { createRecorder } from '../src/adapters/shared.js';
import { Registry } from '../src/index.js';
import { emit, median, ROUNDS, spread } from './lib.js';

const OPS = 1_000_000;
const SERIES = 10_000;
const LABELS = { method: 'GET', route: '/users/:id', status: '200' };

function timeNs(ops: number, body: () => void): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / ops;
}

function hotPath(): { lookoutBound: () => number; lookoutLookup: () => number; promClient: () => number; promClientChild: () => number } {
  const registry = new Registry();
  const requests = registry.counter({ name: 'http_requests_total', help: 'r', labelNames: ['method', 'route', 'status'] });
  const duration = registry.histogram({ name: 'http_request_duration_seconds', help: 'd', labelNames: ['method', 'route', 'status'] });
  const boundRequests = requests.labels(LABELS);
  const boundDuration = duration.labels(LABELS);
  const promRegistry = new client.Registry();
  const promRequests = new client.Counter({ name: 'http_requests_total', help: 'r', labelNames: ['method', 'route', 'status'], registers: [promRegistry] });
  const promDuration = new client.Histogram({ name: 'http_request_duration_seconds', help: 'd', labelNames: ['method', 'route', 'status'], registers: [promRegistry] });
  const promRequestsChild = promRequests.labels(LABELS);
  const promDurationChild = promDuration.labels(LABELS);
  return {
    lookoutBound: () => timeNs(OPS, () => {
      for (let index = 0; index < OPS; index++) {
        boundRequests.inc();
        boundDuration.observe((index & 1023) / 4096);
      }
    }),
    lookoutLookup: () => timeNs(OPS, () => {
      for (let index = 0; index < OPS; index++) {
        requests.labels(LABELS).inc();
        duration.labels(LABELS).observe((index & 1023) / 4096);
      }
    }),
    promClient: () => timeNs(OPS, () => {
      for (let index = 0; index < OPS; index++) {
        promRequests.inc(LABELS);
        promDuration.observe(LABELS, (index & 1023) / 4096);
      }
    }),
    promClientChild: () => timeNs(OPS, () => {
      for (let index = 0; index < OPS; index++) {
        promRequestsChild.inc();
        promDurationChild.observe((index & 1023) / 4096);
      }
    }),
  };
}

/** Requests in flight at once in {@link requestCost} (autocannon's 50 connections). */
const IN_FLIGHT = 50;

/**
 * ns per request of the recorder's own work, as the Fastify plugin drives it:
 * `track` on arrival (after the skip-path check), `finish` at the end (route
 * match by method and path, request counter, duration and size histograms
 * with exemplar-less observes, in-flight gauge). 50 requests in flight on 50
 * connections, real `IncomingMessage` / `ServerResponse` objects, reused.
 */
function requestCost(): () => number {
  const routes = new FastifyRoutes(fastifyPathRules(undefined));
  routes.add(['GET', 'HEAD'], '/users/:id');
  routes.add(['GET', 'HEAD'], '/metrics');
  const { recorder } = createRecorder({ registry: new Registry() }, (req, _res, method) => routes.match(method, req.url));
  const pairs = Array.from({ length: IN_FLIGHT }, (_, index) => {
    const req = new http.IncomingMessage(new net.Socket());
    req.url = `/users/${index}`;
    req.method = 'GET';
    req.rawHeaders = ['Host', '127.0.0.1:3000', 'Connection', 'keep-alive', 'User-Agent', 'autocannon'];
    const res = new http.ServerResponse(req);
    res.statusCode = 200;
    // What node leaves on a response that declared its length (read at finish instead of the socket's byte count).
    Object.assign(res, { _header: 'HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: 24\r\n\r\n', _contentLength: 24 });
    return { req, res };
  });
  const batches = OPS / IN_FLIGHT;
  return () => timeNs(OPS, () => {
    for (let batch = 0; batch < batches; batch++) {
      for (let index = 0; index < IN_FLIGHT; index++) {
        const { req, res } = pairs[index]!;
        if (!recorder.skips(req.url)) recorder.track(req, res, undefined);
      }
      for (let index = 0; index < IN_FLIGHT; index++) {
        const { req, res } = pairs[index]!;
        recorder.finish(req, res);
      }
    }
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Times a render and the longest event-loop block during it: a 1 ms interval
 * timer notes the largest gap between its ticks (a conservative figure: it
 * includes the timer's own 1 ms).
 */
async function measureRender(render: () => Promise<string>): Promise<{ ms: number; maxBlockMs: number; bytes: number }> {
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  await sleep(5);
  maxGap = 0;
  last = performance.now();
  const start = performance.now();
  const text = await render();
  const ms = performance.now() - start;
  await sleep(5); // the tick that was held up lands here
  clearInterval(ticker);
  return { ms, maxBlockMs: maxGap, bytes: text.length };
}

function renderSetup(): { lookout: () => Promise<string>; promClient: () => Promise<string> } {
  const registry = new Registry();
  const histogram = registry.histogram({ name: 'api_request_duration_seconds', help: 'd', labelNames: ['route', 'status'], maxSeries: SERIES });
  const promRegistry = new client.Registry();
  const promHistogram = new client.Histogram({ name: 'api_request_duration_seconds', help: 'd', labelNames: ['route', 'status'], registers: [promRegistry] });
  for (let index = 0; index < SERIES; index++) {
    const labels = { route: `/route/${index % 2500}`, status: String(200 + (index % 4)) };
    histogram.labels(labels).observe((index % 97) / 50);
    promHistogram.observe(labels, (index % 97) / 50);
  }
  return { lookout: () => registry.metrics(), promClient: () => promRegistry.metrics() };
}

/** Runs the micro-benchmarks; returns markdown table rows. */
export async function runMicroBench(): Promise<string[]> {
  const hot = hotPath();
  const results: Record<string, number[]> = { lookoutBound: [], lookoutLookup: [], promClient: [], promClientChild: [] };
  for (const run of Object.values(hot)) run(); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(hot)) results[name]!.push(run());
  }
  const bound = median(results['lookoutBound']!);
  const prom = median(results['promClient']!);
  emit({ bench: 'inc+observe', unit: 'ns/op', ...Object.fromEntries(Object.entries(results).map(([name, values]) => [name, median(values)])), speedup: prom / bound });
  const rows = [
    `| labelled \`inc\` + \`observe\`, lookout pre-bound handles | ${bound.toFixed(1)} ns (${spread(results['lookoutBound']!, 1)}) | prom-client \`inc(labels)\` + \`observe(labels, v)\`: ${prom.toFixed(1)} ns (${spread(results['promClient']!, 1)}) | **${(prom / bound).toFixed(1)}×** |`,
    `| the same, lookout \`labels({...})\` looked up on every call | ${median(results['lookoutLookup']!).toFixed(1)} ns (${spread(results['lookoutLookup']!, 1)}) | prom-client \`.labels()\` child: ${median(results['promClientChild']!).toFixed(1)} ns (${spread(results['promClientChild']!, 1)}) | ${(median(results['promClientChild']!) / median(results['lookoutLookup']!)).toFixed(1)}× |`,
  ];

  const cost = requestCost();
  cost(); // warm-up
  const costs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) costs.push(cost());
  emit({ bench: 'request-cost', unit: 'ns/request', lookout: median(costs), spread: spread(costs, 1) });
  rows.push(`| lookout's own work for one HTTP request, in process (Fastify plugin path: track, then route match, counter, 3 histograms, in-flight gauge at finish; 50 in flight) | ${median(costs).toFixed(0)} ns (${spread(costs, 0)}) | | |`);

  const render = renderSetup();
  for (let warm = 0; warm < 5; warm++) {
    await render.lookout();
    await render.promClient();
  }
  const renders: Record<'lookout' | 'promClient', { ms: number; maxBlockMs: number; bytes: number }[]> = { lookout: [], promClient: [] };
  for (let round = 0; round < ROUNDS * 2; round++) {
    renders.lookout.push(await measureRender(render.lookout));
    renders.promClient.push(await measureRender(render.promClient));
  }
  const lookoutMs = median(renders.lookout.map((r) => r.ms));
  const promMs = median(renders.promClient.map((r) => r.ms));
  const lookoutBlock = Math.max(...renders.lookout.map((r) => r.maxBlockMs));
  const promBlock = Math.max(...renders.promClient.map((r) => r.maxBlockMs));
  emit({ bench: 'render-10k-histograms', unit: 'ms', lookout: lookoutMs, promClient: promMs, speedup: promMs / lookoutMs, lookoutMaxBlockMs: lookoutBlock, promClientMaxBlockMs: promBlock, bytes: renders.lookout[0]!.bytes });
  rows.push(
    `| render 10,000 histogram series (${(renders.lookout[0]!.bytes / 1e6).toFixed(1)} MB text) | ${lookoutMs.toFixed(1)} ms (${spread(renders.lookout.map((r) => r.ms), 1)}), longest event-loop block ${lookoutBlock.toFixed(1)} ms | prom-client \`registry.metrics()\`: ${promMs.toFixed(1)} ms (${spread(renders.promClient.map((r) => r.ms), 1)}), longest block ${promBlock.toFixed(1)} ms | **${(promMs / lookoutMs).toFixed(1)}×** |`,
  );
  return rows;
}

/** Header of the table {@link runMicroBench} fills. */
export const MICRO_TABLE_HEADER = ['| what | lookout (median, spread) | peer (median, spread) | speed-up |', '|---|---|---|---|'];

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runMicroBench();
  console.log([...MICRO_TABLE_HEADER, ...rows].join('\n'));
}
