import type { ResolvedProvisionOptions } from '../options.js';
import { modelQualityAlertGroup } from './ml-rules.js';
import { expectAlerts, type ExpectedAlert, type PromtoolTest } from './slo-rule-tests.js';

type AlertTest = PromtoolTest['alert_rule_test'][number];

/**
 * promtool tests for the model quality alerts, each with a firing and a silent case.
 *
 * @example
 * ```ts
 * modelQualityRuleTests(resolveProvisionOptions()).length; // 5
 * ```
 */
export function modelQualityRuleTests(options: ResolvedProvisionOptions): PromtoolTest[] {
  const job = options.service;
  const group = modelQualityAlertGroup(options);
  const expect = (alertname: string, eval_time: string, alerts: ExpectedAlert[]): AlertTest => expectAlerts(group, alertname, eval_time, alerts);
  const served = (version: string, instance = 'api-1:8000') => `job="${job}", instance="${instance}", model="spiral-mlp", model_version="${version}"`;
  const other = (version: string) => `job="${job}", instance="api-1:8000", model="other", model_version="${version}"`;
  return [
    {
      name: 'ModelDriftSustained fires when a feature\'s PSI stays above 0.2, not on a one-minute spike nor on KS/JS',
      interval: '1m',
      input_series: [
        { series: `model_feature_drift{${served('1')}, feature="x", method="psi"}`, values: '0.05x5 0.35x10' },
        { series: `model_feature_drift{${served('1')}, feature="y", method="psi"}`, values: '0.04x15' },
        // A spike on another instance, and a high JS distance (not what the alert reads).
        { series: `model_feature_drift{${served('1', 'api-2:8000')}, feature="x", method="psi"}`, values: '0.05x5 0.5 0.05x9' },
        { series: `model_feature_drift{${served('1', 'api-2:8000')}, feature="x", method="js"}`, values: '0.6x15' },
      ],
      alert_rule_test: [
        expect('ModelDriftSustained', '6m', []),
        // The highest PSI of the instance's features: x at 0.35.
        expect('ModelDriftSustained', '9m', [{ labels: { job, instance: 'api-1:8000', model: 'spiral-mlp', model_version: '1' }, value: 0.35 }]),
      ],
    },
    {
      name: 'ModelDriftSustained fires on prediction drift (confidence) and clears after a retrain (new version, low drift)',
      interval: '1m',
      input_series: [
        { series: `model_prediction_drift{${served('1')}, output="confidence", method="psi"}`, values: '0.1x3 0.9x10 _x10' },
        { series: `model_prediction_drift{${served('2')}, output="confidence", method="psi"}`, values: '_x14 0.05x10' },
      ],
      alert_rule_test: [
        expect('ModelDriftSustained', '8m', [{ labels: { job, instance: 'api-1:8000', model: 'spiral-mlp', model_version: '1' }, value: 0.9 }]),
        expect('ModelDriftSustained', '20m', []),
      ],
    },
    {
      name: 'ModelVersionWorse fires when a new version answers worse than the previous, not when it answers better',
      interval: '1m',
      input_series: [
        // v1: 90% correct, 10 labelled a minute for 60 minutes, then v2 (70% correct) replaces it.
        { series: `model_version_info{${served('1')}}`, values: '1x60' },
        { series: `model_version_info{${served('2')}, previous_version="1"}`, values: '_x60 1x60' },
        { series: `model_feedback_total{${served('1')}, outcome="correct"}`, values: '0+9x60 540x60' },
        { series: `model_feedback_total{${served('1')}, outcome="wrong"}`, values: '0+1x60 60x60' },
        { series: `model_feedback_total{${served('2')}, outcome="correct"}`, values: '_x60 0+7x60' },
        { series: `model_feedback_total{${served('2')}, outcome="wrong"}`, values: '_x60 0+3x60' },
        // Another model whose new version is better (80% -> 95%): no alert.
        { series: `model_version_info{${other('1')}}`, values: '1x60' },
        { series: `model_version_info{${other('2')}, previous_version="1"}`, values: '_x60 1x60' },
        { series: `model_feedback_total{${other('1')}, outcome="correct"}`, values: '0+8x60 480x60' },
        { series: `model_feedback_total{${other('1')}, outcome="wrong"}`, values: '0+2x60 120x60' },
        { series: `model_feedback_total{${other('2')}, outcome="correct"}`, values: '_x60 0+19x60' },
        { series: `model_feedback_total{${other('2')}, outcome="wrong"}`, values: '_x60 0+1x60' },
      ],
      alert_rule_test: [
        expect('ModelVersionWorse', '50m', []),
        // v2's accuracy over 30 minutes: 7 correct of 10 a minute.
        expect('ModelVersionWorse', '80m', [{ labels: { job, model: 'spiral-mlp', model_version: '2' }, value: 0.7 }]),
      ],
    },
    {
      name: 'ModelVersionWorse compares with the version replaced, not the best ever: v1 95%, v2 85% fires; v3 as good as v2 does not',
      interval: '1m',
      input_series: [
        { series: `model_version_info{${served('1')}}`, values: '1x40' },
        { series: `model_version_info{${served('2')}, previous_version="1"}`, values: '_x40 1x40' },
        { series: `model_version_info{${served('3')}, previous_version="2"}`, values: '_x81 1x40' },
        { series: `model_feedback_total{${served('1')}, outcome="correct"}`, values: '0+19x40 760x80' },
        { series: `model_feedback_total{${served('1')}, outcome="wrong"}`, values: '0+1x40 40x80' },
        { series: `model_feedback_total{${served('2')}, outcome="correct"}`, values: '_x40 0+17x40 680x40' },
        { series: `model_feedback_total{${served('2')}, outcome="wrong"}`, values: '_x40 0+3x40 120x40' },
        { series: `model_feedback_total{${served('3')}, outcome="correct"}`, values: '_x81 0+17x40' },
        { series: `model_feedback_total{${served('3')}, outcome="wrong"}`, values: '_x81 0+3x40' },
      ],
      alert_rule_test: [
        expect('ModelVersionWorse', '75m', [{ labels: { job, model: 'spiral-mlp', model_version: '2' }, value: 0.85 }]),
        // v3 (85%) is 10 points under v1 but equal to v2, the version it replaced; v2 is no longer served.
        expect('ModelVersionWorse', '115m', []),
      ],
    },
    {
      name: 'ModelVersionWorse waits for feedback: a previous version with under 20 labelled predictions is not compared',
      interval: '1m',
      input_series: [
        { series: `model_version_info{${served('1')}}`, values: '1x30' },
        { series: `model_version_info{${served('2')}, previous_version="1"}`, values: '_x30 1x60' },
        // v1: 15 labelled, all correct; v2: 50% correct.
        { series: `model_feedback_total{${served('1')}, outcome="correct"}`, values: '0+1x15 15x75' },
        { series: `model_feedback_total{${served('2')}, outcome="correct"}`, values: '_x30 0+5x60' },
        { series: `model_feedback_total{${served('2')}, outcome="wrong"}`, values: '_x30 0+5x60' },
      ],
      alert_rule_test: [expect('ModelVersionWorse', '80m', [])],
    },
  ];
}
