import { LookoutError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';

/**
 * What the dashboard needs of a KPI instance (`createKpi(...)` from `lookout/kpi`
 * fits): its counts for the pipeline tiles, and its store's `query` for the SQL panels.
 *
 * @example
 * ```ts
 * const kpi: DashboardKpi = createKpi({ registry, events: ['good_inference', 'bad_inference'] });
 * ```
 */
export interface DashboardKpi {
  readonly store: {
    query?(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  };
  stats(): { readonly pending: number };
}

/**
 * Options of the built-in dashboard (the adapters' `dashboard` option).
 *
 * @example
 * ```ts
 * await app.register(lookout, { registry, dashboard: { path: '/lookout', kpi, prometheusUrl: 'http://127.0.0.1:9090' } });
 * ```
 */
export interface DashboardOptions {
  /** Where the page is served (default `/lookout`); its data comes from `<path>/data`. */
  readonly path?: string;
  /** Shown in the header and the tab (default `lookout`). */
  readonly title?: string;
  /** Seconds between two in-process samples (default 5). */
  readonly sampleSeconds?: number;
  /** Minutes of in-process samples kept (default 60); memory is bounded by this and `maxRoutes`. */
  readonly historyMinutes?: number;
  /** Routes tracked and shown (default 20); the others are summed as `(other routes)`. */
  readonly maxRoutes?: number;
  /** Prometheus base URL (`http://127.0.0.1:9090`): charts then come from its HTTP API. */
  readonly prometheusUrl?: string;
  /** Label matchers added to every Prometheus query, e.g. `job="inference-api"` (default none). */
  readonly prometheusSelector?: string;
  /** A KPI instance: accuracy per minute and events by type from its store, and the pipeline tiles. */
  readonly kpi?: DashboardKpi;
  /**
   * Runbooks by alert name (Markdown, e.g. lookout provision's `generateRunbooks`): served at
   * `<path>/runbooks/<alert>` and listed at `<path>/runbooks`, which the page links to.
   */
  readonly runbooks?: Readonly<Record<string, string>>;
}

/**
 * Everything a dashboard is built from: the options plus what the adapter knows.
 *
 * @example
 * ```ts
 * const config: DashboardConfig = { registry, token: process.env.METRICS_TOKEN, prefix: '' };
 * ```
 */
export interface DashboardConfig extends DashboardOptions {
  readonly registry: Registry;
  /** Bearer token (the one `/metrics` uses). */
  readonly token?: string | undefined;
  /** Prefix of the HTTP metric names (the adapters' `prefix` option). */
  readonly prefix?: string;
}

/**
 * Options with defaults filled in, validated once.
 *
 * @example
 * ```ts
 * const resolved: ResolvedDashboardOptions = resolveDashboardOptions({ registry, sampleSeconds: 1 });
 * resolved.historySamples; // 3601
 * ```
 */
export interface ResolvedDashboardOptions {
  readonly registry: Registry;
  readonly token: string | undefined;
  readonly prefix: string;
  readonly path: string;
  readonly dataPath: string;
  readonly title: string;
  readonly sampleSeconds: number;
  /** Samples kept in the ring buffer. */
  readonly historySamples: number;
  readonly maxRoutes: number;
  readonly prometheusUrl: string | undefined;
  readonly prometheusSelector: string;
  readonly kpi: DashboardKpi | undefined;
  /** Runbooks by alert name; empty when none were given. */
  readonly runbooks: ReadonlyMap<string, string>;
  /** `<path>/runbooks`, or undefined without runbooks. */
  readonly runbooksPath: string | undefined;
}

const MAX_SAMPLES = 20_000;

function fail(message: string): never {
  throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `dashboard: ${message}`);
}

function numberIn(name: string, value: number | undefined, fallback: number, min: number, max: number, integer = false): number {
  const resolved = value ?? fallback;
  if (typeof resolved !== 'number' || !(resolved >= min && resolved <= max) || (integer && !Number.isInteger(resolved))) {
    fail(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(resolved)}`);
  }
  return resolved;
}

/**
 * Validates the options and fills the defaults. Throws `LOOKOUT_E_INVALID_OPTION`.
 *
 * @example
 * ```ts
 * resolveDashboardOptions({ registry }).dataPath; // '/lookout/data'
 * ```
 */
export function resolveDashboardOptions(config: DashboardConfig): ResolvedDashboardOptions {
  const path = config.path ?? '/lookout';
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(path) || (path.length > 1 && path.endsWith('/'))) {
    fail(`path must start with / and hold only URL path characters, without a trailing slash, got ${JSON.stringify(path)}`);
  }
  const runbooks = new Map<string, string>();
  for (const [name, text] of Object.entries(config.runbooks ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(name) || typeof text !== 'string') fail(`runbooks: expected alert names (letters, digits, _ or -) mapped to Markdown text, got ${JSON.stringify(name)}`);
    runbooks.set(name, text);
  }
  const sampleSeconds = numberIn('sampleSeconds', config.sampleSeconds, 5, 0.05, 3600);
  const historyMinutes = numberIn('historyMinutes', config.historyMinutes, 60, 1, 7 * 24 * 60);
  const historySamples = Math.ceil((historyMinutes * 60) / sampleSeconds) + 1;
  if (historySamples > MAX_SAMPLES) fail(`historyMinutes / sampleSeconds keeps ${historySamples} samples, more than ${MAX_SAMPLES}: sample less often`);
  let prometheusUrl: string | undefined;
  if (config.prometheusUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(config.prometheusUrl);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') {
      fail(`prometheusUrl must be an http(s) URL without credentials, got ${JSON.stringify(config.prometheusUrl)}`);
    }
    prometheusUrl = url.href.replace(/\/+$/, '');
  }
  const selector = config.prometheusSelector ?? '';
  if (typeof selector !== 'string' || /[{}\n]/.test(selector)) fail('prometheusSelector is a list of label matchers without braces, e.g. job="api"');
  const title = config.title ?? 'lookout';
  if (typeof title !== 'string' || title.length > 100) fail('title must be a string of at most 100 characters');
  if (config.kpi !== undefined && typeof config.kpi?.stats !== 'function') fail('kpi must be the object createKpi() returned');
  return {
    registry: config.registry,
    token: config.token,
    prefix: config.prefix ?? '',
    path,
    dataPath: path === '/' ? '/data' : `${path}/data`,
    title,
    sampleSeconds,
    historySamples,
    maxRoutes: numberIn('maxRoutes', config.maxRoutes, 20, 1, 200, true),
    prometheusUrl,
    prometheusSelector: selector.trim(),
    kpi: config.kpi,
    runbooks,
    runbooksPath: runbooks.size === 0 ? undefined : path === '/' ? '/runbooks' : `${path}/runbooks`,
  };
}
