import { LookoutError } from '../core/errors.js';
import { durationSeconds } from './promql.js';

/**
 * The horizontally scalable stores lookout writes presets for; `generic` is any other
 * remote-write receiver (Cortex, Grafana Cloud, a vendor), with the URL given in full.
 *
 * @example
 * ```ts
 * const target: RemoteWriteTarget = 'mimir';
 * ```
 */
export type RemoteWriteTarget = 'mimir' | 'thanos' | 'victoriametrics' | 'generic';

/**
 * One Prometheus `remote_write` endpoint, as written in `lookout.config.yaml` (`remoteWrite:`).
 * Credentials only ever come from files (`bearerTokenFile`, `basicAuth.passwordFile`): no
 * generated file holds a secret, and a header that looks like one is refused.
 *
 * @example
 * ```ts
 * const mimir: RemoteWriteOptions = {
 *   target: 'mimir',
 *   url: 'https://mimir.example.com',          // the push path /api/v1/push is added
 *   tenant: 'team-a',                           // sent as X-Scope-OrgID
 *   basicAuth: { username: 'team-a', passwordFile: '/run/secrets/mimir_password' },
 *   keep: 'lookout',                            // only lookout's metric families and rules
 *   queue: { capacity: 10000, maxShards: 50, maxSamplesPerSend: 2000 },
 * };
 * ```
 */
export interface RemoteWriteOptions {
  /** Which store: sets the push path, the tenant header and the default URL. */
  readonly target: RemoteWriteTarget;
  /**
   * Push endpoint. A URL without a path gets the store's push path (Mimir `/api/v1/push`, Thanos
   * Receive `/api/v1/receive`, VictoriaMetrics `/api/v1/write`, or with a tenant
   * `/insert/<tenant>/prometheus/api/v1/write`). Never with `user:password@`. Default: the compose
   * overlay's service (`http://mimir:8080`, `http://thanos-receive:19291`, `http://victoriametrics:8428`,
   * `http://vminsert:8480` with a tenant); required for `generic`.
   */
  readonly url?: string;
  /** `remote_write` name, shown as `remote_name` on Prometheus' `prometheus_remote_storage_*` metrics (default: the target). */
  readonly name?: string;
  /**
   * Tenant: Mimir `X-Scope-OrgID` (default: the service name, as Mimir refuses a push without it
   * unless `multitenancy_enabled: false`), Thanos `THANOS-TENANT` (default: none, Thanos' default
   * tenant), VictoriaMetrics cluster `accountID[:projectID]` in the URL path (default: none, single node).
   */
  readonly tenant?: string;
  /** Header the tenant is sent in, instead of the store's (needed for a tenant with `generic`). */
  readonly tenantHeader?: string;
  /** Extra plain headers (never credentials: `Authorization`, `*token*`, `*key*`… are refused). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Absolute path of a file holding a bearer token (`authorization.credentials_file`). */
  readonly bearerTokenFile?: string;
  /** HTTP basic auth; the password only from a file. */
  readonly basicAuth?: { readonly username: string; readonly passwordFile: string };
  /** TLS files (absolute paths) and the expected server name. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string; readonly serverName?: string };
  /** Timeout of one push (Prometheus' default `30s`). */
  readonly remoteTimeout?: string;
  /**
   * Prometheus `queue_config`; unset fields keep Prometheus' own defaults (2.54: capacity 10000,
   * max_shards 50, min_shards 1, max_samples_per_send 2000, batch_send_deadline 5s, backoff 30ms…5s).
   */
  readonly queue?: {
    readonly capacity?: number;
    readonly maxShards?: number;
    readonly minShards?: number;
    readonly maxSamplesPerSend?: number;
    readonly batchSendDeadline?: string;
    readonly minBackoff?: string;
    readonly maxBackoff?: string;
  };
  /**
   * Which series leave Prometheus: `all` (default), `lookout` (the families lookout exposes,
   * dashboards and rules use: see `LOOKOUT_METRIC_FAMILIES`), or your own list of metric-name
   * regular expressions (RE2, anchored by Prometheus).
   */
  readonly keep?: 'all' | 'lookout' | readonly string[];
  /** Metric-name regular expressions never sent (applied after `keep`), e.g. a high-cardinality histogram's `_bucket`. */
  readonly drop?: readonly string[];
  /** Label names removed before sending. Only labels that never tell two series apart: `le`, `quantile` and `__name__` are refused. */
  readonly dropLabels?: readonly string[];
  /** Send exemplars too (Prometheus needs `--enable-feature=exemplar-storage`; default false). */
  readonly sendExemplars?: boolean;
}

/**
 * A validated remote-write endpoint, with the store's defaults filled in.
 *
 * @example
 * ```ts
 * const [endpoint] = resolveRemoteWrite({ target: 'thanos', tenant: 'team-a' }, 'api');
 * endpoint.url; // 'http://thanos-receive:19291/api/v1/receive'
 * endpoint.headers; // { 'THANOS-TENANT': 'team-a' }
 * ```
 */
export interface ResolvedRemoteWrite {
  readonly target: RemoteWriteTarget;
  readonly name: string;
  readonly url: string;
  readonly tenant: string | undefined;
  /** Every header sent, the tenant header included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly bearerTokenFile: string | undefined;
  readonly basicAuth: { readonly username: string; readonly passwordFile: string } | undefined;
  readonly tls: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string; readonly serverName?: string } | undefined;
  readonly remoteTimeout: string | undefined;
  readonly queue: NonNullable<RemoteWriteOptions['queue']>;
  readonly keep: 'all' | 'lookout' | readonly string[];
  readonly drop: readonly string[];
  readonly dropLabels: readonly string[];
  readonly sendExemplars: boolean;
}

/**
 * Metric-name patterns of what lookout exposes and what its generated dashboards and rules read:
 * `up`, `ALERTS`, the contract's families (`http_*`, `kpi_*`, `db_pool_*`, `process_*`, `nodejs_*`,
 * `lookout_*`), the inference API's `inference_*`, and the SLO recording rules (`job:…`).
 *
 * @example
 * ```ts
 * new RegExp(`^(?:${LOOKOUT_METRIC_FAMILIES.join('|')})$`).test('http_requests_total'); // true
 * ```
 */
export const LOOKOUT_METRIC_FAMILIES: readonly string[] = [
  'up',
  'ALERTS',
  '(http|kpi|db_pool|process|nodejs|lookout|inference)_.+',
  'job:(http_requests|slo_requests|slo_errors|http_request_latency_good):.+',
];

/**
 * Per store: the push path, the tenant header and the URL of the compose overlay's service.
 *
 * @example
 * ```ts
 * REMOTE_WRITE_STORES.mimir.path; // '/api/v1/push'
 * ```
 */
export const REMOTE_WRITE_STORES: Readonly<Record<Exclude<RemoteWriteTarget, 'generic'>, { readonly path: string; readonly tenantHeader: string | undefined; readonly defaultUrl: string }>> = {
  mimir: { path: '/api/v1/push', tenantHeader: 'X-Scope-OrgID', defaultUrl: 'http://mimir:8080' },
  thanos: { path: '/api/v1/receive', tenantHeader: 'THANOS-TENANT', defaultUrl: 'http://thanos-receive:19291' },
  victoriametrics: { path: '/api/v1/write', tenantHeader: undefined, defaultUrl: 'http://victoriametrics:8428' },
};

const TARGETS: readonly RemoteWriteTarget[] = ['mimir', 'thanos', 'victoriametrics', 'generic'];
const NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
// Mimir's tenant ID characters (also safe as a Thanos header value); at most 150, never . or ..
const TENANT = /^[A-Za-z0-9!_.*'()-]{1,150}$/;
const VM_TENANT = /^[0-9]{1,10}(:[0-9]{1,10})?$/;
const SECRET_HEADER = /auth|token|secret|passw|key|cookie|credential|session/i;
// Headers Prometheus sets itself and refuses in `headers` (config/config.go reservedHeaders).
const RESERVED_HEADERS = new Set([
  'authorization', 'host', 'content-encoding', 'content-length', 'content-type', 'user-agent', 'connection', 'keep-alive',
  'proxy-authenticate', 'proxy-authorization', 'www-authenticate', 'accept-encoding', 'x-prometheus-remote-write-version',
  'x-prometheus-remote-read-version', 'x-prometheus-scrape-timeout-seconds', 'upgrade', 'te', 'trailer', 'transfer-encoding',
]);
const UNDROPPABLE_LABELS = new Set(['__name__', 'le', 'quantile']);

/**
 * Validates `remoteWrite` (one endpoint or a list) and fills each store's defaults; throws
 * `LOOKOUT_E_PROVISION_OPTION` naming the bad field (`remoteWrite.url`, `remoteWrite[1].tenant`…).
 *
 * @example
 * ```ts
 * const [vm] = resolveRemoteWrite({ target: 'victoriametrics', tenant: '42' }, 'api');
 * vm.url; // 'http://vminsert:8480/insert/42/prometheus/api/v1/write'
 * ```
 */
export function resolveRemoteWrite(options: RemoteWriteOptions | readonly RemoteWriteOptions[] | undefined, service: string): ResolvedRemoteWrite[] {
  if (options === undefined) return [];
  const list = Array.isArray(options) ? (options as readonly RemoteWriteOptions[]) : [options as RemoteWriteOptions];
  const resolved = list.map((entry, index) => resolveOne(entry, Array.isArray(options) ? `remoteWrite[${index}]` : 'remoteWrite', service));
  const names = new Set<string>();
  for (const [index, entry] of resolved.entries()) {
    if (names.has(entry.name)) fail(Array.isArray(options) ? `remoteWrite[${index}].name` : 'remoteWrite.name', `"${entry.name}" is used twice; give each endpoint its own name`);
    names.add(entry.name);
  }
  return resolved;
}

function resolveOne(options: RemoteWriteOptions, field: string, service: string): ResolvedRemoteWrite {
  if (options === null || typeof options !== 'object') fail(field, 'expected a mapping with at least `target`');
  const target = check(`${field}.target`, options.target, (value) => TARGETS.includes(value), TARGETS.join(' | '));
  const store = target === 'generic' ? undefined : REMOTE_WRITE_STORES[target];
  const tenantHeader = options.tenantHeader === undefined ? store?.tenantHeader : header(`${field}.tenantHeader`, options.tenantHeader);
  if (options.tenantHeader !== undefined && target === 'victoriametrics') fail(`${field}.tenantHeader`, 'VictoriaMetrics takes its tenant in the URL path, not a header');
  let tenant = options.tenant ?? (target === 'mimir' ? service : undefined);
  if (tenant !== undefined) {
    if (target === 'victoriametrics') tenant = check(`${field}.tenant`, tenant, (value) => typeof value === 'string' && VM_TENANT.test(value), 'a VictoriaMetrics cluster tenant accountID[:projectID], e.g. 42 or 42:7');
    else {
      tenant = check(`${field}.tenant`, tenant, (value) => typeof value === 'string' && TENANT.test(value) && value !== '.' && value !== '..', "at most 150 of A-Z a-z 0-9 ! - _ . * ' ( )");
      if (tenantHeader === undefined) fail(`${field}.tenantHeader`, 'a generic endpoint needs the header its tenant goes in (e.g. X-Scope-OrgID)');
    }
  }
  const url = remoteUrl(`${field}.url`, options.url, target, tenant);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    header(`${field}.headers`, name);
    if (SECRET_HEADER.test(name)) fail(`${field}.headers`, `"${name}" looks like a credential; credentials come only from files: use bearerTokenFile or basicAuth.passwordFile`);
    if (tenantHeader !== undefined && name.toLowerCase() === tenantHeader.toLowerCase()) fail(`${field}.headers`, `"${name}" is the tenant header; set tenant instead`);
    check(`${field}.headers.${name}`, value, (text) => typeof text === 'string' && text !== '' && !/[\r\n\0]/.test(text), 'a non-empty one-line string');
    headers[name] = value;
  }
  if (tenant !== undefined && tenantHeader !== undefined) headers[tenantHeader] = tenant;
  if (options.bearerTokenFile !== undefined && options.basicAuth !== undefined) fail(`${field}.basicAuth`, 'use either bearerTokenFile or basicAuth, not both');
  const basicAuth = options.basicAuth === undefined ? undefined : {
    username: check(`${field}.basicAuth.username`, options.basicAuth.username, (value) => typeof value === 'string' && value !== '' && !/[\r\n:]/.test(value), 'a user name without ":"'),
    passwordFile: path(`${field}.basicAuth.passwordFile`, options.basicAuth.passwordFile),
  };
  const tls = options.tls === undefined ? undefined : {
    ...(options.tls.caFile !== undefined && { caFile: path(`${field}.tls.caFile`, options.tls.caFile) }),
    ...(options.tls.certFile !== undefined && { certFile: path(`${field}.tls.certFile`, options.tls.certFile) }),
    ...(options.tls.keyFile !== undefined && { keyFile: path(`${field}.tls.keyFile`, options.tls.keyFile) }),
    ...(options.tls.serverName !== undefined && { serverName: check(`${field}.tls.serverName`, options.tls.serverName, (value) => /^[A-Za-z0-9.-]+$/.test(value), 'a host name') }),
  };
  if (tls !== undefined && (tls.certFile === undefined) !== (tls.keyFile === undefined)) fail(`${field}.tls`, 'certFile and keyFile go together');
  return {
    target,
    name: check(`${field}.name`, options.name ?? target, (value) => typeof value === 'string' && NAME.test(value), 'letters, digits, _ or -, starting with a letter'),
    url,
    tenant,
    headers,
    bearerTokenFile: options.bearerTokenFile === undefined ? undefined : path(`${field}.bearerTokenFile`, options.bearerTokenFile),
    basicAuth,
    tls,
    remoteTimeout: options.remoteTimeout === undefined ? undefined : duration(`${field}.remoteTimeout`, options.remoteTimeout),
    queue: queue(`${field}.queue`, options.queue ?? {}),
    keep: keep(`${field}.keep`, options.keep ?? 'all'),
    drop: (options.drop ?? []).map((pattern, index) => regex(`${field}.drop[${index}]`, pattern)),
    dropLabels: (options.dropLabels ?? []).map((label, index) =>
      check(`${field}.dropLabels[${index}]`, label, (value) => typeof value === 'string' && LABEL.test(value) && !UNDROPPABLE_LABELS.has(value), 'a label name other than __name__, le or quantile')),
    sendExemplars: check(`${field}.sendExemplars`, options.sendExemplars ?? false, (value) => typeof value === 'boolean', 'true or false'),
  };
}

function remoteUrl(field: string, given: string | undefined, target: RemoteWriteTarget, tenant: string | undefined): string {
  if (given === undefined && target === 'generic') fail(field, 'a generic endpoint needs its full URL');
  const text = given ?? (target === 'victoriametrics' && tenant !== undefined ? 'http://vminsert:8480' : REMOTE_WRITE_STORES[target as Exclude<RemoteWriteTarget, 'generic'>].defaultUrl);
  let url: URL;
  try {
    url = new URL(check(field, text, (value) => typeof value === 'string', 'a URL'));
  } catch {
    return fail(field, `expected an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(field, `expected an http(s) URL, got ${JSON.stringify(text)}`);
  if (url.username !== '' || url.password !== '') fail(field, 'credentials never go in the URL: use basicAuth.passwordFile or bearerTokenFile');
  if (url.hash !== '') fail(field, 'a URL without #fragment');
  if (url.pathname === '/' || url.pathname === '') {
    if (target !== 'generic') {
      url.pathname = target === 'victoriametrics' && tenant !== undefined ? `/insert/${tenant}/prometheus/api/v1/write` : REMOTE_WRITE_STORES[target].path;
    }
  } else if (target === 'victoriametrics' && tenant !== undefined && !url.pathname.startsWith(`/insert/${tenant}/`)) {
    fail(field, `a VictoriaMetrics cluster URL carries the tenant in its path: /insert/${tenant}/prometheus/api/v1/write`);
  }
  return url.toString();
}

function queue(field: string, options: NonNullable<RemoteWriteOptions['queue']>): NonNullable<RemoteWriteOptions['queue']> {
  const count = (name: keyof typeof options & ('capacity' | 'maxShards' | 'minShards' | 'maxSamplesPerSend')) => {
    const value = options[name];
    return value === undefined ? {} : { [name]: check(`${field}.${name}`, value, (number) => Number.isInteger(number) && number > 0 && number <= 10_000_000, 'a positive integer') };
  };
  const time = (name: 'batchSendDeadline' | 'minBackoff' | 'maxBackoff') => (options[name] === undefined ? {} : { [name]: duration(`${field}.${name}`, options[name]) });
  const resolved: NonNullable<RemoteWriteOptions['queue']> = {
    ...count('capacity'), ...count('maxShards'), ...count('minShards'), ...count('maxSamplesPerSend'),
    ...time('batchSendDeadline'), ...time('minBackoff'), ...time('maxBackoff'),
  };
  // Prometheus' defaults where a bound is compared with one that is not set.
  const capacity = resolved.capacity ?? 10_000;
  const perSend = resolved.maxSamplesPerSend ?? 2000;
  if (capacity < perSend) fail(`${field}.capacity`, `${capacity} is below maxSamplesPerSend (${perSend}); Prometheus advises 3 to 10 times it`);
  if ((resolved.minShards ?? 1) > (resolved.maxShards ?? 50)) fail(`${field}.minShards`, `${resolved.minShards ?? 1} is above maxShards (${resolved.maxShards ?? 50})`);
  if (durationSeconds(resolved.minBackoff ?? '30ms') > durationSeconds(resolved.maxBackoff ?? '5s')) fail(`${field}.minBackoff`, `${resolved.minBackoff ?? '30ms'} is above maxBackoff (${resolved.maxBackoff ?? '5s'})`);
  return resolved;
}

function keep(field: string, value: 'all' | 'lookout' | readonly string[]): 'all' | 'lookout' | readonly string[] {
  if (value === 'all' || value === 'lookout') return value;
  if (!Array.isArray(value) || value.length === 0) fail(field, `expected all, lookout or a non-empty list of metric-name regular expressions, got ${JSON.stringify(value)}`);
  return (value as readonly string[]).map((pattern, index) => regex(`${field}[${index}]`, pattern));
}

function regex(field: string, pattern: string): string {
  check(field, pattern, (value) => typeof value === 'string' && value !== '' && !value.startsWith('^') && !value.endsWith('$'), 'a non-empty RE2 pattern without ^ or $ (Prometheus anchors it)');
  try {
    new RegExp(pattern);
  } catch (error) {
    fail(field, `not a regular expression: ${(error as Error).message}`);
  }
  return pattern;
}

function header(field: string, name: string): string {
  check(field, name, (value) => typeof value === 'string' && HEADER_NAME.test(value), 'an HTTP header name');
  if (RESERVED_HEADERS.has(name.toLowerCase())) fail(field, `"${name}" is set by Prometheus itself and cannot be configured`);
  return name;
}

function path(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && text.startsWith('/') && !/[\r\n\0]/.test(text), 'an absolute path of a file (secrets only from files)');
}

function duration(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && DURATION.test(text), 'a Prometheus duration such as 5s, 1m or 30d');
}

function fail(field: string, expected: string): never {
  throw new LookoutError('LOOKOUT_E_PROVISION_OPTION', `${field}: ${expected}`);
}

function check<T>(field: string, value: T, valid: (value: T) => boolean, expected: string): T {
  if (!valid(value)) fail(field, `expected ${expected}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The `remote_write` entry Prometheus reads, from a resolved endpoint: URL, headers, auth from
 * files, TLS, `queue_config`, and `write_relabel_configs` for `keep` / `drop` / `dropLabels`.
 *
 * @example
 * ```ts
 * const [endpoint] = resolveRemoteWrite({ target: 'mimir', tenant: 'team-a', keep: 'lookout' }, 'api');
 * remoteWriteEntry(endpoint).headers; // { 'X-Scope-OrgID': 'team-a' }
 * ```
 */
export function remoteWriteEntry(endpoint: ResolvedRemoteWrite): Record<string, unknown> {
  const relabel: Record<string, unknown>[] = [];
  if (endpoint.keep !== 'all') {
    const patterns = endpoint.keep === 'lookout' ? LOOKOUT_METRIC_FAMILIES : endpoint.keep;
    relabel.push({ source_labels: ['__name__'], regex: patterns.join('|'), action: 'keep' });
  }
  if (endpoint.drop.length > 0) relabel.push({ source_labels: ['__name__'], regex: endpoint.drop.join('|'), action: 'drop' });
  if (endpoint.dropLabels.length > 0) relabel.push({ regex: endpoint.dropLabels.join('|'), action: 'labeldrop' });
  const { queue, tls } = endpoint;
  const queueConfig = {
    ...(queue.capacity !== undefined && { capacity: queue.capacity }),
    ...(queue.maxShards !== undefined && { max_shards: queue.maxShards }),
    ...(queue.minShards !== undefined && { min_shards: queue.minShards }),
    ...(queue.maxSamplesPerSend !== undefined && { max_samples_per_send: queue.maxSamplesPerSend }),
    ...(queue.batchSendDeadline !== undefined && { batch_send_deadline: queue.batchSendDeadline }),
    ...(queue.minBackoff !== undefined && { min_backoff: queue.minBackoff }),
    ...(queue.maxBackoff !== undefined && { max_backoff: queue.maxBackoff }),
  };
  return {
    name: endpoint.name,
    url: endpoint.url,
    ...(endpoint.remoteTimeout !== undefined && { remote_timeout: endpoint.remoteTimeout }),
    ...(Object.keys(endpoint.headers).length > 0 && { headers: { ...endpoint.headers } }),
    ...(endpoint.bearerTokenFile !== undefined && { authorization: { type: 'Bearer', credentials_file: endpoint.bearerTokenFile } }),
    ...(endpoint.basicAuth !== undefined && { basic_auth: { username: endpoint.basicAuth.username, password_file: endpoint.basicAuth.passwordFile } }),
    ...(tls !== undefined && Object.keys(tls).length > 0 && {
      tls_config: {
        ...(tls.caFile !== undefined && { ca_file: tls.caFile }),
        ...(tls.certFile !== undefined && { cert_file: tls.certFile }),
        ...(tls.keyFile !== undefined && { key_file: tls.keyFile }),
        ...(tls.serverName !== undefined && { server_name: tls.serverName }),
      },
    }),
    ...(endpoint.sendExemplars && { send_exemplars: true }),
    ...(Object.keys(queueConfig).length > 0 && { queue_config: queueConfig }),
    ...(relabel.length > 0 && { write_relabel_configs: relabel }),
  };
}
