import type { ExpositionFormat } from '../core/metric.js';
import { Registry, type RegistryOptions } from '../core/registry.js';

/**
 * A Registry whose answer is the whole cluster's. It is a real Registry, so
 * everything that serves one (`serveMetrics`, `createMetricsHandler`,
 * `createMetricsResponder`: bearer token, negotiation, gzip, backpressure)
 * serves the cluster unchanged. Its own metrics are the cluster self-metrics.
 *
 * @example
 * ```ts
 * const view = new ClusterRegistry({}, (format) => answerFromPrimary(format));
 * await serveMetrics({ registry: view, port: 9464 });
 * ```
 */
export class ClusterRegistry extends Registry {
  readonly #answer: (format: ExpositionFormat) => AsyncGenerator<string, void, undefined>;

  constructor(options: RegistryOptions, answer: (format: ExpositionFormat) => AsyncGenerator<string, void, undefined>) {
    super(options);
    this.#answer = answer;
  }

  /** Renders the cluster's merged answer (see {@link Registry.render}). */
  override render(format: ExpositionFormat = 'text'): AsyncGenerator<string, void, undefined> {
    return this.#answer(format);
  }

  /** The merged answer is text (workers send text): scrapes negotiate text or OpenMetrics. */
  override get protobufCapable(): boolean {
    return false;
  }
}
