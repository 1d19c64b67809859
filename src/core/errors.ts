/**
 * Stable error codes. Callers branch on `error.code`, never on the message.
 *
 * @example
 * ```ts
 * try { registry.counter({ name: 'bad name', help: 'x' }); }
 * catch (error) { if (error instanceof LookoutError && error.code === 'LOOKOUT_E_INVALID_NAME') ... }
 * ```
 *
 * Codes in use: LOOKOUT_E_INVALID_NAME, LOOKOUT_E_INVALID_LABEL_NAME, LOOKOUT_E_RESERVED_LABEL,
 * LOOKOUT_E_DUPLICATE_LABEL, LOOKOUT_E_RESERVED_SUFFIX, LOOKOUT_E_INVALID_UNIT, LOOKOUT_E_INVALID_HELP,
 * LOOKOUT_E_DUPLICATE_METRIC, LOOKOUT_E_INVALID_BUCKETS, LOOKOUT_E_INVALID_QUANTILES, LOOKOUT_E_INVALID_STATES,
 * LOOKOUT_E_UNKNOWN_STATE, LOOKOUT_E_LABELS, LOOKOUT_E_COUNTER_DECREASE, LOOKOUT_E_INVALID_VALUE,
 * LOOKOUT_E_INVALID_OPTION, LOOKOUT_E_INVALID_SCHEMA, LOOKOUT_E_INVALID_ZERO_THRESHOLD, LOOKOUT_E_INVALID_BUCKET_LIMIT; other modules add their own under the same prefix (README lists them all).
 */
export type LookoutErrorCode = `LOOKOUT_E_${string}`;

/**
 * The one error class lookout throws, always with a stable `code`.
 *
 * @example
 * ```ts
 * throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'port must be an integer');
 * ```
 */
export class LookoutError extends Error {
  readonly code: LookoutErrorCode;

  constructor(code: LookoutErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'LookoutError';
    this.code = code;
  }
}
