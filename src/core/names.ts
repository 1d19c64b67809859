import { LookoutError } from './errors.js';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const UNIT = /^[a-z][a-z0-9_]*$/;

/** Suffixes that OpenMetrics gives a meaning to: a family named with one would clash. */
const RESERVED_SUFFIXES = ['_total', '_created', '_bucket', '_count', '_sum', '_info', '_gcount', '_gsum'];

/**
 * Throws `LOOKOUT_E_INVALID_NAME` unless `name` is a valid Prometheus metric name.
 *
 * @example
 * ```ts
 * assertMetricName('http_requests_total'); // ok
 * ```
 */
export function assertMetricName(name: string): void {
  if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
    throw new LookoutError('LOOKOUT_E_INVALID_NAME', `invalid metric name ${JSON.stringify(name)}: must match ${METRIC_NAME.source}`);
  }
}

/**
 * Throws unless every label name is valid, not reserved (`__*`, and the ones
 * a metric type reserves such as `le`) and unique.
 *
 * @example
 * ```ts
 * assertLabelNames('http_request_duration_seconds', ['method', 'route'], ['le']);
 * ```
 */
export function assertLabelNames(metric: string, names: readonly string[], reserved: readonly string[] = []): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || !LABEL_NAME.test(name)) {
      throw new LookoutError('LOOKOUT_E_INVALID_LABEL_NAME', `metric ${metric}: invalid label name ${JSON.stringify(name)}: must match ${LABEL_NAME.source}`);
    }
    if (name.startsWith('__') || reserved.includes(name)) {
      throw new LookoutError('LOOKOUT_E_RESERVED_LABEL', `metric ${metric}: label name ${JSON.stringify(name)} is reserved`);
    }
    if (seen.has(name)) {
      throw new LookoutError('LOOKOUT_E_DUPLICATE_LABEL', `metric ${metric}: label name ${JSON.stringify(name)} appears twice`);
    }
    seen.add(name);
  }
}

/**
 * Throws `LOOKOUT_E_RESERVED_SUFFIX` when a family name ends with a suffix that
 * OpenMetrics reserves for the samples of another type (`_total`, `_bucket`...).
 *
 * @example
 * ```ts
 * assertNoReservedSuffix('queue_depth', 'gauge'); // ok; 'queue_total' would throw
 * ```
 */
export function assertNoReservedSuffix(name: string, type: string): void {
  const suffix = RESERVED_SUFFIXES.find((candidate) => name.endsWith(candidate));
  if (suffix !== undefined) {
    throw new LookoutError('LOOKOUT_E_RESERVED_SUFFIX', `${type} ${name}: a ${type} name must not end with ${suffix}`);
  }
}

/**
 * Throws `LOOKOUT_E_INVALID_UNIT` unless `unit` is a lower-case unit word that
 * the family name ends with (OpenMetrics requires `<name>_<unit>`).
 *
 * @example
 * ```ts
 * assertUnit('http_request_duration_seconds', 'seconds'); // ok
 * ```
 */
export function assertUnit(familyName: string, unit: string): void {
  if (!UNIT.test(unit) || !familyName.endsWith(`_${unit}`)) {
    throw new LookoutError('LOOKOUT_E_INVALID_UNIT', `metric ${familyName}: unit ${JSON.stringify(unit)} must be lower-case and the name must end with _${unit}`);
  }
}

/**
 * Throws `LOOKOUT_E_INVALID_HELP` unless `help` is a string.
 *
 * @example
 * ```ts
 * assertHelp('jobs', 'Jobs processed.');
 * ```
 */
export function assertHelp(name: string, help: unknown): asserts help is string {
  if (typeof help !== 'string') {
    throw new LookoutError('LOOKOUT_E_INVALID_HELP', `metric ${name}: help must be a string`);
  }
}
