/**
 * The example's own metrics, beside the HTTP ones the lookout plugin records. Their names are
 * the ones the generated Grafana dashboards query (src/provision/dashboards/inference-kpis.ts).
 *
 * @example
 * ```ts
 * const metrics = inferenceMetrics(registry, { capacity: 100, jobs: () => ({ waiting: queue.depth, running: queue.active }) });
 * metrics.active.inc();
 * ```
 */
import type { Counter, Gauge, Histogram, Info, Registry, StateSet } from '../../src/index.js';
import type { ModelInfo } from './service.js';

/**
 * Handles on the example's metrics.
 *
 * @example
 * ```ts
 * metrics.processing.labels({ outcome: 'ok' }).observe(0.012);
 * ```
 */
export interface InferenceMetrics {
  /** `inference_active`: started and whose results were not fetched yet (nor expired). */
  readonly active: Gauge;
  /** `inference_processing_duration_seconds{outcome}`: model time of one inference job. */
  readonly processing: Histogram<'outcome'>;
  /** `inference_client_requests_total{client}`: by `x-client` header, capped at `CLIENT_SERIES_CAP` series. */
  readonly byClient: Counter<'client'>;
  /** Updates `model_info`, `model_state` and `model_training_accuracy_ratio`. */
  modelChanged(info: ModelInfo, training: boolean): void;
}

/**
 * Client names a caller may send in `x-client`: a header is attacker-controlled, so its counter
 * keeps 16 series and folds the rest into `__overflow__` (counted in `lookout_series_overflow_total`,
 * which `MetricSeriesOverflow` watches). 16 holds the clients of `npm run traffic` (11 names) with
 * room: a cap that the expected clients reach would keep that alert firing on healthy traffic.
 *
 * @example
 * ```ts
 * registry.counter({ name: 'x', help: 'x', labelNames: ['client'], maxSeries: CLIENT_SERIES_CAP });
 * ```
 */
export const CLIENT_SERIES_CAP = 16;

/**
 * Registers the example's metrics on `registry`; the queue gauge is read at scrape time.
 *
 * @example
 * ```ts
 * const metrics = inferenceMetrics(registry, { capacity: 100, jobs: () => ({ waiting: 0, running: 0 }) });
 * ```
 */
export function inferenceMetrics(registry: Registry, queue: { readonly capacity: number; readonly jobs: () => { waiting: number; running: number } }): InferenceMetrics {
  const active = registry.gauge({ name: 'inference_active', help: 'Inferences started whose results were not fetched yet (expired ones leave too).' });
  const processing = registry.histogram({
    name: 'inference_processing_duration_seconds',
    help: 'Model time of one inference job, from leaving the queue to its result.',
    unit: 'seconds',
    labelNames: ['outcome'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  const byClient = registry.counter({ name: 'inference_client_requests_total', help: `Requests by x-client header (at most ${CLIENT_SERIES_CAP} series, then __overflow__).`, labelNames: ['client'], maxSeries: CLIENT_SERIES_CAP });
  const jobs: Gauge<'state'> = registry.gauge({
    name: 'inference_queue_jobs',
    help: 'Jobs in the in-process queue, by state (waiting, running).',
    labelNames: ['state'],
    collect: () => {
      const now = queue.jobs();
      waiting.set(now.waiting);
      running.set(now.running);
    },
  });
  const waiting = jobs.labels({ state: 'waiting' });
  const running = jobs.labels({ state: 'running' });
  registry.gauge({ name: 'inference_queue_capacity', help: 'Waiting jobs the queue holds before it answers 503.' }).set(queue.capacity);
  const modelInfo: Info<'name' | 'version' | 'source'> = registry.info({ name: 'model', help: 'The model being served.', labelNames: ['name', 'version', 'source'] });
  const modelState: StateSet = registry.stateSet({ name: 'model_state', help: 'Whether a retraining is running.', states: ['serving', 'training'] });
  const accuracy = registry.gauge({ name: 'model_training_accuracy_ratio', help: 'Accuracy of the served model on its own training set.', unit: 'ratio' });
  return {
    active,
    processing,
    byClient,
    modelChanged(info, training) {
      modelInfo.set({ name: info.name, version: String(info.version), source: info.source });
      modelState.set(training ? 'training' : 'serving');
      accuracy.set(info.trainingAccuracy);
    },
  };
}
