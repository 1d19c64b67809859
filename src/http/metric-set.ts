import type { Counter } from '../core/counter.js';
import type { Gauge, GaugeSeries } from '../core/gauge.js';
import type { Histogram } from '../core/histogram.js';
import type { ResolvedHttpOptions } from './options.js';

type Labels = Record<string, string>;

/**
 * The HTTP metrics of the DESIGN.md contract, registered once per recorder
 * with the labels the options keep.
 *
 * @example
 * ```ts
 * const set = new HttpMetricSet(resolveHttpOptions({ registry }), () => {});
 * set.requests?.labels(set.labelsFor('GET', '/users/:id', '200', []).full).inc();
 * ```
 */
export class HttpMetricSet {
  readonly requests: Counter<string> | undefined;
  readonly duration: Histogram<string> | undefined;
  readonly inFlight: Gauge<string> | undefined;
  readonly requestSize: Histogram<string> | undefined;
  readonly responseSize: Histogram<string> | undefined;
  readonly exceptions: Counter<string> | undefined;
  readonly aborted: Counter<string>;
  readonly hookErrors: Counter;
  readonly internalErrors: Counter;
  private readonly options: ResolvedHttpOptions;
  private readonly headerLabelNames: readonly string[];

  constructor(options: ResolvedHttpOptions, sweep: () => void) {
    this.options = options;
    const { registry, prefix, metrics } = options;
    this.headerLabelNames = options.headerLabels.map(([label]) => label);
    const full = this.names(true, true, true);
    const noStatus = this.names(true, true, false);
    const native = options.nativeHistograms === undefined ? {} : { native: options.nativeHistograms };
    this.requests = metrics.requests
      ? registry.counter({ name: `${prefix}http_requests_total`, help: 'HTTP requests handled, by route template and status.', labelNames: full })
      : undefined;
    this.duration = metrics.duration
      ? registry.histogram({
          name: `${prefix}http_request_duration_seconds`,
          help: 'Time from the request\'s arrival until its response finished, in seconds.',
          unit: 'seconds',
          labelNames: full,
          buckets: options.buckets,
          ...native,
        })
      : undefined;
    this.inFlight = metrics.inFlight
      ? registry.gauge({ name: `${prefix}http_requests_in_flight`, help: 'Requests being handled right now.', labelNames: this.names(true, false, false, false) })
      : undefined;
    this.requestSize = metrics.requestSize
      ? registry.histogram({ name: `${prefix}http_request_size_bytes`, help: 'Request body size (Content-Length), in bytes.', unit: 'bytes', labelNames: noStatus, buckets: options.sizeBuckets, ...native })
      : undefined;
    this.responseSize = metrics.responseSize
      ? registry.histogram({ name: `${prefix}http_response_size_bytes`, help: 'Response body size as sent, in bytes (chunk framing included).', unit: 'bytes', labelNames: noStatus, buckets: options.sizeBuckets, ...native })
      : undefined;
    this.exceptions = metrics.exceptions
      ? registry.counter({ name: `${prefix}http_exceptions_total`, help: 'Requests that failed with an exception, by error class name.', labelNames: [...this.names(true, true, false, false), 'exception'] })
      : undefined;
    this.aborted = registry.counter({ name: `${prefix}http_requests_aborted_total`, help: 'Requests whose client went away before the response finished.', labelNames: this.names(true, true, false, false) });
    this.hookErrors = registry.counter({ name: `${prefix}lookout_hook_errors_total`, help: 'Per-request hooks that threw (the request was not affected).' });
    this.internalErrors = registry.counter({ name: `${prefix}lookout_internal_errors_total`, help: 'Internal errors of the HTTP recorder (the request was not affected).' });
    registry.addCollector(sweep);
  }

  /** Label objects for a request: `full` (with status) and `noStatus`. */
  labelsFor(method: string, route: string, status: string, headerValues: readonly string[]): { full: Labels; noStatus: Labels } {
    const noStatus: Labels = {};
    if (this.options.labels.method) noStatus['method'] = method;
    if (this.options.labels.route) noStatus['route'] = route;
    this.headerLabelNames.forEach((name, index) => (noStatus[name] = headerValues[index] ?? ''));
    if (this.options.appName !== undefined) noStatus['app'] = this.options.appName;
    const full = { ...noStatus };
    if (this.options.labels.status) full['status'] = status;
    return { full, noStatus };
  }

  /** The in-flight series of one method. */
  inFlightSeries(method: string): GaugeSeries {
    const labels: Labels = {};
    if (this.options.labels.method) labels['method'] = method;
    if (this.options.appName !== undefined) labels['app'] = this.options.appName;
    return this.inFlight!.labels(labels);
  }

  countException(method: string, route: string, exception: string): void {
    this.exceptions?.labels({ ...this.base(method, route), exception }).inc();
  }

  countAborted(method: string, route: string): void {
    this.aborted.labels(this.base(method, route)).inc();
  }

  private base(method: string, route: string): Labels {
    const labels: Labels = {};
    if (this.options.labels.method) labels['method'] = method;
    if (this.options.labels.route) labels['route'] = route;
    if (this.options.appName !== undefined) labels['app'] = this.options.appName;
    return labels;
  }

  private names(method: boolean, route: boolean, status: boolean, headers = true): string[] {
    const names: string[] = [];
    if (method && this.options.labels.method) names.push('method');
    if (route && this.options.labels.route) names.push('route');
    if (status && this.options.labels.status) names.push('status');
    if (headers) names.push(...this.headerLabelNames);
    names.push(...this.appName());
    return names;
  }

  private appName(): string[] {
    return this.options.appName === undefined ? [] : ['app'];
  }
}
