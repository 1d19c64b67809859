import { LookoutError } from '../core/errors.js';

/**
 * Error codes of `lookout/kpi`. `record` never throws: these reach the
 * `onError` callback. Options errors are thrown by `createKpi` and the stores.
 *
 * @example
 * ```ts
 * createKpi({ registry, events: ['good_inference'], onError: (error) => {
 *   if (error.code === KPI_ERRORS.tooLarge) log.warn(error.message);
 * } });
 * ```
 */
export const KPI_ERRORS = {
  /** An option of `createKpi` or a store is invalid (thrown at setup). */
  option: 'LOOKOUT_E_KPI_OPTION',
  /** `record` got an event name that was not declared in `events`. */
  unknownEvent: 'LOOKOUT_E_KPI_UNKNOWN_EVENT',
  /** `args` cannot become JSON (circular, BigInt, a bare function) or holds what PostgreSQL rejects (NUL, lone surrogates); or `user`/`model`/`value` has the wrong type. */
  invalid: 'LOOKOUT_E_KPI_INVALID_FIELDS',
  /** `args` is larger than `maxArgsBytes`, or `user`/`model` longer than `maxFieldLength`. */
  tooLarge: 'LOOKOUT_E_KPI_TOO_LARGE',
  /** The buffer was full; reported once per overflow episode, every drop is counted. */
  bufferFull: 'LOOKOUT_E_KPI_BUFFER_FULL',
  /** `record` after `close()`. */
  closed: 'LOOKOUT_E_KPI_CLOSED',
  /** `close()` reached its deadline with events still unwritten (they are counted as dropped). */
  closeTimeout: 'LOOKOUT_E_KPI_CLOSE_TIMEOUT',
  /** A flush (or the store's migration) failed; the batch is retried with backoff. */
  store: 'LOOKOUT_E_KPI_STORE',
  /** The embedded store process could not start (a data folder that is not one, a version PGlite cannot open, a start-up timeout). */
  storeStart: 'LOOKOUT_E_KPI_STORE_START',
  /** PostgreSQL rejected one row even after the batch was split; that row is dropped as `invalid`. */
  rowRejected: 'LOOKOUT_E_KPI_ROW_REJECTED',
} as const;

/** One of the `LOOKOUT_E_KPI_*` codes. @example const code: KpiErrorCode = KPI_ERRORS.closed; */
export type KpiErrorCode = (typeof KPI_ERRORS)[keyof typeof KPI_ERRORS];

/**
 * Builds a `LookoutError` that keeps the original error as `cause`.
 *
 * @example
 * ```ts
 * kpiError(KPI_ERRORS.store, 'flush failed', socketError);
 * ```
 */
export function kpiError(code: KpiErrorCode, message: string, cause?: unknown): LookoutError {
  const error = new LookoutError(code, message);
  if (cause !== undefined) (error as Error & { cause?: unknown }).cause = cause;
  return error;
}

/**
 * Throws `LOOKOUT_E_KPI_OPTION` unless `value` is an integer within bounds.
 *
 * @example
 * ```ts
 * const size = integerOption('bufferSize', options.bufferSize, 100_000, 1);
 * ```
 */
export function integerOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < min || resolved > max) {
    throw new LookoutError(KPI_ERRORS.option, `${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return resolved;
}

/**
 * True for a PostgreSQL data error (SQLSTATE class 22, a check or not-null
 * violation, a value too complex to parse, a program limit exceeded): the rows
 * are at fault, retrying the same rows cannot succeed (fewer of them may).
 *
 * @example
 * ```ts
 * if (isDataError(error)) splitTheBatch();
 * ```
 */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length !== 5) return false;
  // 54000 program_limit_exceeded: a row too large for an index or a page, or a COPY over the
  // embedded store's byte limit; fewer rows at once succeed.
  return code.startsWith('22') || code === '23502' || code === '23514' || code === '54000' || code === '54001';
}

/** A short description of any thrown value. @example describe(new Error('x')) // 'x' */
export function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
