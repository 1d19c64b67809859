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

/** Windows up to this many seconds are recorded in the short group, the longer ones in the long group. */
const SHORT_GROUP_MAX_SECONDS = 6 * 3600;

/**
 * The one window the SLI rules read the raw series over: the evaluation interval plus one scrape
 * interval (at least two scrape intervals: a rate needs two samples). Evaluated every evaluation
 * interval, each window then starts at the scrape where the previous one ended, so consecutive
 * windows count every increment once: no increment falls between two windows to be guessed from
 * the slope (as with a window of exactly the evaluation interval, which misses the increments
 * between its last scrape and the next window's first). Averaged over a long window, these rates
 * give the rate over that window.
 *
 * @example
 * ```ts
 * sliStepWindow(resolveProvisionOptions({ scrapeInterval: '15s', evaluationInterval: '1m' })); // '1m15s'
 * sliStepWindow(resolveProvisionOptions({ scrapeInterval: '5s', evaluationInterval: '15s' })); // '20s'
 * ```
 */
export function sliStepWindow(options: ResolvedProvisionOptions): string {
  const scrape = durationSeconds(options.scrapeInterval);
  const seconds = Math.max(durationSeconds(options.evaluationInterval) + scrape, 2 * scrape);
  const parts = [[Math.floor(seconds / 3600), 'h'], [Math.floor((seconds % 3600) / 60), 'm'], [seconds % 60, 's']] as const;
  return parts.filter(([value]) => value > 0).map(([value, unit]) => `${number(value)}${unit}`).join('');
}

/**
 * Names of the two per-SLO short-window series every window is computed from: requests per second
 * and bad requests per second over {@link sliStepWindow}, per job, labelled `slo`.
 *
 * @example
 * ```ts
 * sliStepRecords('1m15s'); // { requests: 'job:slo_requests:rate1m15s', errors: 'job:slo_errors:rate1m15s' }
 * ```
 */
export function sliStepRecords(step: string): { readonly requests: string; readonly errors: string } {
  return { requests: `job:slo_requests:rate${step}`, errors: `job:slo_errors:rate${step}` };
}

/**
 * SLI recording rules, in two groups whose cost does not grow with the SLO period nor (past the
 * first rules) with the number of raw series:
 *
 * - `<service>-sli`: the only rules that read raw series, over one short window
 *   ({@link sliStepWindow}): requests and bad requests per second for each SLO (a 5xx for
 *   availability; `_count` minus the `le` threshold bucket for latency, or with `histograms: native`
 *   {@link nativeLatencyStepRules}), summed by job. Then, from
 *   those recordings, the windows up to 6h (the page alerts' windows).
 * - `<service>-sli-long`: 1d, 3d and the period, from the same recordings.
 *
 * Each window's error ratio is `avg_over_time(errors[w]) / avg_over_time(requests[w])`: both
 * series come from the same evaluations, so this is a ratio of sums over the window, not an average
 * of ratios. Per window: request rate, both SLO error ratios and the latency-good ratio.
 *
 * @example
 * ```ts
 * sliRecordingGroups(resolveProvisionOptions()).map((group) => group.name); // ['inference-api-sli', 'inference-api-sli-long']
 * ```
 */
export function sliRecordingGroups(options: ResolvedProvisionOptions, timing: RuleTiming = {}): RuleGroup[] {
  const job = `job="${options.service}"`;
  const le = leLabel(options.slo.latency.thresholdSeconds);
  // The step window is not scaled with the rules' timing: it covers the real scrape and evaluation
  // intervals, which a time-scaled test sets in `options` (a scaled step shorter than two scrapes reads nothing).
  const step = sliStepWindow(options);
  const { requests, errors } = sliStepRecords(step);
  const raw = (selector: string) => `sum by (job) (rate(${selector}[${step}]))`;
  const all = raw(`http_requests_total{${job}}`);
  const count = raw(`http_request_duration_seconds_count{${job}}`);
  const stepRules: PrometheusRule[] = [
    { record: requests, expr: all, labels: { slo: 'availability' } },
    // A service without any 5xx has no such series: `or 0 * all` makes the rate 0, not absent.
    { record: errors, expr: `${raw(`http_requests_total{${job}, status=~"5.."}`)} or (0 * ${all})`, labels: { slo: 'availability' } },
    ...(options.histograms === 'native'
      ? nativeLatencyStepRules(raw(`http_request_duration_seconds{${job}}`), options.slo.latency.thresholdSeconds, requests, errors)
      : [
          { record: requests, expr: count, labels: { slo: 'latency' } },
          { record: errors, expr: `${count}\n-\n${raw(`http_request_duration_seconds_bucket{${job}, le="${le}"}`)}`, labels: { slo: 'latency' } },
        ]),
  ];
  const windowRules = (window: string): PrometheusRule[] => {
    const w = scaledDuration(window, timing);
    const average = (record: string, slo: SloName) => `avg_over_time(${record}{${job}, slo="${slo}"}[${w}])`;
    const ratio = (slo: SloName) => `sum by (job) (${average(errors, slo)})\n/\nsum by (job) (${average(requests, slo)})`;
    return [
      { record: `job:http_requests:rate${window}`, expr: `sum by (job) (${average(requests, 'availability')})` },
      { record: sloErrorRatioRecord(window), expr: ratio('availability'), labels: { slo: 'availability' } },
      { record: sloErrorRatioRecord(window), expr: ratio('latency'), labels: { slo: 'latency' } },
      { record: `job:http_request_latency_good:ratio_rate${window}`, expr: `1 - ${sloErrorRatioRecord(window)}{${job}, slo="latency"}` },
    ];
  };
  const windows = recordedWindows(options);
  const short = windows.filter((window) => durationSeconds(window) <= SHORT_GROUP_MAX_SECONDS);
  const long = windows.filter((window) => durationSeconds(window) > SHORT_GROUP_MAX_SECONDS);
  return [
    { name: `${options.service}-sli`, rules: [...stepRules, ...short.flatMap(windowRules)] },
    { name: `${options.service}-sli-long`, rules: long.flatMap(windowRules) },
  ];
}

/**
 * The latency step rules over native histograms: requests are `histogram_count` of the summed
 * rate, bad requests that count times the share above the threshold, `1 - histogram_fraction(0,
 * threshold, …)` (exact when the threshold is a bucket boundary, a power of two at schema >= 0;
 * otherwise interpolated inside the one bucket holding it). A step without requests has no
 * fraction (NaN): `>= 0` drops it and `or 0 * count` records 0, so the window averages stay numbers.
 *
 * @example
 * ```ts
 * nativeLatencyStepRules('sum by (job) (rate(http_request_duration_seconds{job="api"}[20s]))', 1, 'job:slo_requests:rate20s', 'job:slo_errors:rate20s');
 * ```
 */
export function nativeLatencyStepRules(rate: string, thresholdSeconds: number, requests: string, errors: string): PrometheusRule[] {
  const count = `histogram_count(${rate})`;
  return [
    { record: requests, expr: count, labels: { slo: 'latency' } },
    { record: errors, expr: `(${count} * (1 - histogram_fraction(0, ${number(thresholdSeconds)}, ${rate}))) >= 0\nor\n(0 * ${count})`, labels: { slo: 'latency' } },
  ];
}

/**
 * All SLI recording rules in one list (both groups of {@link sliRecordingGroups}).
 *
 * @example
 * ```ts
 * sliRecordingGroup(resolveProvisionOptions()).rules.length; // 4 step rules + 4 rules x 8 windows
 * ```
 */
export function sliRecordingGroup(options: ResolvedProvisionOptions, timing: RuleTiming = {}): RuleGroup {
  return { name: `${options.service}-sli`, rules: sliRecordingGroups(options, timing).flatMap((group) => group.rules) };
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
