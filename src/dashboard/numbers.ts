/**
 * Points per series at most: long ranges are thinned (in-process) or stepped (Prometheus) to fit.
 *
 * @example
 * ```ts
 * const step = Math.ceil(range / MAX_POINTS);
 * ```
 */
export const MAX_POINTS = 300;

/**
 * Rounds to 4 significant digits: plenty for a chart, and a third of the JSON.
 *
 * @example
 * ```ts
 * round(0.0123456); // 0.01235
 * ```
 */
export function round(value: number): number {
  return value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(4));
}
