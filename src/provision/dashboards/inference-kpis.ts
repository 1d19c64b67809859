import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { BY_JOB, baseDashboard, promTarget, sqlTarget, table, thresholds, timeseries, type DashboardContext } from './common.js';

/** Labelled predictions: the events the accuracy is computed from. */
const LABELLED = `event IN ('good_inference', 'bad_inference')`;

function activeInferences(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Active inferences',
    description: 'Inferences started and not yet fetched (inference_active gauge). A steady climb means results are never collected or workers are stuck.',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [100, 'orange']),
    targets: [promTarget(context, 'A', `sum(inference_active{${BY_JOB}})`, 'active')],
  });
}

function processingRate(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Inferences processed per second',
    description: 'Completed inferences per second: the rate of the inference_processing_duration_seconds histogram count (the reference dashboard\'s processing-time rate).',
    unit: 'ops',
    min: 0,
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', `sum(rate(inference_processing_duration_seconds_count{${BY_JOB}}[$__rate_interval]))`, 'processed')],
  });
}

function processingTime(context: DashboardContext, id: number) {
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le) (rate(inference_processing_duration_seconds_bucket{${BY_JOB}}[$__rate_interval])))`;
  return timeseries(context, {
    id,
    title: 'Inference processing time p50 / p95',
    description: 'How long the model takes per inference, from the inference_processing_duration_seconds histogram. Orange above 5 s.',
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [5, 'orange']),
    targets: [promTarget(context, 'A', quantile(0.5), 'p50'), promTarget(context, 'B', quantile(0.95), 'p95')],
  });
}

function kpiEventRate(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'KPI events per second',
    description: 'Business events recorded per second by name (kpi_events_total), counted at once in the process, before they reach PostgreSQL.',
    unit: 'cps',
    min: 0,
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', `sum by (event) (rate(kpi_events_total{${BY_JOB}}[$__rate_interval]))`, '{{event}}')],
  });
}

function accuracyPerMinute(context: DashboardContext, id: number) {
  const sql = [
    'SELECT',
    '  $__timeGroupAlias(creation_time, 1m),',
    `  avg(CASE WHEN event = 'good_inference' THEN 1.0 ELSE 0.0 END)::float8 AS accuracy`,
    'FROM events',
    `WHERE $__timeFilter(creation_time) AND ${LABELLED}`,
    'GROUP BY 1',
    'ORDER BY 1',
  ].join('\n');
  return timeseries(context, {
    id,
    title: 'Model accuracy per minute',
    description: 'good / (good + bad) labelled predictions per minute, from the events table (read-only role). Red below 80%, orange below 90%.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    datasource: context.postgres,
    thresholds: thresholds('red', [0.8, 'orange'], [0.9, 'green']),
    targets: [sqlTarget(context, 'A', sql, 'time_series')],
  });
}

function labelledPredictions(context: DashboardContext, id: number) {
  const sql = [
    'SELECT',
    '  $__timeGroupAlias(creation_time, $__interval),',
    '  event AS metric,',
    '  count(*) AS value',
    'FROM events',
    `WHERE $__timeFilter(creation_time) AND ${LABELLED}`,
    'GROUP BY 1, 2',
    'ORDER BY 1',
  ].join('\n');
  return timeseries(context, {
    id,
    title: 'Good vs bad predictions',
    description: 'Predictions labelled good or bad by users per interval, from the events table.',
    unit: 'short',
    min: 0,
    datasource: context.postgres,
    thresholds: thresholds('green'),
    targets: [sqlTarget(context, 'A', sql, 'time_series')],
  });
}

function eventsByArgument(context: DashboardContext, id: number) {
  const sql = [
    'SELECT',
    `  argument.key || '=' || argument.value AS argument,`,
    `  count(*) FILTER (WHERE event = 'good_inference') AS good,`,
    `  count(*) FILTER (WHERE event = 'bad_inference') AS bad,`,
    `  (count(*) FILTER (WHERE event = 'good_inference'))::float8 / nullif(count(*) FILTER (WHERE ${LABELLED}), 0) AS accuracy,`,
    '  count(*) AS events',
    'FROM events',
    // Rows whose args are not a JSON object contribute nothing instead of failing the query.
    `CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof(args) = 'object' THEN args ELSE '{}'::jsonb END) AS argument`,
    'WHERE $__timeFilter(creation_time)',
    'GROUP BY 1',
    'ORDER BY events DESC',
    'LIMIT 50',
  ].join('\n');
  return table(context, {
    id,
    title: 'Events by user argument',
    description: 'Events and accuracy grouped by each key=value of the request arguments (args jsonb), top 50 in the time range.',
    unit: 'short',
    datasource: context.postgres,
    thresholds: thresholds('green'),
    targets: [sqlTarget(context, 'A', sql, 'table')],
  }).overrideByName('accuracy', [{ id: 'unit', value: 'percentunit' }]);
}

function accuracyByModel(context: DashboardContext, id: number) {
  const sql = [
    'SELECT',
    `  coalesce(model, '(none)') AS model,`,
    `  count(*) FILTER (WHERE event = 'good_inference') AS good,`,
    `  count(*) FILTER (WHERE event = 'bad_inference') AS bad,`,
    `  (count(*) FILTER (WHERE event = 'good_inference'))::float8 / nullif(count(*), 0) AS accuracy`,
    'FROM events',
    `WHERE $__timeFilter(creation_time) AND ${LABELLED}`,
    'GROUP BY 1',
    'ORDER BY 1',
  ].join('\n');
  return table(context, {
    id,
    title: 'Accuracy by model',
    description: 'Labelled predictions and accuracy per model in the time range, from the events table.',
    unit: 'short',
    datasource: context.postgres,
    thresholds: thresholds('green'),
    targets: [sqlTarget(context, 'A', sql, 'table')],
  }).overrideByName('accuracy', [{ id: 'unit', value: 'percentunit' }]);
}

/**
 * The Inference KPIs dashboard, lookout's version of the reference "MLP Dashboard": Prometheus
 * gauges and rates beside model accuracy from the PostgreSQL events table.
 *
 * @example
 * ```ts
 * const json = inferenceKpisDashboard(dashboardContext(resolveProvisionOptions()));
 * ```
 */
export function inferenceKpisDashboard(context: DashboardContext): Dashboard {
  return baseDashboard(context, {
    uid: 'inference-kpis',
    title: 'Inference KPIs',
    description: 'Active inferences, processing time and KPI events from Prometheus; model accuracy from PostgreSQL.',
    variableMetric: 'http_requests_total',
    route: false,
  })
    .withRow(new RowBuilder('Inference (Prometheus)').id(100))
    .withPanel(activeInferences(context, 1))
    .withPanel(processingRate(context, 2))
    .withPanel(processingTime(context, 3))
    .withPanel(kpiEventRate(context, 4))
    .withRow(new RowBuilder('Model quality (PostgreSQL events)').id(101))
    .withPanel(accuracyPerMinute(context, 5))
    .withPanel(labelledPredictions(context, 6))
    .withPanel(eventsByArgument(context, 7))
    .withPanel(accuracyByModel(context, 8))
    .build();
}
