import { createDashboard, type Dashboard } from '../dashboard/dashboard.js';
import type { DashboardOptions } from '../dashboard/options.js';
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
  /**
   * The built-in live dashboard (default off): `true` serves it at `/lookout`,
   * an object sets its path, `prometheusUrl`, `kpi`... It takes the same
   * token as `/metrics` and is never counted in the HTTP metrics.
   */
  readonly dashboard?: boolean | DashboardOptions;
}

/**
 * Resolves adapter options once and builds the shared recorder (and the
 * dashboard, when asked for: its paths join the skipped ones).
 *
 * @example
 * ```ts
 * const { recorder, metricsPath, dashboard } = createRecorder({ registry, dashboard: true });
 * ```
 */
export function createRecorder(options: AdapterOptions, resolveRoute?: RouteResolver): { recorder: HttpRecorder; metricsPath: string | undefined; dashboard: Dashboard | undefined } {
  const metricsPath = options?.metricsPath === false ? undefined : options?.metricsPath ?? '/metrics';
  const wanted = options?.dashboard;
  const dashboard = wanted === undefined || wanted === false
    ? undefined
    : createDashboard({
      ...(options.appName !== undefined && { title: options.appName }),
      ...(wanted === true ? {} : wanted),
      registry: options.registry,
      token: options.token,
      prefix: options.prefix ?? '',
    });
  const resolved = resolveHttpOptions(options, [...(metricsPath === undefined ? [] : [metricsPath]), ...(dashboard?.paths ?? [])]);
  return { recorder: new HttpRecorder(resolved, resolveRoute), metricsPath, dashboard };
}
