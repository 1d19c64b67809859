/**
 * The reference API's routes (REFERENCE.md, "The API being monitored"). Every call records a KPI
 * event; labelling a result records `good_inference` or `bad_inference`.
 *
 * @example
 * ```ts
 * registerInferenceRoutes(app, { queue, service, metrics, kpi });
 * ```
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kpi } from '../../src/kpi/index.js';
import type { InferenceMetrics } from './metrics.js';
import { CLASS_LABELS, type ClassLabel } from './data.js';
import type { Job, JobQueue } from './queue.js';
import type { InferenceMonitoring } from './monitoring.js';
import type { ModelService, Prediction } from './service.js';

/**
 * KPI event names the API records.
 *
 * @example
 * ```ts
 * createKpi({ registry, events: INFERENCE_EVENTS });
 * ```
 */
export const INFERENCE_EVENTS = ['inference_start', 'inference_status', 'inference_results', 'good_inference', 'bad_inference', 'train_start', 'train_status', 'page_view'] as const;
/**
 * One of `INFERENCE_EVENTS`.
 *
 * @example
 * ```ts
 * const event: InferenceEvent = 'good_inference';
 * ```
 */
export type InferenceEvent = (typeof INFERENCE_EVENTS)[number];

/**
 * What the routes work with.
 *
 * @example
 * ```ts
 * const context: RouteContext = { queue, service, metrics, kpi };
 * ```
 */
export interface RouteContext {
  readonly queue: JobQueue;
  readonly service: ModelService;
  readonly metrics: InferenceMetrics;
  readonly kpi: Kpi<InferenceEvent>;
  /** The model monitor (lookout/ml): predictions observed, feedback counted, versions published. */
  readonly monitoring?: InferenceMonitoring;
}

interface InferenceResult {
  readonly predictions: Prediction[];
  readonly model: string;
  readonly processingSeconds: number;
}

interface StartBody {
  points: [number, number][];
  samples?: number;
  user?: string;
}

interface SelectBody {
  id: string;
  good: boolean;
  labels?: ClassLabel[];
  user?: string;
}

interface TrainBody {
  epochs?: number;
  source?: 'feedback' | 'spirals';
}

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const START_SCHEMA = {
  type: 'object',
  required: ['points'],
  additionalProperties: false,
  properties: {
    points: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } } },
    samples: { type: 'integer', minimum: 1, maximum: 4096 },
    user: { type: 'string', maxLength: 200 },
  },
} as const;
const SELECT_SCHEMA = {
  type: 'object',
  required: ['id', 'good'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', maxLength: 64 },
    good: { type: 'boolean' },
    labels: { type: 'array', maxItems: 256, items: { type: 'string', enum: [...CLASS_LABELS] } },
    user: { type: 'string', maxLength: 200 },
  },
} as const;
const TRAIN_SCHEMA = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { epochs: { type: 'integer', minimum: 1, maximum: 1000 }, source: { type: 'string', enum: ['feedback', 'spirals'] } },
} as const;

/**
 * Registers `/inference/*` and `/train/*`.
 *
 * @example
 * ```ts
 * registerInferenceRoutes(app, context);
 * await app.inject({ method: 'POST', url: '/inference/start', payload: { points: [[0.1, 0.2]] } });
 * ```
 */
export function registerInferenceRoutes(app: FastifyInstance, context: RouteContext): void {
  const { queue, service, metrics, kpi, monitoring } = context;

  app.post<{ Body: StartBody }>('/inference/start', { schema: { body: START_SCHEMA } }, async (request, reply) => {
    const { points, samples = 1 } = request.body;
    const job = queue.submit<InferenceResult>('inference', async (signal) => {
      const started = performance.now();
      const model = modelName(service); // the version this job runs on, even if a retrain lands meanwhile
      try {
        const predictions = await service.infer(points, { samples, signal });
        monitoring?.observe(points, predictions);
        const seconds = (performance.now() - started) / 1000;
        metrics.processing.labels({ outcome: 'ok' }).observe(seconds);
        return { predictions, model, processingSeconds: Math.round(seconds * 1e6) / 1e6 };
      } catch (error) {
        metrics.processing.labels({ outcome: 'error' }).observe((performance.now() - started) / 1000);
        throw error;
      }
    }, { points, fetched: false });
    metrics.active.inc();
    kpi.record('inference_start', { user: userOf(request), model: modelName(service), args: { size: points.length === 1 ? 'single' : 'batch', samples: samplesBucket(samples) } });
    return reply.code(202).send({ id: job.id, status: job.state });
  });

  app.get<{ Params: { id: string } }>('/inference/status/:id', { schema: { params: ID_PARAMS } }, async (request, reply) => {
    const job = inferenceJob(queue, request.params.id);
    kpi.record('inference_status', { user: userOf(request), args: { found: String(job !== undefined) } });
    if (job === undefined) return reply.code(404).send({ error: 'unknown inference id (finished inferences are kept 10 minutes)' });
    return { id: job.id, status: job.state, queuedSeconds: seconds((job.startedAt ?? Date.now()) - job.createdAt) };
  });

  app.get<{ Params: { id: string } }>('/inference/results/:id', { schema: { params: ID_PARAMS } }, async (request, reply) => {
    const job = inferenceJob(queue, request.params.id);
    const model = (job?.result as InferenceResult | undefined)?.model;
    kpi.record('inference_results', { user: userOf(request), ...(model !== undefined && { model }), args: { state: job?.state ?? 'unknown' } });
    if (job === undefined) return reply.code(404).send({ error: 'unknown inference id (finished inferences are kept 10 minutes)' });
    if (job.state === 'queued' || job.state === 'running') return reply.code(409).send({ id: job.id, status: job.state, error: 'not finished yet; poll /inference/status/:id' });
    // As the reference: an inference stops being active once its results are fetched.
    if (job.meta['fetched'] !== true) {
      job.meta['fetched'] = true;
      metrics.active.dec();
    }
    if (job.state === 'failed') throw job.error!; // OutOfDomainError → 422, anything else → 500
    const result = job.result as InferenceResult;
    return { id: job.id, status: job.state, ...result };
  });

  app.put<{ Body: SelectBody }>('/inference/select', { schema: { body: SELECT_SCHEMA } }, async (request, reply) => {
    const { id, good, labels } = request.body;
    const job = inferenceJob(queue, id);
    if (job === undefined || job.state !== 'done') return reply.code(404).send({ error: 'no finished inference with this id' });
    const result = job.result as InferenceResult;
    const points = job.meta['points'] as [number, number][];
    kpi.record(good ? 'good_inference' : 'bad_inference', { user: userOf(request), model: result.model, args: { predicted: result.predictions[0]!.label, size: points.length === 1 ? 'single' : 'batch' } });
    monitoring?.feedback(good, result.model);
    // Labelled points are what a retrain learns from when the inputs drift.
    labels?.slice(0, points.length).forEach((label, index) => service.addFeedback(points[index]![0], points[index]![1], label));
    return reply.code(204).send();
  });

  app.post<{ Body: TrainBody | null }>('/train/start', { schema: { body: TRAIN_SCHEMA } }, async (request, reply) => {
    const options = request.body ?? {};
    const job = queue.submit('train', async (signal) => {
      metrics.modelChanged(service.info, true);
      try {
        const info = await service.retrain({ ...options, signal });
        // A new version publishes a new reference: its training data and its predictions on it.
        monitoring?.published();
        return info;
      } finally {
        metrics.modelChanged(service.info, false);
      }
    });
    kpi.record('train_start', { user: userOf(request), model: modelName(service), args: { source: options.source ?? 'auto', feedback: service.feedbackSize >= 150 ? 'enough' : 'little' } });
    return reply.code(202).send({ id: job.id, status: job.state });
  });

  app.get<{ Params: { id: string } }>('/train/status/:id', { schema: { params: ID_PARAMS } }, async (request, reply) => {
    const job = queue.get(request.params.id);
    kpi.record('train_status', { user: userOf(request), args: { found: String(job?.kind === 'train') } });
    if (job === undefined || job.kind !== 'train') return reply.code(404).send({ error: 'unknown training id' });
    return { id: job.id, status: job.state, ...(job.state === 'done' && { model: job.result }), ...(job.state === 'failed' && { error: job.error!.message }) };
  });
}

function inferenceJob(queue: JobQueue, id: string): Job | undefined {
  const job = queue.get(id);
  return job?.kind === 'inference' ? job : undefined;
}

/**
 * The caller's user id: the `x-user` header, else `user` in the body, else `anonymous`.
 *
 * @example
 * ```ts
 * kpi.record('page_view', { user: userOf(request) });
 * ```
 */
export function userOf(request: FastifyRequest): string {
  const header = request.headers['x-user'];
  if (typeof header === 'string' && header !== '') return header.slice(0, 200);
  const body = request.body as { user?: unknown } | null | undefined;
  return typeof body?.user === 'string' && body.user !== '' ? body.user : 'anonymous';
}

function modelName(service: ModelService): string {
  return `${service.info.name}-v${service.info.version}`;
}

// Few distinct values, so "Events by user argument" groups them usefully.
function samplesBucket(samples: number): string {
  return samples === 1 ? '1' : samples <= 64 ? '2-64' : samples <= 512 ? '65-512' : '513+';
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
