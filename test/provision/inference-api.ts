/**
 * The reference inference API (REFERENCE.md "The API being monitored"), instrumented with the
 * real lookout pieces: `instrument` (node adapter), `registerRuntimeMetrics`, `createKpi` with
 * `pgStore`, `trackConnections`. The only metrics it defines itself are the ones the example API
 * of issue 6 will own: `inference_active`, `inference_processing_duration_seconds`, and a
 * per-client counter with a deliberately small series cap (fed from the `onRequest` hook) so
 * that `lookout_series_overflow_total` has something to count.
 *
 * @example
 * ```ts
 * const api = await startInferenceApi({ databaseUrl, schema: 'verify_123', token: 'secret' });
 * await fetch(`${api.url}/inference/start`, { method: 'POST' });
 * await api.close();
 * ```
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { recordException, instrument } from '../../src/adapters/node.js';
import { registerRuntimeMetrics, Registry } from '../../src/index.js';
import { createKpi, pgStore, trackConnections } from '../../src/kpi/index.js';

/**
 * Route templates of the reference API.
 *
 * @example
 * ```ts
 * instrument(app, { registry, routes: ROUTES });
 * ```
 */
export const ROUTES = ['/inference/start', '/inference/status/:id', '/inference/results/:id', '/inference/select', '/inference/fail', '/healthz'] as const;
/**
 * Models the fake inferences run on.
 *
 * @example
 * ```ts
 * MODELS[0]; // 'resnet-50'
 * ```
 */
export const MODELS = ['resnet-50', 'vit-b16'] as const;

/**
 * A running instance of the reference API.
 *
 * @example
 * ```ts
 * const api: InferenceApi = await startInferenceApi({ databaseUrl, schema, token });
 * ```
 */
export interface InferenceApi {
  readonly url: string;
  /** `127.0.0.1:<port>`, the scrape target. */
  readonly target: string;
  readonly registry: Registry;
  close(): Promise<void>;
}

/**
 * Starts the reference API on an ephemeral 127.0.0.1 port, KPI events to `schema` of `databaseUrl`.
 *
 * @example
 * ```ts
 * const api = await startInferenceApi({ databaseUrl: PG_URL, schema: 'verify_1', token: 'secret' });
 * ```
 */
export async function startInferenceApi(options: { readonly databaseUrl: string; readonly schema: string; readonly token: string }): Promise<InferenceApi> {
  const registry = new Registry();
  const runtime = registerRuntimeMetrics(registry);
  const kpi = createKpi({
    registry,
    store: pgStore({ connectionString: options.databaseUrl, schema: options.schema }),
    events: ['inference_start', 'good_inference', 'bad_inference'],
    flushIntervalMs: 200,
  });
  const active = registry.gauge({ name: 'inference_active', help: 'Inferences started and not yet fetched.' });
  const processing = registry.histogram({ name: 'inference_processing_duration_seconds', help: 'Model time per inference.', unit: 'seconds', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
  const byClient = registry.counter({ name: 'inference_requests_by_client_total', help: 'Requests by x-client header (capped on purpose).', labelNames: ['client'], maxSeries: 3 });
  const jobs = new Map<string, { done: boolean; model: string }>();

  const app = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, , action, id] = url.pathname.split('/');
    if (req.method === 'POST' && url.pathname === '/inference/start') {
      const jobId = randomUUID();
      const model = MODELS[jobs.size % MODELS.length]!;
      const body = await readBody(req);
      jobs.set(jobId, { done: false, model });
      active.inc();
      kpi.record('inference_start', { user: String(body['user'] ?? 'anonymous'), model, args: { size: String(body['size'] ?? 'small') } });
      const seconds = 0.005 + Math.random() * 0.04;
      setTimeout(() => {
        processing.observe(seconds);
        jobs.get(jobId)!.done = true;
      }, seconds * 1000).unref();
      return json(res, 202, { id: jobId });
    }
    if (req.method === 'GET' && (action === 'status' || action === 'results')) {
      const job = jobs.get(id ?? '');
      if (job === undefined) return json(res, 404, { error: 'unknown inference' });
      if (action === 'status') return json(res, 200, { status: job.done ? 'done' : 'running' });
      if (!job.done) return json(res, 409, { error: 'not ready' });
      jobs.delete(id!);
      active.dec();
      return json(res, 200, { id, label: 'cat', model: job.model });
    }
    if (req.method === 'PUT' && url.pathname === '/inference/select') {
      const body = await readBody(req);
      kpi.record(body['good'] === true ? 'good_inference' : 'bad_inference', { user: String(body['user'] ?? 'anonymous'), model: String(body['model'] ?? MODELS[0]), args: { size: String(body['size'] ?? 'small') } });
      res.statusCode = 204;
      res.end();
      return;
    }
    if (url.pathname === '/inference/fail') {
      recordException(req, new TypeError('model crashed'));
      return json(res, 500, { error: 'model crashed' });
    }
    if (url.pathname === '/healthz') return json(res, 200, { ok: true });
    return json(res, 404, { error: 'not found' });
  };

  const server = createServer(
    instrument(app, {
      registry,
      routes: ROUTES,
      token: options.token,
      appName: 'inference-api',
      onRequest: (req) => byClient.labels({ client: String(req.headers['x-client'] ?? 'none') }).inc(),
    }),
  );
  trackConnections(server, registry);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    registry,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await kpi.close();
      runtime.stop();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  try {
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    return {};
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
