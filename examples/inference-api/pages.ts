/**
 * Content routes: a home page, API docs, the served model, and a health check (not recorded in
 * the HTTP metrics, as the reference skips its health and favicon paths).
 *
 * @example
 * ```ts
 * registerContentRoutes(app, { service, kpi, queue });
 * ```
 */
import type { FastifyInstance } from 'fastify';
import type { Kpi } from '../../src/kpi/index.js';
import type { JobQueue } from './queue.js';
import { userOf, type InferenceEvent } from './routes.js';
import type { ModelService } from './service.js';

const ENDPOINTS: readonly (readonly [string, string])[] = [
  ['POST /inference/start', '{ "points": [[x, y], ...], "samples"?: 1..4096 } → 202 { id }; 503 when the queue is full'],
  ['GET /inference/status/:id', '→ { status: queued | running | done | failed }'],
  ['GET /inference/results/:id', '→ { predictions: [{ label, confidence }], model, processingSeconds }; 409 while running; 422 outside the training domain'],
  ['PUT /inference/select', '{ "id", "good": true|false, "labels"?: [...] } → 204; records good_inference / bad_inference, keeps labels for retraining'],
  ['POST /train/start', '{ "source"?: "feedback" | "spirals", "epochs"?: n } → 202 { id }; retrains in the job queue'],
  ['GET /train/status/:id', '→ { status, model }'],
  ['GET /model', '→ the model being served'],
  ['GET /metrics', 'Prometheus exposition (lookout)'],
];

/**
 * Paths the HTTP metrics skip (besides the metrics path itself).
 *
 * @example
 * ```ts
 * await app.register(lookout, { registry, skipPaths: UNRECORDED_PATHS });
 * ```
 */
export const UNRECORDED_PATHS = ['/healthz', '/favicon.ico'] as const;

/**
 * Registers `/`, `/docs`, `/model`, `/healthz` and `/favicon.ico`.
 *
 * @example
 * ```ts
 * registerContentRoutes(app, { service, kpi, queue });
 * ```
 */
export function registerContentRoutes(app: FastifyInstance, context: { readonly service: ModelService; readonly kpi: Kpi<InferenceEvent>; readonly queue: JobQueue }): void {
  const { service, kpi, queue } = context;
  app.get('/', async (request, reply) => {
    kpi.record('page_view', { user: userOf(request), args: { page: 'home' } });
    const info = service.info;
    return reply.type('text/html; charset=utf-8').send(page('Spiral inference API', `
<p>A small MLP classifying points of three spirals (${info.name} v${info.version}, trained on ${info.source},
training accuracy ${(info.trainingAccuracy * 100).toFixed(1)}%), served behind an in-process job queue
and monitored with lookout.</p>
<p><a href="/docs">API docs</a> · <a href="/model">model</a> · <a href="/metrics">metrics</a></p>`));
  });

  app.get('/docs', async (request, reply) => {
    kpi.record('page_view', { user: userOf(request), args: { page: 'docs' } });
    const rows = ENDPOINTS.map(([route, text]) => `<tr><td><code>${route}</code></td><td>${escapeHtml(text)}</td></tr>`).join('\n');
    return reply.type('text/html; charset=utf-8').send(page('API docs', `<table>\n${rows}\n</table>
<p>Send <code>x-user</code> to name the user in KPI events and <code>x-client</code> to name the client.</p>`));
  });

  app.get('/model', async (request) => {
    kpi.record('page_view', { user: userOf(request), args: { page: 'model' } });
    return { ...service.info, feedback: service.feedbackSize, queue: { waiting: queue.depth, running: queue.active, capacity: queue.capacity } };
  });

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}td{padding:.2rem .6rem;vertical-align:top}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
