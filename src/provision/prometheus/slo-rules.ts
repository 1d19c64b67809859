import { sloErrorRatioRecord, type SloName } from './names.js';
export { sloErrorRatioRecord, type SloName } from './names.js';
import type { ResolvedProvisionOptions } from '../options.js';
import { durationSeconds, errorBudget, leLabel, number } from '../promql.js';
import { withAlertLinks } from '../runbooks.js';

/**
 * One Prometheus rule (recording or alerting) as written to a rule file.
 *
 * @example
 * ```ts
 * const rule: PrometheusRule = { record: 'job:http_requests:rate5m', expr: 'sum by (job) (rate(http_requests_total[5m]))' };
 * ```
 */
export interface PrometheusRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * A rule group as written to a rule file.
 *
 * @example
 * ```ts
 * const group: RuleGroup = { name: 'api-sli', rules: [] };
 * ```
 */
export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly PrometheusRule[];
}

/**
 * Time scale of the generated rules: every range window and `for:` is multiplied by `scale`
 * (default 1: the committed rules). Only for tests that must see alerts fire and resolve within
 * minutes (`scale: 1 / 60` turns 1h into 1m); the record and alert names keep the real windows.
 *
 * @example
 * ```ts
 * const fast: RuleTiming = { scale: 1 / 60 };
 * ```
 */
export interface RuleTiming {
  readonly scale?: number;
}

/**
 * A Prometheus duration multiplied by `timing.scale` (whole seconds, else milliseconds).
 *
 * @example
 * ```ts
 * scaledDuration('1h', { scale: 1 / 60 }); // '60s'
 * scaledDuration('5m'); // '5m'
 * ```
 */
export function scaledDuration(duration: string, timing: RuleTiming = {}): string {
  const scale = timing.scale ?? 1;
  if (scale === 1) return duration;
  if (!(scale > 0 && scale <= 1)) throw new RangeError(`timing.scale must be in (0, 1], got ${scale}`);
  const ms = Math.max(1, Math.round(durationSeconds(duration) * 1000 * scale));
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The SLI windows recorded for every SLO (the burn-rate alerts read them).
 *
 * @example
 * ```ts
 * SLI_WINDOWS.map((window) => `job:http_requests:rate${window}`);
 * ```
 */
export const SLI_WINDOWS: readonly string[] = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'];

/**
 * Multi-window multi-burn-rate pairs (Google SRE workbook, chapter 5): an alert fires when both
 * windows burn the budget `factor` times faster than allowed; the short window makes it reset
 * quickly once the problem stops. `for` damps flapping on the edge.
 *
 * @example
 * ```ts
 * BURN_RATE_WINDOWS[0]; // { long: '1h', short: '5m', factor: 14.4, severity: 'page', for: '2m' }
 * ```
 */
export const BURN_RATE_WINDOWS = [
  { long: '1h', short: '5m', factor: 14.4, severity: 'page', for: '2m' },
  { long: '6h', short: '30m', factor: 6, severity: 'page', for: '15m' },
  { long: '1d', short: '2h', factor: 3, severity: 'ticket', for: '1h' },
  { long: '3d', short: '6h', factor: 1, severity: 'ticket', for: '3h' },
] as const;

/**
 * Alert name for one SLO and one window pair.
 *
 * @example
 * ```ts
 * burnRateAlertName('latency', BURN_RATE_WINDOWS[1]); // 'LatencyErrorBudgetBurn6h30m'
 * ```
 */
export function burnRateAlertName(slo: SloName, pair: { readonly long: string; readonly short: string }): string {
  return `${slo === 'availability' ? 'Availability' : 'Latency'}ErrorBudgetBurn${pair.long}${pair.short}`;
}

/**
 * Every window the SLI rules record: the alert windows plus the SLO period.
 *
 * @example
 * ```ts
 * recordedWindows(resolveProvisionOptions()); // ['5m', ..., '3d', '30d']
 * ```
 */
export function recordedWindows(options: ResolvedProvisionOptions): string[] {
  return SLI_WINDOWS.includes(options.slo.period) ? [...SLI_WINDOWS] : [...SLI_WINDOWS, options.slo.period];
}

/**
 * SLI recording rules: request rate, availability error ratio, latency-under-threshold ratio and
 * the latency error ratio, per window, aggregated by job.
 *
 * @example
 * ```ts
 * sliRecordingGroup(resolveProvisionOptions()).rules.length; // 4 rules x 8 windows
 * ```
 */
export function sliRecordingGroup(options: ResolvedProvisionOptions, timing: RuleTiming = {}): RuleGroup {
  const job = `job="${options.service}"`;
  const le = leLabel(options.slo.latency.thresholdSeconds);
  const rules = recordedWindows(options).flatMap((window): PrometheusRule[] => {
    const range = scaledDuration(window, timing);
    const all = `sum by (job) (rate(http_requests_total{${job}}[${range}]))`;
    // A service without any 5xx has no such series: `or 0 * all` makes the ratio 0, not absent.
    const failed = `sum by (job) (rate(http_requests_total{${job}, status=~"5.."}[${range}]))`;
    const fast = `sum by (job) (rate(http_request_duration_seconds_bucket{${job}, le="${le}"}[${range}]))`;
    const count = `sum by (job) (rate(http_request_duration_seconds_count{${job}}[${range}]))`;
    return [
      { record: `job:http_requests:rate${window}`, expr: all },
      { record: sloErrorRatioRecord(window), expr: `(${failed} or (0 * ${all}))\n/\n${all}`, labels: { slo: 'availability' } },
      { record: `job:http_request_latency_good:ratio_rate${window}`, expr: `${fast}\n/\n${count}` },
      { record: sloErrorRatioRecord(window), expr: `1 - job:http_request_latency_good:ratio_rate${window}{${job}}`, labels: { slo: 'latency' } },
    ];
  });
  return { name: `${options.service}-sli`, rules };
}

/**
 * Multi-window multi-burn-rate alerts for the availability and latency SLOs.
 *
 * @example
 * ```ts
 * burnRateAlertGroup(resolveProvisionOptions()).rules.map((rule) => rule.alert);
 * ```
 */
export function burnRateAlertGroup(options: ResolvedProvisionOptions, timing: RuleTiming = {}): RuleGroup {
  const rules = (['availability', 'latency'] as const).flatMap((slo) => BURN_RATE_WINDOWS.map((pair) => burnRateAlert(options, slo, pair, timing)));
  // Every alert carries runbook_url and dashboard (src/provision/runbooks.ts).
  return withAlertLinks(options, { name: `${options.service}-slo-alerts`, rules });
}

function burnRateAlert(options: ResolvedProvisionOptions, slo: SloName, pair: (typeof BURN_RATE_WINDOWS)[number], timing: RuleTiming): PrometheusRule {
  const objective = options.slo[slo].objective;
  const budget = errorBudget(objective);
  const threshold = `(${number(pair.factor)} * ${number(budget)})`;
  const matchers = `{job="${options.service}", slo="${slo}"}`;
  const exhaustedIn = formatDays(durationSeconds(options.slo.period) / pair.factor);
  const badRequests = slo === 'availability' ? 'requests failed with a 5xx status' : `requests took longer than ${options.slo.latency.thresholdSeconds}s`;
  return {
    alert: burnRateAlertName(slo, pair),
    expr: `${sloErrorRatioRecord(pair.long)}${matchers} > ${threshold}\nand\n${sloErrorRatioRecord(pair.short)}${matchers} > ${threshold}`,
    for: scaledDuration(pair.for, timing),
    labels: { severity: pair.severity, slo, long_window: pair.long, short_window: pair.short },
    annotations: {
      summary: `{{ $labels.job }}: ${slo} error budget burning ${number(pair.factor)}x too fast`,
      description:
        `{{ $value | humanizePercentage }} of ${badRequests} over the last ${pair.long}, above the ${number(pair.factor * budget * 100)}% this alert allows, ` +
        `and over the last ${pair.short} too (objective ${number(objective * 100)}%). At ${number(pair.factor)}x the ${options.slo.period} error budget is spent in ${exhaustedIn}.`,
    },
  };
}

function formatDays(seconds: number): string {
  const hours = seconds / 3600;
  return hours < 48 ? `${number(Math.round(hours * 10) / 10)}h` : `${number(Math.round((hours / 24) * 10) / 10)}d`;
}
