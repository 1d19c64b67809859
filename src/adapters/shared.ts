import { resolveHttpOptions, type HttpMetricsOptions } from '../http/options.js';
import { HttpRecorder, type RouteResolver } from '../http/recorder.js';

/**
 * Options every adapter takes: the HTTP metric options plus where `/metrics` is served.
 *
 * @example
 * ```ts
 * const options: AdapterOptions = { registry, metricsPath: '/internal/metrics', token: process.env.METRICS_TOKEN };
 * ```
 */
export interface AdapterOptions extends HttpMetricsOptions {
  /**
   * Path of the metrics endpoint on the app (default `/metrics`); `false`
   * serves nothing on the app (use `serveMetrics()` for a separate port).
   */
  readonly metricsPath?: string | false;
  /** Bearer token required on the metrics endpoint. */
  readonly token?: string;
}

/**
 * Resolves adapter options once and builds the shared recorder.
 *
 * @example
 * ```ts
 * const { recorder, metricsPath } = createRecorder({ registry });
 * ```
 */
export function createRecorder(options: AdapterOptions, resolveRoute?: RouteResolver): { recorder: HttpRecorder; metricsPath: string | undefined } {
  const metricsPath = options.metricsPath === false ? undefined : options.metricsPath ?? '/metrics';
  const resolved = resolveHttpOptions(options, metricsPath === undefined ? [] : [metricsPath]);
  return { recorder: new HttpRecorder(resolved, resolveRoute), metricsPath };
}
