/**
 * The reference API's model monitor (`lookout/ml`): its two input features (`x`, `y`) and its
 * three classes, compared with a reference fitted on the served version's training data and its
 * own predictions on it. A retrain publishes the new version and a new reference.
 *
 * @example
 * ```ts
 * const monitoring = inferenceMonitor(registry, service);
 * monitoring.observe([[0.1, 0.2]], [{ label: 'amber', confidence: 0.9 }]);
 * monitoring.published(); // after service.retrain()
 * ```
 */
import type { Registry } from '../../src/index.js';
import { createModelMonitor, fitReference, type FeatureSpec, type ModelMonitor, type ModelMonitorOptions, type ModelReference } from '../../src/ml/index.js';
import { CLASS_LABELS } from './data.js';
import type { ModelService, Prediction } from './service.js';

/** The example's features: the two coordinates of a point. */
export const INFERENCE_FEATURES: readonly FeatureSpec[] = [
  { name: 'x', kind: 'numeric' },
  { name: 'y', kind: 'numeric' },
];

/**
 * Options of the example's monitor (all optional): the window, `minSamples`, a clock.
 *
 * @example
 * ```ts
 * const options: InferenceMonitorOptions = { window: { intervals: 5, intervalMs: 60_000 } };
 * ```
 */
export type InferenceMonitorOptions = Pick<ModelMonitorOptions, 'window' | 'minSamples' | 'now'>;

/**
 * The example's monitor and what the routes call.
 *
 * @example
 * ```ts
 * monitoring.feedback(true, 'spiral-mlp-v2');
 * ```
 */
export interface InferenceMonitoring {
  readonly monitor: ModelMonitor;
  /** Counts the points of one finished inference with their predictions. */
  observe(points: readonly (readonly [number, number])[], predictions: readonly Prediction[]): void;
  /** Counts a user's verdict on a prediction of `model` (`spiral-mlp-v<version>`). */
  feedback(good: boolean, model: string): void;
  /**
   * Counts one finished HTTP request of the inference routes (`/inference/...`) for the version
   * served: latency and errors (status ≥ 500) by model version. Other routes are not the model's.
   */
  requested(route: string, status: number, seconds: number): void;
  /** Publishes the service's current version with a reference fitted on its training data. */
  published(): void;
}

/**
 * The reference of the version `service` serves: its training points and its predictions on them.
 *
 * @example
 * ```ts
 * writeFileSync('reference.json', JSON.stringify(referenceOf(service)));
 * ```
 */
export function referenceOf(service: ModelService): ModelReference {
  return fitReference({ features: INFERENCE_FEATURES, classes: CLASS_LABELS }, service.referenceRows(), { bins: 10 });
}

/**
 * Creates the example's monitor on `registry` (window: 5 intervals of 60 s by default).
 *
 * @example
 * ```ts
 * const monitoring = inferenceMonitor(registry, service, { minSamples: 100 });
 * ```
 */
export function inferenceMonitor(registry: Registry, service: ModelService, options: InferenceMonitorOptions = {}): InferenceMonitoring {
  const monitor = createModelMonitor({
    registry,
    model: { name: service.info.name, version: String(service.info.version) },
    features: INFERENCE_FEATURES,
    predictions: { classes: CLASS_LABELS },
    reference: referenceOf(service),
    window: options.window ?? { intervals: 5, intervalMs: 60_000 },
    ...(options.minSamples !== undefined && { minSamples: options.minSamples }),
    ...(options.now !== undefined && { now: options.now }),
  });
  // One input object reused: observe reads it synchronously and keeps nothing.
  const input = { x: 0, y: 0 };
  return {
    monitor,
    observe(points, predictions) {
      for (let index = 0; index < points.length && index < predictions.length; index++) {
        input.x = points[index]![0];
        input.y = points[index]![1];
        monitor.observe(input, predictions[index]);
      }
    },
    feedback(good, model) {
      monitor.feedback(good, model.slice(model.lastIndexOf('-v') + 2));
    },
    requested(route, status, seconds) {
      if (route.startsWith('/inference/')) monitor.request(seconds, status >= 500);
    },
    published() {
      monitor.setModel({ version: String(service.info.version), reference: referenceOf(service) });
    },
  };
}
