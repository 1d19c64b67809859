import { LookoutError } from '../core/errors.js';
import { resolveAlerting, type AlertingOptions, type ResolvedAlerting } from './alerting.js';
import { classicHistogramsKey, HISTOGRAM_MODES, type HistogramMode } from './histograms.js';
import { resolveRemoteWrite, type RemoteWriteOptions, type ResolvedRemoteWrite } from './remote-write.js';

/**
 * What `lookout provision` is built from. Every field is optional; `resolveProvisionOptions`
 * fills the defaults and validates everything once.
 *
 * @example
 * ```ts
 * const options: ProvisionOptions = {
 *   service: 'inference-api',
 *   targets: ['api:8000'],
 *   slo: { availability: { objective: 0.999 }, latency: { objective: 0.99, thresholdSeconds: 1 } },
 * };
 * ```
 */
export interface ProvisionOptions {
  /** Prometheus job name, Grafana folder and alert prefix (default `api`). */
  readonly service?: string;
  /** `host:port` of every API instance to scrape (default `['api:8000']`). */
  readonly targets?: readonly string[];
  readonly metricsPath?: string;
  readonly scheme?: 'http' | 'https';
  /**
   * Scrape interval (default `15s`, Prometheus's own default); also the Grafana Prometheus datasource's
   * `timeInterval`. The generated README states what it costs in samples.
   */
  readonly scrapeInterval?: string;
  /** Rule evaluation interval (default `1m`: the SLO rules' step windows and the alerts' reaction time follow it). */
  readonly evaluationInterval?: string;
  /** File holding the bearer token for `/metrics`, as Prometheus sees it (default: no auth). */
  readonly bearerTokenFile?: string;
  /** Upper bounds of `http_request_duration_seconds` (the latency threshold must be one of them). */
  readonly durationBuckets?: readonly number[];
  /** Classic `_bucket` series (default), Prometheus native histograms, or both: see `HistogramMode`. */
  readonly histograms?: HistogramMode;
  readonly slo?: {
    /** SLO period used for "error budget left" (default `30d`). */
    readonly period?: string;
    readonly availability?: { readonly objective?: number };
    readonly latency?: { readonly objective?: number; readonly thresholdSeconds?: number };
  };
  readonly datasources?: {
    readonly prometheus?: { readonly uid?: string; readonly name?: string; readonly urlEnv?: string };
    readonly postgres?: {
      readonly uid?: string;
      readonly name?: string;
      readonly hostEnv?: string;
      readonly databaseEnv?: string;
      readonly userEnv?: string;
      readonly passwordEnv?: string;
      readonly sslmode?: SslMode;
      /** The read-only role Grafana logs in as (default `lookout_reader`). */
      readonly readerRole?: string;
      /**
       * Point the datasource at the embedded KPI store instead (no `DS_POSTGRES_*` environment):
       * `lookout store --port <port>` on `host` (default 127.0.0.1), as its read-only role
       * `lookout_reader`, database `postgres`, no password. For a Grafana on the same host.
       */
      readonly embeddedStore?: { readonly port: number; readonly host?: string };
    };
  };
  /**
   * Prometheus `remote_write` to a horizontally scalable store (Mimir, Thanos Receive,
   * VictoriaMetrics, or any receiver): one endpoint or a list. Default: none, Prometheus keeps
   * everything locally. See `RemoteWriteOptions` and docs/scaling.md.
   */
  readonly remoteWrite?: RemoteWriteOptions | readonly RemoteWriteOptions[];
  /**
   * Prometheus `global.external_labels`: added to every series sent by remote write (and to
   * alerts), so a central store tells Prometheus servers apart, e.g. `{ cluster: 'eu-1' }`.
   */
  readonly externalLabels?: Readonly<Record<string, string>>;
  /**
   * The generated SQL for an events table past one node (`postgres/scaling/`): native partitions
   * (`partitionInterval` wide, `premake` created ahead, dropped after `retention`) or a TimescaleDB
   * hypertable (`chunkInterval` chunks, compressed after `compressAfter`, dropped after `retention`).
   */
  readonly events?: {
    readonly partitionInterval?: 'day' | 'week' | 'month';
    readonly premake?: number;
    /** PostgreSQL interval, e.g. `13 months` (the default). */
    readonly retention?: string;
    readonly chunkInterval?: string;
    readonly compressAfter?: string;
  };
  /**
   * Alertmanager (`alertmanager/alertmanager.yml`) and the Prometheus `alerting:` block: receivers,
   * a receiver per severity, timing, and where the alerts' runbook and dashboard links point.
   * Default: none generated. See `AlertingOptions`.
   */
  readonly alerting?: AlertingOptions;
  readonly compose?: {
    readonly apiImage?: string;
    readonly apiCommand?: readonly string[];
    readonly apiPort?: number;
    readonly postgresImage?: string;
    readonly prometheusImage?: string;
    readonly grafanaImage?: string;
    /** Started when `alerting` is configured (default `prom/alertmanager:v0.27.0`). */
    readonly alertmanagerImage?: string;
    /** Images of the scaling overlays (`scaling/compose.*.yaml`). */
    readonly mimirImage?: string;
    readonly thanosImage?: string;
    readonly victoriametricsImage?: string;
  };
}

/**
 * PostgreSQL `sslmode` values Grafana accepts.
 *
 * @example
 * ```ts
 * const mode: SslMode = 'verify-full';
 * ```
 */
export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/**
 * Options with every default filled in and validated.
 *
 * @example
 * ```ts
 * const resolved: ResolvedProvisionOptions = resolveProvisionOptions({ service: 'shop' });
 * resolved.slo.availability.objective; // 0.999
 * ```
 */
export interface ResolvedProvisionOptions {
  readonly service: string;
  readonly targets: readonly string[];
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly scrapeInterval: string;
  readonly evaluationInterval: string;
  readonly bearerTokenFile: string | undefined;
  readonly durationBuckets: readonly number[];
  readonly histograms: HistogramMode;
  readonly slo: {
    readonly period: string;
    readonly availability: { readonly objective: number };
    readonly latency: { readonly objective: number; readonly thresholdSeconds: number };
  };
  readonly datasources: {
    readonly prometheus: { readonly uid: string; readonly name: string; readonly urlEnv: string };
    readonly postgres: {
      readonly uid: string;
      readonly name: string;
      readonly hostEnv: string;
      readonly databaseEnv: string;
      readonly userEnv: string;
      readonly passwordEnv: string;
      readonly sslmode: SslMode;
      readonly readerRole: string;
      readonly embeddedStore: { readonly host: string; readonly port: number } | undefined;
    };
  };
  readonly remoteWrite: readonly ResolvedRemoteWrite[];
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly events: {
    readonly partitionInterval: 'day' | 'week' | 'month';
    readonly premake: number;
    readonly retention: string;
    readonly chunkInterval: string;
    readonly compressAfter: string;
  };
  readonly alerting: ResolvedAlerting | undefined;
  readonly compose: {
    readonly apiImage: string;
    readonly apiCommand: readonly string[];
    readonly apiPort: number;
    readonly postgresImage: string;
    readonly prometheusImage: string;
    readonly grafanaImage: string;
    readonly alertmanagerImage: string;
    readonly mimirImage: string;
    readonly thanosImage: string;
    readonly victoriametricsImage: string;
  };
}

/**
 * The contract's buckets for `http_request_duration_seconds`.
 *
 * @example
 * ```ts
 * CONTRACT_DURATION_BUCKETS.includes(1); // true: a valid latency threshold
 * ```
 */
export const CONTRACT_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const SSL_MODES: readonly SslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];
const NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const ROLE = /^[a-z_][a-z0-9_]*$/;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const TARGET = /^[a-zA-Z0-9.-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$/;
const IMAGE = /^[a-z0-9./_-]+:[A-Za-z0-9._-]*[0-9][A-Za-z0-9._-]*$/;

/**
 * Fills defaults and validates; throws `LOOKOUT_E_PROVISION_OPTION` naming the bad field.
 *
 * @example
 * ```ts
 * resolveProvisionOptions({ targets: ['127.0.0.1:3000'], scrapeInterval: '1s' });
 * ```
 */
export function resolveProvisionOptions(options: ProvisionOptions = {}): ResolvedProvisionOptions {
  const service = check('service', options.service ?? 'api', (value) => NAME.test(value), 'letters, digits, _ or -, starting with a letter');
  const targets = options.targets ?? ['api:8000'];
  if (targets.length === 0) fail('targets', 'at least one host:port is needed');
  for (const target of targets) check('targets', target, (value) => TARGET.test(value), 'host:port');
  const durationBuckets = options.durationBuckets ?? CONTRACT_DURATION_BUCKETS;
  const thresholdSeconds = options.slo?.latency?.thresholdSeconds ?? 1;
  const histograms = check('histograms', options.histograms ?? 'classic', (value) => HISTOGRAM_MODES.includes(value), HISTOGRAM_MODES.join(' | '));
  // Native series have no `le` buckets: any positive threshold works (exactly at a power of two).
  if (histograms === 'native') check('slo.latency.thresholdSeconds', thresholdSeconds, (value) => typeof value === 'number' && value > 0 && Number.isFinite(value), 'a positive number of seconds');
  else if (!durationBuckets.includes(thresholdSeconds)) {
    fail('slo.latency.thresholdSeconds', `${thresholdSeconds} is not a bucket bound of http_request_duration_seconds (${durationBuckets.join(', ')})`);
  }
  const prometheus = options.datasources?.prometheus ?? {};
  const postgres = options.datasources?.postgres ?? {};
  const compose = options.compose ?? {};
  const prometheusImage = image('compose.prometheusImage', compose.prometheusImage ?? 'prom/prometheus:v2.54.1');
  if (histograms === 'both' && classicHistogramsKey(prometheusImage) === undefined) {
    fail('histograms', `both needs Prometheus 2.45 or later (scrape_classic_histograms); compose.prometheusImage is ${prometheusImage}`);
  }
  return {
    service,
    targets,
    metricsPath: check('metricsPath', options.metricsPath ?? '/metrics', (value) => /^\/[\w./-]*$/.test(value), 'an absolute path'),
    scheme: check('scheme', options.scheme ?? 'http', (value) => value === 'http' || value === 'https', 'http or https'),
    scrapeInterval: duration('scrapeInterval', options.scrapeInterval ?? '15s'),
    evaluationInterval: duration('evaluationInterval', options.evaluationInterval ?? '1m'),
    bearerTokenFile: options.bearerTokenFile === undefined ? undefined : check('bearerTokenFile', options.bearerTokenFile, (value) => value.startsWith('/'), 'an absolute path'),
    durationBuckets,
    histograms,
    slo: {
      period: duration('slo.period', options.slo?.period ?? '30d'),
      availability: { objective: objective('slo.availability.objective', options.slo?.availability?.objective ?? 0.999) },
      latency: { objective: objective('slo.latency.objective', options.slo?.latency?.objective ?? 0.99), thresholdSeconds },
    },
    datasources: {
      prometheus: {
        uid: uid('datasources.prometheus.uid', prometheus.uid ?? 'lookout-prometheus'),
        name: prometheus.name ?? 'Prometheus',
        urlEnv: envName('datasources.prometheus.urlEnv', prometheus.urlEnv ?? 'DS_PROMETHEUS_URL'),
      },
      postgres: {
        uid: uid('datasources.postgres.uid', postgres.uid ?? 'lookout-postgres'),
        name: postgres.name ?? 'PostgreSQL (KPI events)',
        hostEnv: envName('datasources.postgres.hostEnv', postgres.hostEnv ?? 'DS_POSTGRES_HOST'),
        databaseEnv: envName('datasources.postgres.databaseEnv', postgres.databaseEnv ?? 'DS_POSTGRES_DATABASE'),
        userEnv: envName('datasources.postgres.userEnv', postgres.userEnv ?? 'DS_POSTGRES_USER'),
        passwordEnv: envName('datasources.postgres.passwordEnv', postgres.passwordEnv ?? 'DS_POSTGRES_PASSWORD'),
        sslmode: check('datasources.postgres.sslmode', postgres.sslmode ?? 'disable', (value) => SSL_MODES.includes(value), SSL_MODES.join(' | ')),
        readerRole: check('datasources.postgres.readerRole', postgres.readerRole ?? 'lookout_reader', (value) => ROLE.test(value), 'a lower-case SQL identifier'),
        embeddedStore: postgres.embeddedStore === undefined ? undefined : {
          host: check('datasources.postgres.embeddedStore.host', postgres.embeddedStore.host ?? '127.0.0.1', (value) => typeof value === 'string' && /^[\w.:-]+$/.test(value), 'a host name or address'),
          port: check('datasources.postgres.embeddedStore.port', postgres.embeddedStore.port, (value) => Number.isInteger(value) && value > 0 && value < 65536, 'a TCP port (the one given to lookout store --port)'),
        },
      },
    },
    remoteWrite: resolveRemoteWrite(options.remoteWrite, service),
    externalLabels: externalLabels(options.externalLabels ?? {}),
    events: {
      partitionInterval: check('events.partitionInterval', options.events?.partitionInterval ?? 'month', (value) => ['day', 'week', 'month'].includes(value), 'day | week | month'),
      premake: check('events.premake', options.events?.premake ?? 3, (value) => Number.isInteger(value) && value >= 0 && value <= 120, 'an integer from 0 to 120'),
      retention: pgInterval('events.retention', options.events?.retention ?? '13 months'),
      chunkInterval: pgInterval('events.chunkInterval', options.events?.chunkInterval ?? '1 day'),
      compressAfter: pgInterval('events.compressAfter', options.events?.compressAfter ?? '7 days'),
    },
    alerting: resolveAlerting(options.alerting),
    compose: {
      apiImage: image('compose.apiImage', compose.apiImage ?? 'node:20.18.1-bookworm-slim'),
      apiCommand: compose.apiCommand ?? ['node', '--import', 'tsx', 'examples/inference-api/server.ts'],
      apiPort: check('compose.apiPort', compose.apiPort ?? 8000, (value) => Number.isInteger(value) && value > 0 && value < 65536, 'a TCP port'),
      postgresImage: image('compose.postgresImage', compose.postgresImage ?? 'postgres:16.4-bookworm'),
      prometheusImage,
      grafanaImage: image('compose.grafanaImage', compose.grafanaImage ?? 'grafana/grafana-oss:11.2.0'),
      alertmanagerImage: image('compose.alertmanagerImage', compose.alertmanagerImage ?? 'prom/alertmanager:v0.27.0'),
      mimirImage: image('compose.mimirImage', compose.mimirImage ?? 'grafana/mimir:2.13.0'),
      thanosImage: image('compose.thanosImage', compose.thanosImage ?? 'quay.io/thanos/thanos:v0.36.1'),
      victoriametricsImage: image('compose.victoriametricsImage', compose.victoriametricsImage ?? 'victoriametrics/victoria-metrics:v1.102.1'),
    },
  };
}

function fail(field: string, expected: string): never {
  throw new LookoutError('LOOKOUT_E_PROVISION_OPTION', `${field}: ${expected}`);
}

function check<T>(field: string, value: T, valid: (value: T) => boolean, expected: string): T {
  if (!valid(value)) fail(field, `expected ${expected}, got ${JSON.stringify(value)}`);
  return value;
}

function duration(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && DURATION.test(text), 'a Prometheus duration such as 5s, 1m or 30d');
}

function objective(field: string, value: number): number {
  return check(field, value, (number) => typeof number === 'number' && number > 0 && number < 1, 'a ratio strictly between 0 and 1, e.g. 0.999');
}

function envName(field: string, value: string): string {
  return check(field, value, (text) => ENV_NAME.test(text), 'an upper-case environment variable name');
}

function uid(field: string, value: string): string {
  return check(field, value, (text) => /^[a-zA-Z0-9_-]{1,40}$/.test(text), 'a datasource uid (letters, digits, _ or -, at most 40)');
}

function pgInterval(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && /^[1-9][0-9]{0,4} (minute|hour|day|week|month|year)s?$/.test(text), "a PostgreSQL interval such as '7 days' or '13 months'");
}

function externalLabels(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  check('externalLabels', labels, (value) => value !== null && typeof value === 'object' && !Array.isArray(value), 'a mapping of label name to value');
  for (const [name, value] of Object.entries(labels)) {
    check('externalLabels', name, (text) => /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(text) && text !== '__name__', 'label names (letters, digits, _; not __name__)');
    check(`externalLabels.${name}`, value, (text) => typeof text === 'string' && text !== '' && !/[\r\n\0]/.test(text), 'a non-empty one-line string');
  }
  return { ...labels };
}

function image(field: string, value: string): string {
  return check(field, value, (text) => IMAGE.test(text), 'an image with a pinned version tag (never latest)');
}
