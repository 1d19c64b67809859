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
  readonly #protobuf: (() => AsyncGenerator<Uint8Array, void, undefined>) | undefined;

  /**
   * `protobuf`, when given, answers protobuf scrapes (the primary, which holds
   * the merge itself, native histograms included); without it scrapes
   * negotiate text or OpenMetrics (a worker relays the primary's text).
   */
  constructor(options: RegistryOptions, answer: (format: ExpositionFormat) => AsyncGenerator<string, void, undefined>, protobuf?: () => AsyncGenerator<Uint8Array, void, undefined>) {
    super(options);
    this.#answer = answer;
    this.#protobuf = protobuf;
  }

  /** Renders the cluster's merged answer (see {@link Registry.render}). */
  override render(format: ExpositionFormat = 'text'): AsyncGenerator<string, void, undefined> {
    return this.#answer(format);
  }

  /** True where the merge is at hand (the primary): Prometheus then scrapes native histograms over protobuf. */
  override get protobufCapable(): boolean {
    return this.#protobuf !== undefined;
  }

  /** Renders the cluster's merged answer as protobuf (see {@link Registry.renderProtobuf}). */
  override renderProtobuf(): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#protobuf === undefined) throw new Error('this cluster view answers text only');
    return this.#protobuf();
  }
}
