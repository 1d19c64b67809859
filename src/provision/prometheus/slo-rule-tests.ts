import type { ResolvedProvisionOptions } from '../options.js';
import { durationSeconds, errorBudget, leLabel, number } from '../promql.js';
import { BURN_RATE_WINDOWS, burnRateAlertGroup, burnRateAlertName, type PrometheusRule, type RuleGroup, type SloName } from './slo-rules.js';
import { expandTemplate } from './templates.js';

/**
 * One `promtool test rules` test case (a subset of promtool's format).
 *
 * @example
 * ```ts
 * const test: PromtoolTest = { name: 'healthy', interval: '1m', input_series: [], alert_rule_test: [] };
 * ```
 */
export interface PromtoolTest {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly { readonly series: string; readonly values: string }[];
  readonly alert_rule_test: readonly {
    readonly eval_time: string;
    readonly alertname: string;
    readonly exp_alerts: readonly { readonly exp_labels: Record<string, string>; readonly exp_annotations: Record<string, string> }[];
  }[];
}

/**
 * Requests per minute in every synthetic scenario: enough that every per-sample increment, rounded
 * to a whole number, stays within 0.1% of the intended burn (whole numbers keep promtool's repeated
 * additions exact; a fraction drifts, and a phase starting a hair below it reads as a counter reset).
 */
const REQUESTS_PER_MINUTE = 1_200_000;

/**
 * The timeline of a test file: phases and evaluation times are multiples of `intervalMinutes`
 * (1 minute for the page alerts, whose short window is 5m; 5 minutes for the ticket alerts, which
 * need 3h+ of history). The series themselves are sampled at the scrape interval and the rules
 * evaluated at the evaluation interval, as in production: the SLI rules read the raw series over
 * one short window and average their recordings over the long ones, which only works when the
 * rules run at the interval they were generated for (see {@link sloTestIntervals}).
 * The evaluation time is chosen so every asserted alert is decided: `for` elapsed, or never active.
 */
export const SLO_TEST_PLANS = {
  page: { interval: '1m', intervalMinutes: 1, evalMinutes: 30, severity: 'page' },
  ticket: { interval: '5m', intervalMinutes: 5, evalMinutes: 200, severity: 'ticket' },
} as const;

type Plan = (typeof SLO_TEST_PLANS)[keyof typeof SLO_TEST_PLANS] & { readonly scrapeSeconds: number };
type Pair = (typeof BURN_RATE_WINDOWS)[number];

/**
 * The expected annotations of an alert: the templates filled from `labels` and `value` as
 * Prometheus does (./templates.ts).
 *
 * @example
 * ```ts
 * expandAnnotations({ expr: 'up == 0', annotations: { summary: '{{ $labels.job }} down' } }, { job: 'api' }); // { summary: 'api down' }
 * ```
 */
export function expandAnnotations(rule: PrometheusRule, labels: Readonly<Record<string, string>>, value?: number): Record<string, string> {
  const expanded: Record<string, string> = {};
  for (const [key, template] of Object.entries(rule.annotations ?? {})) expanded[key] = expandTemplate(template, labels, value);
  return expanded;
}

/**
 * One alert a promtool test expects: its labels (the rule's own are added) and, when its
 * annotations show `$value`, the value Prometheus computes for it.
 *
 * @example
 * ```ts
 * const alert: ExpectedAlert = { labels: { job: 'api', instance: 'api-1:8000' }, value: 720 };
 * ```
 */
export interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly value?: number;
}

/**
 * A promtool alert test expecting `alertname` of `group` to fire at `eval_time` once for each
 * expected alert, with the rule's own labels added and its annotations expanded with the alert's
 * labels and value, as Prometheus does.
 *
 * @example
 * ```ts
 * expectAlerts(operationsAlertGroup(options), 'KpiFlushStale', '12m', [{ labels: { job: 'api', instance: 'api-1:8000' }, value: 720 }]);
 * ```
 */
export function expectAlerts(group: RuleGroup, alertname: string, eval_time: string, alerts: readonly ExpectedAlert[]): PromtoolTest['alert_rule_test'][number] {
  const rule = group.rules.find((candidate) => candidate.alert === alertname);
  if (rule === undefined) throw new Error(`no alert ${alertname} in rule group ${group.name}`);
  return {
    eval_time,
    alertname,
    exp_alerts: alerts.map(({ labels, value }) => {
      const exp_labels = { ...labels, ...rule.labels };
      return { exp_labels, exp_annotations: expandAnnotations(rule, exp_labels, value) };
    }),
  };
}

/**
 * promtool tests proving each burn-rate alert of one severity, for both SLOs: a constant bad ratio
 * 10% above each alert's factor fires it, 10% below does not; a healthy ratio (0.5x) fires
 * nothing; and each alert goes quiet soon after the errors stop although its long window is still
 * over the threshold, because its short window is not.
 *
 * @example
 * ```ts
 * sloRuleTests(resolveProvisionOptions(), 'page').map((test) => test.name);
 * ```
 */
export function sloRuleTests(options: ResolvedProvisionOptions, severity: 'page' | 'ticket'): PromtoolTest[] {
  const plan = { ...SLO_TEST_PLANS[severity], scrapeSeconds: seriesSeconds(options) };
  const pairs = BURN_RATE_WINDOWS.filter((pair) => pair.severity === severity);
  const tests: PromtoolTest[] = [];
  // promtool 2.42 (Debian's, which tests them here) has no notation for native input series: with `histograms: native` the
  // latency SLI is proven against a real Prometheus instead (src/provision/native-slo.e2e.test.ts).
  const slos = options.histograms === 'native' ? (['availability'] as const) : (['availability', 'latency'] as const);
  for (const slo of slos) {
    tests.push(constantBurnTest(options, plan, pairs, slo, 0.5, `${slo}: healthy (0.5x budget) fires no ${severity} alert`));
    for (const pair of pairs) {
      // An objective so low that factor x budget reaches 100% errors cannot be synthesised (nor alert).
      const feasible = (burn: number) => burn * errorBudget(options.slo[slo].objective) < 1;
      for (const burn of [pair.factor * 1.1, pair.factor * 0.9].filter(feasible)) {
        const verdict = burn > pair.factor ? 'fires' : 'does not fire';
        tests.push(constantBurnTest(options, plan, pairs, slo, burn, `${slo}: ${number(burn)}x burn ${verdict} ${burnRateAlertName(slo, pair)} (${number(pair.factor)}x)`));
      }
    }
    for (const pair of pairs) {
      const recovery = recoveryTest(options, plan, slo, pair);
      if (recovery !== undefined) tests.push(recovery);
    }
  }
  return tests;
}

function constantBurnTest(options: ResolvedProvisionOptions, plan: Plan, pairs: readonly Pair[], slo: SloName, burn: number, name: string): PromtoolTest {
  const badPerMinute = REQUESTS_PER_MINUTE * errorBudget(options.slo[slo].objective) * burn;
  return {
    name,
    interval: sloTestIntervals(options).series,
    input_series: requestSeries(options, slo, plan, [{ minutes: plan.evalMinutes, badPerMinute }]),
    alert_rule_test: pairs.map((pair) => ({
      eval_time: `${plan.evalMinutes}m`,
      alertname: burnRateAlertName(slo, pair),
      exp_alerts: burn > pair.factor ? [expectedAlert(options, slo, pair, badPerMinute / REQUESTS_PER_MINUTE)] : [],
    })),
  };
}

/**
 * Burn at 3x the pair's factor, then stop. Before stopping the alert fires; a fifth of a short
 * window after the short window has passed it is quiet, although the long window is still above
 * the factor. A short window twice as long (a wrong rule) would still be above it: 3x * 2/5 > 1x.
 */
function recoveryTest(options: ResolvedProvisionOptions, plan: Plan, slo: SloName, pair: Pair): PromtoolTest | undefined {
  const burn = pair.factor * 3;
  const badPerMinute = REQUESTS_PER_MINUTE * errorBudget(options.slo[slo].objective) * burn;
  if (badPerMinute >= REQUESTS_PER_MINUTE) return undefined;
  const step = plan.intervalMinutes;
  const shortMinutes = durationSeconds(pair.short) / 60;
  const quietAfter = Math.ceil((shortMinutes + Math.max(step, shortMinutes / 5)) / step) * step;
  const burnMinutes = Math.ceil((Math.max(quietAfter, durationSeconds(pair.for) / 60) + 30) / step) * step;
  const quietAt = burnMinutes + quietAfter;
  return {
    name: `${slo}: ${number(burn)}x burn for ${burnMinutes}m, then healthy: ${burnRateAlertName(slo, pair)} is quiet ${quietAfter}m later (its ${pair.short} window is clean, its ${pair.long} window still high)`,
    interval: sloTestIntervals(options).series,
    input_series: requestSeries(options, slo, plan, [
      { minutes: burnMinutes, badPerMinute },
      { minutes: quietAfter + step * 2, badPerMinute: 0 },
    ]),
    alert_rule_test: [
      { eval_time: `${burnMinutes - step}m`, alertname: burnRateAlertName(slo, pair), exp_alerts: [expectedAlert(options, slo, pair, badPerMinute / REQUESTS_PER_MINUTE)] },
      { eval_time: `${quietAt}m`, alertname: burnRateAlertName(slo, pair), exp_alerts: [] },
    ],
  };
}

/** The alert of `pair` at a constant bad ratio: its value is the long window's error ratio. */
function expectedAlert(options: ResolvedProvisionOptions, slo: SloName, pair: Pair, badRatio: number) {
  return expectAlerts(burnRateAlertGroup(options), burnRateAlertName(slo, pair), '0m', [{ labels: { job: options.service }, value: badRatio }]).exp_alerts[0]!;
}

/**
 * Sampling of the generated SLO tests: input series every scrape interval, rules evaluated every
 * evaluation interval (promtool evaluates every group at the file's `evaluation_interval`).
 *
 * @example
 * ```ts
 * sloTestIntervals(resolveProvisionOptions({ scrapeInterval: '15s', evaluationInterval: '1m' })); // { series: '15s', evaluation: '1m' }
 * ```
 */
export function sloTestIntervals(options: ResolvedProvisionOptions): { readonly series: string; readonly evaluation: string } {
  return { series: `${seriesSeconds(options)}s`, evaluation: options.evaluationInterval };
}

/** The scrape interval, or the next shorter whole divisor of a minute (the phases are whole minutes). */
function seriesSeconds(options: ResolvedProvisionOptions): number {
  const scrape = durationSeconds(options.scrapeInterval);
  return [60, 30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1].find((seconds) => seconds <= scrape) ?? 1;
}

interface Phase {
  readonly minutes: number;
  readonly badPerMinute: number;
}

/**
 * Counter series for consecutive phases of constant traffic: availability uses status 200/500,
 * latency the threshold bucket and the count of the duration histogram.
 */
function requestSeries(options: ResolvedProvisionOptions, slo: SloName, plan: Plan, phases: readonly Phase[]) {
  const job = options.service;
  const common = `job="${job}", instance="api:8000", method="POST", route="/inference/start"`;
  if (slo === 'availability') {
    return [
      { series: `http_requests_total{${common}, status="200"}`, values: counterValues(plan, phases, (phase) => REQUESTS_PER_MINUTE - phase.badPerMinute) },
      { series: `http_requests_total{${common}, status="500"}`, values: counterValues(plan, phases, (phase) => phase.badPerMinute) },
    ];
  }
  const le = leLabel(options.slo.latency.thresholdSeconds);
  return [
    { series: `http_requests_total{${common}, status="200"}`, values: counterValues(plan, phases, () => REQUESTS_PER_MINUTE) },
    { series: `http_request_duration_seconds_bucket{${common}, status="200", le="${le}"}`, values: counterValues(plan, phases, (phase) => REQUESTS_PER_MINUTE - phase.badPerMinute) },
    { series: `http_request_duration_seconds_bucket{${common}, status="200", le="+Inf"}`, values: counterValues(plan, phases, () => REQUESTS_PER_MINUTE) },
    { series: `http_request_duration_seconds_count{${common}, status="200"}`, values: counterValues(plan, phases, () => REQUESTS_PER_MINUTE) },
  ];
}

/** promtool expanding notation for a counter growing by `perMinute(phase)` per minute in each phase. */
function counterValues(plan: Plan, phases: readonly Phase[], perMinute: (phase: Phase) => number): string {
  const parts: string[] = [];
  let value = 0;
  let first = true;
  for (const phase of phases) {
    const step = Math.round((perMinute(phase) * plan.scrapeSeconds) / 60);
    const samples = (phase.minutes * 60) / plan.scrapeSeconds;
    // The first phase starts at t=0 with value 0; later phases start one step after the previous end.
    const start = first ? value : value + step;
    const count = first ? samples : samples - 1;
    parts.push(`${number(start)}+${number(step)}x${count}`);
    value = start + step * count;
    first = false;
  }
  return parts.join(' ');
}
