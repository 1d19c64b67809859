/**
 * The demo's Prometheus: the generated scrape job and rules (src/provision, with the committed
 * deploy/lookout.config.yaml) pointed at the demo API, run by the verification harness's runner
 * (a free 127.0.0.1 port, a temporary data folder removed on stop). Skipped with a one-line hint
 * when `prometheus` is not on PATH.
 *
 * @example
 * ```ts
 * const prometheus = await startDemoPrometheus({ target: '127.0.0.1:8000', scrapeInterval: '5s' });
 * if (prometheus !== undefined) console.log(prometheus.url);
 * ```
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadProvisionConfig } from '../src/provision/config-file.js';
import { resolveProvisionOptions } from '../src/provision/options.js';
import { prometheusConfig } from '../src/provision/prometheus/config.js';
import { startPrometheus, type RunningPrometheus } from '../src/verify/prometheus-runner.js';

const DEPLOY = join(import.meta.dirname, '..', 'deploy');

/**
 * The one line printed when Prometheus is missing.
 *
 * @example
 * ```ts
 * console.log(PROMETHEUS_HINT);
 * ```
 */
export const PROMETHEUS_HINT = 'prometheus: not on PATH, skipped (the API, /metrics and the KPI store run without it); to add it: apt-get install prometheus';

/**
 * True when `prometheus --version` runs.
 *
 * @example
 * ```ts
 * if (!prometheusOnPath()) console.log(PROMETHEUS_HINT);
 * ```
 */
export function prometheusOnPath(): boolean {
  const result = spawnSync('prometheus', ['--version'], { stdio: 'ignore', timeout: 10_000 });
  return result.error === undefined && result.status === 0;
}

/**
 * Starts Prometheus scraping `target` with the generated job name and rules, or returns
 * undefined when `prometheus` is not on PATH.
 *
 * @example
 * ```ts
 * const prometheus = await startDemoPrometheus({ target: api.target, scrapeInterval: '1s' });
 * await prometheus?.stop();
 * ```
 */
export async function startDemoPrometheus(options: { readonly target: string; readonly scrapeInterval: string; readonly alertmanagers?: readonly string[] }): Promise<(RunningPrometheus & { readonly job: string }) | undefined> {
  if (!prometheusOnPath()) return undefined;
  const provision = resolveProvisionOptions(await loadProvisionConfig(join(DEPLOY, 'lookout.config.yaml')));
  const config = prometheusConfig(provision, {
    targets: [options.target],
    ruleFiles: [join(DEPLOY, 'prometheus/rules/*.yml')],
    // The demo API serves /metrics on loopback without a token.
    bearerTokenFile: undefined,
    scrapeInterval: options.scrapeInterval,
    evaluationInterval: options.scrapeInterval,
    // The demo's Alertmanager when it runs; never the compose service name of the committed config.
    alertmanagers: options.alertmanagers ?? [],
  });
  const running = await startPrometheus({ config });
  return Object.assign(running, { job: provision.service });
}

/**
 * A Prometheus UI link that graphs `expr` over the last 15 minutes.
 *
 * @example
 * ```ts
 * graphLink('http://127.0.0.1:9090', 'sum by (route) (rate(http_requests_total[1m]))');
 * ```
 */
export function graphLink(prometheusUrl: string, expr: string): string {
  return `${prometheusUrl}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0&g0.range_input=15m`;
}
