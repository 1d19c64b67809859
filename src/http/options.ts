import type { IncomingMessage, ServerResponse } from 'node:http';
import { LookoutError } from '../core/errors.js';
import { rawHeader } from './headers.js';
import { DEFAULT_BUCKETS } from '../core/histogram.js';
import type { NativeHistogramOptions } from '../core/native.js';
import { assertLabelNames, assertMetricName } from '../core/names.js';
import type { Registry } from '../core/registry.js';

/** What a per-request hook learns besides the raw request and response. */
export interface RequestInfo {
  /** Route template (`/users/:id`), or the unmatched value. */
  readonly route: string;
  /** Normalised method (`GET`, or `_OTHER`). */
  readonly method: string;
  /** HTTP status code. */
  readonly status: number;
}

/**
 * Per-request hook: update any metric of your own from the finished request
 * (prometheusrock's AddMetric). It runs after the response has finished; a
 * throwing hook is counted in `lookout_hook_errors_total` and never reaches the app.
 */
export type RequestHook = (req: IncomingMessage, res: ServerResponse, elapsedSeconds: number, info: RequestInfo) => void;

/** Which default metrics to record (all on by default). */
export interface HttpMetricSwitches {
  readonly requests?: boolean;
  readonly duration?: boolean;
  readonly inFlight?: boolean;
  readonly requestSize?: boolean;
  readonly responseSize?: boolean;
  readonly exceptions?: boolean;
}

/**
 * Options shared by every adapter.
 *
 * @example
 * ```ts
 * const options: HttpMetricsOptions = {
 *   registry,
 *   appName: 'inference-api',
 *   statusLabel: 'class',
 *   headerLabels: { tenant: 'x-tenant' },
 *   onRequest: (req, res, seconds, info) => slow.labels({ route: info.route }).observe(seconds),
 * };
 * ```
 */
export interface HttpMetricsOptions {
  /** Where the metrics live (required: there is no hidden global). */
  readonly registry: Registry;
  /** Prefix for the metric names (`myapp_` gives `myapp_http_requests_total`). */
  readonly prefix?: string;
  /** Duration buckets in seconds. */
  readonly buckets?: readonly number[];
  /** Request and response size buckets in bytes. */
  readonly sizeBuckets?: readonly number[];
  /**
   * Also keep Prometheus native histograms for the duration and size
   * histograms (`true` for schema 3; exposed in protobuf, the classic buckets
   * stay for text scrapers).
   */
  readonly nativeHistograms?: NativeHistogramOptions | true;
  /** Turn single default metrics off. */
  readonly metrics?: HttpMetricSwitches;
  /** Drop default labels (`{ status: false }`). */
  readonly labels?: { readonly method?: boolean; readonly route?: boolean; readonly status?: boolean };
  /** `code` (`200`, default) or `class` (`2xx`). */
  readonly statusLabel?: 'code' | 'class';
  /** Adds an `app` label with this value to every HTTP series. */
  readonly appName?: string;
  /** Opt-in labels from request headers: `{ labelName: 'header-name' }`. */
  readonly headerLabels?: Readonly<Record<string, string>>;
  /** Distinct values kept per header label before the rest fold into `__other__` (default 20). */
  readonly maxHeaderValues?: number;
  /** Paths never recorded (default `['/metrics']`, plus the metrics path). */
  readonly skipPaths?: readonly string[];
  /** Route value of requests that matched no route (default `__unmatched__`). */
  readonly unmatchedRoute?: string;
  /** Per-request hook for custom metrics. */
  readonly onRequest?: RequestHook;
  /**
   * Exemplars in OpenMetrics output: `true` (default) takes the trace id from
   * a W3C `traceparent` header; a function returns the trace id itself; `false` disables them.
   */
  readonly exemplars?: boolean | ((req: IncomingMessage) => string | undefined);
  /** Distinct exception class names kept before the rest fold into `__other__` (default 50). */
  readonly maxExceptionTypes?: number;
  /** Distinct route templates kept before the rest fold into `__overflow__` (default 1000). */
  readonly maxRoutes?: number;
}

/** Options after validation, with every default filled in. */
export interface ResolvedHttpOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly buckets: readonly number[];
  readonly sizeBuckets: readonly number[];
  readonly nativeHistograms: NativeHistogramOptions | true | undefined;
  readonly metrics: Required<HttpMetricSwitches>;
  readonly labels: { readonly method: boolean; readonly route: boolean; readonly status: boolean };
  readonly statusLabel: 'code' | 'class';
  readonly appName: string | undefined;
  readonly headerLabels: readonly (readonly [label: string, header: string])[];
  readonly maxHeaderValues: number;
  readonly skipPaths: ReadonlySet<string>;
  readonly unmatchedRoute: string;
  readonly onRequest: RequestHook | undefined;
  readonly traceId: ((req: IncomingMessage) => string | undefined) | undefined;
  readonly maxExceptionTypes: number;
  readonly maxRoutes: number;
}

/** Size buckets: 100 B to 10 MB. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/**
 * Trace id from a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`).
 *
 * @example
 * ```ts
 * traceIdFromTraceparent(req); // '4bf92f3577b34da6a3ce929d0e0e4736' or undefined
 * ```
 */
export function traceIdFromTraceparent(req: IncomingMessage): string | undefined {
  return traceIdOfTraceparent(rawHeader(req, 'traceparent'));
}

/**
 * The trace id of a W3C `traceparent` header value (`00-<32 hex>-<16 hex>-<2 hex>`),
 * as {@link traceIdFromTraceparent} reads it from a request.
 *
 * @example
 * ```ts
 * traceIdOfTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // '4bf92f3577b34da6a3ce929d0e0e4736'
 * ```
 */
export function traceIdOfTraceparent(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 55 || header.charCodeAt(2) !== 45 || header.charCodeAt(35) !== 45) return undefined;
  const traceId = header.slice(3, 35);
  return /^[0-9a-f]{32}$/.test(traceId) && traceId !== '00000000000000000000000000000000' ? traceId : undefined;
}

/**
 * Validates and completes adapter options once, at registration.
 * Throws `LOOKOUT_E_INVALID_OPTION` (or a name error code) on bad input.
 *
 * @example
 * ```ts
 * const resolved = resolveHttpOptions({ registry: new Registry() });
 * ```
 */
export function resolveHttpOptions(options: HttpMetricsOptions, extraSkipPaths: readonly string[] = []): ResolvedHttpOptions {
  if (options === null || typeof options !== 'object' || options.registry === undefined || typeof options.registry.counter !== 'function') {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'options.registry is required: pass `new Registry()` from lookout');
  }
  const prefix = options.prefix ?? '';
  if (prefix !== '') assertMetricName(`${prefix}http_requests_total`);
  const headerLabels = Object.entries(options.headerLabels ?? {}).map(([label, header]) => {
    if (typeof header !== 'string' || header === '') throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `headerLabels.${label} must name a header`);
    return [label, header.toLowerCase()] as const;
  });
  assertLabelNames('http metrics', [...headerLabels.map(([label]) => label), 'method', 'route', 'status', 'exception', ...(options.appName === undefined ? [] : ['app'])]);
  const positiveInteger = (name: string, value: number | undefined, fallback: number): number => {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved < 1) throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `${name} must be a positive integer`);
    return resolved;
  };
  if (options.statusLabel !== undefined && options.statusLabel !== 'code' && options.statusLabel !== 'class') {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'statusLabel must be "code" or "class"');
  }
  const exemplars = options.exemplars ?? true;
  const switches = options.metrics ?? {};
  return {
    registry: options.registry,
    prefix,
    buckets: options.buckets ?? DEFAULT_BUCKETS,
    sizeBuckets: options.sizeBuckets ?? DEFAULT_SIZE_BUCKETS,
    nativeHistograms: options.nativeHistograms,
    metrics: {
      requests: switches.requests ?? true,
      duration: switches.duration ?? true,
      inFlight: switches.inFlight ?? true,
      requestSize: switches.requestSize ?? true,
      responseSize: switches.responseSize ?? true,
      exceptions: switches.exceptions ?? true,
    },
    labels: { method: options.labels?.method ?? true, route: options.labels?.route ?? true, status: options.labels?.status ?? true },
    statusLabel: options.statusLabel ?? 'code',
    appName: options.appName,
    headerLabels,
    maxHeaderValues: positiveInteger('maxHeaderValues', options.maxHeaderValues, 20),
    skipPaths: new Set([...(options.skipPaths ?? ['/metrics']), ...extraSkipPaths]),
    unmatchedRoute: options.unmatchedRoute ?? '__unmatched__',
    onRequest: options.onRequest,
    traceId: exemplars === true ? traceIdFromTraceparent : exemplars === false ? undefined : exemplars,
    maxExceptionTypes: positiveInteger('maxExceptionTypes', options.maxExceptionTypes, 50),
    maxRoutes: positiveInteger('maxRoutes', options.maxRoutes, 1000),
  };
}
