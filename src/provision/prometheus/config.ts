import type { ResolvedProvisionOptions } from '../options.js';
import { durationSeconds } from '../promql.js';
import { prometheusAlertingBlock } from '../alertmanager/config.js';
import { remoteWriteEntry } from '../remote-write.js';
import { classicHistogramsKey } from '../histograms.js';

/**
 * Where the generated `prometheus.yml` differs per use: the committed file points at
 * `rules/*.yml` beside it; the verification harness points at absolute paths and its own targets.
 *
 * @example
 * ```ts
 * const overrides: PrometheusConfigOverrides = { ruleFiles: ['/abs/rules/*.yml'], targets: ['127.0.0.1:3000'] };
 * ```
 */
export interface PrometheusConfigOverrides {
  readonly ruleFiles?: readonly string[];
  readonly targets?: readonly string[];
  readonly bearerTokenFile?: string | undefined;
  readonly scrapeInterval?: string;
  readonly evaluationInterval?: string;
  /** `host:port` of the Alertmanagers to send to (default: `alerting.alertmanagers`, when configured; `[]`: none). */
  readonly alertmanagers?: readonly string[];
}

/**
 * The `prometheus.yml` document: one scrape job for the API's `/metrics` and the rule files, plus
 * `external_labels` and a `remote_write` entry per configured endpoint when there are any. With
 * native histograms, remote write sends them (`send_native_histograms`); with `histograms: both`
 * the job keeps the classic series too (the key the image's Prometheus version knows).
 *
 * @example
 * ```ts
 * const config = prometheusConfig(resolveProvisionOptions({ service: 'shop' }));
 * config.scrape_configs[0].job_name; // 'shop'
 * ```
 */
export function prometheusConfig(options: ResolvedProvisionOptions, overrides: PrometheusConfigOverrides = {}) {
  const scrapeInterval = overrides.scrapeInterval ?? options.scrapeInterval;
  const alertmanagers = overrides.alertmanagers ?? options.alerting?.alertmanagers;
  const bearerTokenFile = 'bearerTokenFile' in overrides ? overrides.bearerTokenFile : options.bearerTokenFile;
  const classicKey = options.histograms === 'both' ? classicHistogramsKey(options.compose.prometheusImage) : undefined;
  const native = options.histograms !== 'classic';
  return {
    global: {
      scrape_interval: scrapeInterval,
      // Prometheus rejects a timeout longer than the interval; 10s is its own default.
      scrape_timeout: durationSeconds(scrapeInterval) < 10 ? scrapeInterval : '10s',
      evaluation_interval: overrides.evaluationInterval ?? options.evaluationInterval,
      ...(Object.keys(options.externalLabels).length > 0 && { external_labels: { ...options.externalLabels } }),
    },
    ...(alertmanagers !== undefined && alertmanagers.length > 0 && { alerting: prometheusAlertingBlock(alertmanagers) }),
    rule_files: [...(overrides.ruleFiles ?? ['rules/*.yml'])],
    scrape_configs: [
      {
        job_name: options.service,
        metrics_path: options.metricsPath,
        scheme: options.scheme,
        ...(classicKey !== undefined && { [classicKey]: true }),
        ...(bearerTokenFile === undefined ? {} : { authorization: { type: 'Bearer', credentials_file: bearerTokenFile } }),
        static_configs: [{ targets: [...(overrides.targets ?? options.targets)] }],
      },
    ],
    ...(options.remoteWrite.length > 0 && { remote_write: options.remoteWrite.map((endpoint) => ({ ...remoteWriteEntry(endpoint), ...(native && { send_native_histograms: true }) })) }),
  };
}
