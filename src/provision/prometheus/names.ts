/**
 * Names and thresholds that both the rule generators and the dashboards use, kept apart from
 * either so that dashboards need not import the rule generators (which import the runbooks,
 * which read the dashboards: a circle otherwise).
 */

/**
 * The two SLOs lookout provisions.
 *
 * @example
 * ```ts
 * const slo: SloName = 'latency';
 * ```
 */
export type SloName = 'availability' | 'latency';

/**
 * Name of the recorded SLO error ratio over `window` (`{slo="availability"|"latency"}`).
 *
 * @example
 * ```ts
 * sloErrorRatioRecord('1h'); // 'job:slo_errors:ratio_rate1h'
 * ```
 */
export function sloErrorRatioRecord(window: string): string {
  return `job:slo_errors:ratio_rate${window}`;
}

/**
 * Seconds without a successful KPI flush, while events wait, before `KpiFlushStale` fires.
 *
 * @example
 * ```ts
 * `time() - lookout_kpi_last_flush_timestamp_seconds > ${KPI_FLUSH_STALE_SECONDS}`;
 * ```
 */
export const KPI_FLUSH_STALE_SECONDS = 300;
