import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { histogramAverage, histogramQuantile, type HistogramMode } from '../histograms.js';
import { errorBudget, number } from '../promql.js';
import { sloErrorRatioRecord, type SloName } from '../prometheus/names.js';
import { BY_JOB, BY_ROUTE, baseDashboard, promTarget, stat, thresholds, timeseries, type DashboardContext } from './common.js';

const REQUESTS = `http_requests_total{${BY_ROUTE}}`;
const rate = (series: string, by: string) => `sum by (${by}) (rate(${series}[$__rate_interval]))`;
/** Native series for the HTTP histograms unless they are classic only (`both` keeps the classic ones for the rules). */
const seriesOf = (context: DashboardContext): HistogramMode => (context.options.histograms === 'classic' ? 'classic' : 'native');

function requestRate(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Request rate by route',
    description: 'Requests per second per route template, from http_requests_total. Unmatched requests (404s, scanners) share the route __unmatched__.',
    unit: 'reqps',
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', rate(REQUESTS, 'route'), '{{route}}')],
  });
}

function statusRate(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Responses by status code',
    description: 'Responses per second by HTTP status code across the selected routes.',
    unit: 'reqps',
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', rate(REQUESTS, 'status'), '{{status}}')],
  });
}

function errorRatio(context: DashboardContext, id: number) {
  const budget = errorBudget(context.options.slo.availability.objective);
  const failed = rate(`http_requests_total{${BY_ROUTE}, status=~"5.."}`, 'route');
  // Routes without any 5xx have no such series: `or 0 * all` shows them at 0 instead of hiding them.
  const expr = `(${failed} or (0 * ${rate(REQUESTS, 'route')}))\n/\n${rate(REQUESTS, 'route')}`;
  return timeseries(context, {
    id,
    title: 'Error ratio (5xx) by route',
    description: `Share of responses with a 5xx status per route. Orange above the availability error budget (${number(budget * 100)}%), red above 10x the budget.`,
    unit: 'percentunit',
    min: 0,
    thresholds: thresholds('green', [budget, 'orange'], [budget * 10, 'red']),
    targets: [promTarget(context, 'A', expr, '{{route}}')],
  });
}

function inFlight(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Requests in flight',
    description: 'Requests being processed right now, by HTTP method (http_requests_in_flight).',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', `sum by (method) (http_requests_in_flight{${BY_JOB}})`, '{{method}}')],
  });
}

function latencyPercentiles(context: DashboardContext, id: number) {
  const threshold = context.options.slo.latency.thresholdSeconds;
  const quantile = (q: number) => histogramQuantile(seriesOf(context), q, 'http_request_duration_seconds', BY_ROUTE, '', '$__rate_interval');
  return timeseries(context, {
    id,
    title: 'Latency p50 / p95 / p99',
    description: `Request duration percentiles over the selected routes, from the http_request_duration_seconds histogram. Red above the latency SLO threshold (${threshold}s).`,
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [threshold, 'red']),
    targets: [promTarget(context, 'A', quantile(0.5), 'p50'), promTarget(context, 'B', quantile(0.95), 'p95'), promTarget(context, 'C', quantile(0.99), 'p99')],
  });
}

function latencyByRoute(context: DashboardContext, id: number) {
  const threshold = context.options.slo.latency.thresholdSeconds;
  const expr = histogramQuantile(seriesOf(context), 0.95, 'http_request_duration_seconds', BY_ROUTE, 'route', '$__rate_interval');
  return timeseries(context, {
    id,
    title: 'Latency p95 by route',
    description: `95th percentile request duration per route. Red above the latency SLO threshold (${threshold}s).`,
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [threshold, 'red']),
    targets: [promTarget(context, 'A', expr, '{{route}}')],
  });
}

function exceptions(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Exceptions by type',
    description: 'Unhandled exceptions per second by exception class (http_exceptions_total). Anything above zero deserves a look.',
    unit: 'cps',
    min: 0,
    thresholds: thresholds('green', [0.01, 'red']),
    targets: [promTarget(context, 'A', rate(`http_exceptions_total{${BY_ROUTE}}`, 'exception'), '{{exception}}')],
  });
}

function payloadSizes(context: DashboardContext, id: number) {
  const average = (metric: string) => histogramAverage(seriesOf(context), metric, BY_ROUTE, 'job', '$__rate_interval');
  const p95 = (metric: string) => histogramQuantile(seriesOf(context), 0.95, metric, BY_ROUTE, '', '$__rate_interval');
  return timeseries(context, {
    id,
    title: 'Request and response sizes',
    description: 'Average and 95th percentile body sizes of requests and responses over the selected routes. Orange above 1 MiB.',
    unit: 'bytes',
    min: 0,
    thresholds: thresholds('green', [1_048_576, 'orange']),
    targets: [
      promTarget(context, 'A', average('http_request_size_bytes'), 'request avg'),
      promTarget(context, 'B', p95('http_request_size_bytes'), 'request p95'),
      promTarget(context, 'C', average('http_response_size_bytes'), 'response avg'),
      promTarget(context, 'D', p95('http_response_size_bytes'), 'response p95'),
    ],
  });
}

function budgetLeft(context: DashboardContext, id: number, slo: SloName) {
  const { objective } = context.options.slo[slo];
  const period = context.options.slo.period;
  const expr = `1 - (${sloErrorRatioRecord(period)}{job=~"$job", slo="${slo}"} / ${number(errorBudget(objective))})`;
  return stat(context, {
    id,
    title: `${slo === 'availability' ? 'Availability' : 'Latency'} error budget left (${period})`,
    description: `Share of the ${period} error budget of the ${slo} SLO (objective ${number(objective * 100)}%) not yet spent, from the recording rules. Below 0 the SLO is missed.`,
    unit: 'percentunit',
    thresholds: thresholds('red', [0, 'orange'], [0.25, 'green']),
    targets: [promTarget(context, 'A', expr, '{{job}}')],
  });
}

function burnRate(context: DashboardContext, id: number, slo: SloName) {
  const budget = number(errorBudget(context.options.slo[slo].objective));
  const windows = ['5m', '1h', '6h', '3d'];
  return timeseries(context, {
    id,
    title: `${slo === 'availability' ? 'Availability' : 'Latency'} burn rate`,
    description: `How many times faster than sustainable the ${slo} error budget is spent, per window (1 = exactly on budget). The page alerts fire at 14.4x (1h and 5m) and 6x (6h and 30m).`,
    unit: 'short',
    min: 0,
    width: 18,
    thresholds: thresholds('green', [1, 'orange'], [6, 'red']),
    targets: windows.map((window, index) =>
      promTarget(context, String.fromCharCode(65 + index), `${sloErrorRatioRecord(window)}{job=~"$job", slo="${slo}"} / ${budget}`, `{{job}} ${window}`),
    ),
  });
}

/**
 * The API overview dashboard: RED metrics by route, latency percentiles, exceptions, payload sizes,
 * and the SLOs' error budget and burn rate.
 *
 * @example
 * ```ts
 * const json = apiOverviewDashboard(dashboardContext(resolveProvisionOptions()));
 * ```
 */
export function apiOverviewDashboard(context: DashboardContext): Dashboard {
  return baseDashboard(context, {
    uid: 'api-overview',
    title: 'API overview',
    description: 'Rate, errors and duration of every route, and the availability and latency SLOs.',
    variableMetric: 'http_requests_total',
    route: true,
  })
    .withRow(new RowBuilder('Traffic and errors').id(100))
    .withPanel(requestRate(context, 1))
    .withPanel(statusRate(context, 2))
    .withPanel(errorRatio(context, 3))
    .withPanel(inFlight(context, 4))
    .withRow(new RowBuilder('Latency').id(101))
    .withPanel(latencyPercentiles(context, 5))
    .withPanel(latencyByRoute(context, 6))
    .withRow(new RowBuilder('Exceptions and payloads').id(102))
    .withPanel(exceptions(context, 7))
    .withPanel(payloadSizes(context, 8))
    .withRow(new RowBuilder('Service level objectives').id(103))
    .withPanel(budgetLeft(context, 9, 'availability'))
    .withPanel(burnRate(context, 10, 'availability'))
    .withPanel(budgetLeft(context, 11, 'latency'))
    .withPanel(burnRate(context, 12, 'latency'))
    .build();
}
