import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { accuracyByVersionSql } from '../../ml/feedback.js';
import { DRIFT_ALERT_THRESHOLDS } from '../../ml/reference.js';
import { BY_JOB, baseDashboard, promTarget, sqlTarget, table, thresholds, timeseries, type DashboardContext } from './common.js';

// Panels of the lookout/ml model monitor (src/ml): drift per feature and of the predictions,
// the prediction mix, confidence, feedback accuracy, latency and errors by version; then the
// PostgreSQL feedback.

function featureDrift(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Feature drift (PSI) by feature',
    description: `Population stability index of each input feature over the monitor's sliding window against the served version's reference (model_feature_drift, method="psi"). Orange above ${DRIFT_ALERT_THRESHOLDS.psi}: the ModelDriftSustained alert's line.`,
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [DRIFT_ALERT_THRESHOLDS.psi, 'orange']),
    targets: [promTarget(context, 'A', `max by (feature, model_version) (model_feature_drift{${BY_JOB}, method="psi"})`, '{{feature}} v{{model_version}}')],
  });
}

function featureDriftDistance(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Feature drift: KS statistic and Jensen-Shannon distance',
    description: 'Kolmogorov-Smirnov statistic (numeric features) and Jensen-Shannon distance (base 2, 0..1) of each feature over the sliding window against the reference (model_feature_drift).',
    unit: 'short',
    min: 0,
    max: 1,
    thresholds: thresholds('green', [DRIFT_ALERT_THRESHOLDS.ks, 'orange']),
    targets: [promTarget(context, 'A', `max by (feature, method, model_version) (model_feature_drift{${BY_JOB}, method=~"ks|js"})`, '{{feature}} {{method}} v{{model_version}}')],
  });
}

function predictionDrift(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Prediction drift (class mix, confidence)',
    description: `Drift of the predicted class mix and of the confidence distribution against the reference (model_prediction_drift): a model meeting inputs it was not trained on grows less sure before users say it is wrong. Orange above ${DRIFT_ALERT_THRESHOLDS.psi}.`,
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [DRIFT_ALERT_THRESHOLDS.psi, 'orange']),
    targets: [promTarget(context, 'A', `max by (output, method, model_version) (model_prediction_drift{${BY_JOB}})`, '{{output}} {{method}} v{{model_version}}')],
  });
}

function predictionMix(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Prediction mix by class',
    description: 'Share of each predicted class among all predictions per interval, by model version (model_predictions_total).',
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: thresholds('green'),
    targets: [
      promTarget(
        context,
        'A',
        `sum by (class, model_version) (rate(model_predictions_total{${BY_JOB}}[$__rate_interval]))\n/ on (model_version) group_left\nsum by (model_version) (rate(model_predictions_total{${BY_JOB}}[$__rate_interval]))`,
        '{{class}} v{{model_version}}',
      ),
    ],
  });
}

function confidence(context: DashboardContext, id: number) {
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le, model_version) (rate(model_prediction_confidence_bucket{${BY_JOB}}[$__rate_interval])))`;
  return timeseries(context, {
    id,
    title: 'Confidence p10 / p50 by version',
    description: 'Probability the model gave its predicted class, low decile and median per model version (model_prediction_confidence histogram). Orange under 0.6.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: thresholds('orange', [0.6, 'green']),
    targets: [promTarget(context, 'A', quantile(0.1), 'p10 v{{model_version}}'), promTarget(context, 'B', quantile(0.5), 'p50 v{{model_version}}')],
  });
}

function feedbackAccuracy(context: DashboardContext, id: number) {
  const rate = (outcome: string) => `sum by (model_version) (increase(model_feedback_total{${BY_JOB}${outcome}}[5m]))`;
  return timeseries(context, {
    id,
    title: 'Labelled accuracy by version (5 min)',
    description: 'Correct share of the labelled feedback over the last 5 minutes per model version, from the model_feedback_total counters (the same feedback the PostgreSQL panels read). Red below 80%, orange below 90%.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: thresholds('red', [0.8, 'orange'], [0.9, 'green']),
    targets: [promTarget(context, 'A', `${rate(', outcome="correct"')}\n/\n${rate('')}`, 'v{{model_version}}')],
  });
}

function windowAndRejections(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Drift window size and rejected observations',
    description: 'Observations in the drift window of the served version (model_window_observations; drift is reported from minSamples on) and observations the monitor refused per second by reason (lookout_ml_rejected_total).',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green'),
    targets: [
      promTarget(context, 'A', `sum by (model_version) (model_window_observations{${BY_JOB}})`, 'window v{{model_version}}'),
      promTarget(context, 'B', `sum by (reason) (rate(lookout_ml_rejected_total{${BY_JOB}}[$__rate_interval]))`, 'rejected {{reason}}'),
    ],
  });
}

function accuracyPerMinuteByModel(context: DashboardContext, id: number) {
  const sql = [
    'SELECT',
    '  $__timeGroupAlias(creation_time, 1m),',
    `  coalesce(model, '(none)') AS metric,`,
    `  avg(CASE WHEN event = 'good_inference' THEN 1.0 ELSE 0.0 END)::float8 AS value`,
    'FROM events',
    `WHERE $__timeFilter(creation_time) AND event IN ('good_inference', 'bad_inference')`,
    'GROUP BY 1, 2',
    'ORDER BY 1',
  ].join('\n');
  return timeseries(context, {
    id,
    title: 'Accuracy per minute by model version (events)',
    description: 'good / (good + bad) labelled predictions per minute and model version, from the events table (read-only role). Red below 80%, orange below 90%.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    datasource: context.postgres,
    thresholds: thresholds('red', [0.8, 'orange'], [0.9, 'green']),
    targets: [sqlTarget(context, 'A', sql, 'time_series')],
  });
}

function latencyByVersion(context: DashboardContext, id: number) {
  const quantile = (q: number) => `histogram_quantile(${q}, sum by (le, model_version) (rate(model_request_duration_seconds_bucket{${BY_JOB}}[$__rate_interval])))`;
  return timeseries(context, {
    id,
    title: 'Latency p50 / p95 by version',
    description: 'HTTP latency of the model\'s requests (the inference routes) by the version that answered (model_request_duration_seconds): a new version that is slower shows here before the SLO burns.',
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [0.5, 'orange'], [1, 'red']),
    targets: [promTarget(context, 'A', quantile(0.5), 'p50 v{{model_version}}'), promTarget(context, 'B', quantile(0.95), 'p95 v{{model_version}}')],
  });
}

function errorsByVersion(context: DashboardContext, id: number) {
  const rate = (outcome: string) => `sum by (model_version) (rate(model_request_duration_seconds_count{${BY_JOB}${outcome}}[$__rate_interval]))`;
  return timeseries(context, {
    id,
    title: 'Error ratio by version',
    description: 'Share of the model\'s requests answered with a 5xx, by the version that answered (model_request_duration_seconds_count, outcome="error"; both outcomes are exported from the first request, so 0 is a value). Orange above 1%, red above 5%.',
    unit: 'percentunit',
    min: 0,
    thresholds: thresholds('green', [0.01, 'orange'], [0.05, 'red']),
    targets: [promTarget(context, 'A', `${rate(', outcome="error"')}\n/\n${rate('')}`, 'v{{model_version}}')],
  });
}

function accuracyByVersionTable(context: DashboardContext, id: number) {
  const sql = accuracyByVersionSql({ table: 'events', where: '$__timeFilter(creation_time)', good: "'good_inference'", bad: "'bad_inference'" });
  return table(context, {
    id,
    title: 'Accuracy by model version (events)',
    description: 'Confirmed and labelled predictions and their accuracy per model version over the time range, from the events table: the same query as accuracyByVersion() in lookout/ml.',
    unit: 'short',
    datasource: context.postgres,
    thresholds: thresholds('green'),
    targets: [sqlTarget(context, 'A', sql, 'table')],
  }).overrideByName('accuracy', [{ id: 'unit', value: 'percentunit' }]);
}

/**
 * The Model quality dashboard: drift per feature and of the predictions, prediction mix,
 * confidence, accuracy, latency and errors by model version (lookout/ml), with the PostgreSQL
 * feedback panels.
 *
 * @example
 * ```ts
 * const json = modelQualityDashboard(dashboardContext(resolveProvisionOptions()));
 * ```
 */
export function modelQualityDashboard(context: DashboardContext): Dashboard {
  return baseDashboard(context, {
    uid: 'model-quality',
    title: 'Model quality',
    description: 'Data and prediction drift against the served version\'s reference, prediction mix, confidence, accuracy, latency and errors by model version (lookout/ml); feedback accuracy from PostgreSQL.',
    variableMetric: 'model_predictions_total',
    route: false,
  })
    .withRow(new RowBuilder('Drift (Prometheus, lookout/ml)').id(100))
    .withPanel(featureDrift(context, 1))
    .withPanel(featureDriftDistance(context, 2))
    .withPanel(predictionDrift(context, 3))
    .withPanel(windowAndRejections(context, 4))
    .withRow(new RowBuilder('Predictions and accuracy by version').id(101))
    .withPanel(predictionMix(context, 5))
    .withPanel(confidence(context, 6))
    .withPanel(feedbackAccuracy(context, 7))
    .withPanel(latencyByVersion(context, 9))
    .withPanel(errorsByVersion(context, 10))
    .withRow(new RowBuilder('Feedback by version (PostgreSQL events)').id(102))
    .withPanel(accuracyPerMinuteByModel(context, 8))
    .withPanel(accuracyByVersionTable(context, 11))
    .build();
}
