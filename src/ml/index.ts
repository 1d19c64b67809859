/**
 * `lookout/ml`: model monitoring for inference APIs. Data and prediction drift (PSI, KS,
 * Jensen–Shannon) over a sliding window against a reference snapshot, prediction mix,
 * confidence and feedback by model version, as Prometheus metrics at request-path cost.
 *
 * @example
 * ```ts
 * import { createModelMonitor, fitReference } from 'lookout/ml';
 * const reference = fitReference({ features, classes }, trainingRows);
 * const monitor = createModelMonitor({ registry, model: { name: 'm', version: '1' }, features, predictions: { classes }, reference });
 * monitor.observe({ x: 0.1 }, { label: 'a', confidence: 0.9 });
 * ```
 */
export { createModelMonitor, REJECT_REASONS, type DriftReport, type ModelMonitor, type ModelMonitorOptions } from './monitor.js';
export {
  assertFeatures,
  assertReference,
  DRIFT_ALERT_THRESHOLDS,
  fitReference,
  REFERENCE_FORMAT,
  type CategoricalReference,
  type FeatureSpec,
  type ModelReference,
  type NumericReference,
  type ReferenceRow,
} from './reference.js';
export { binIndex, histogramCounts, jensenShannonDistance, ksFromCounts, ksTwoSample, psi, PSI_EPSILON, quantileEdges } from './stats.js';
export { accuracyByVersion, accuracyByVersionSql, type AccuracyByVersionOptions, type VersionAccuracy } from './feedback.js';
