import { DRIFT_ALERT_THRESHOLDS } from '../../ml/reference.js';
import type { ResolvedProvisionOptions } from '../options.js';
import { withAlertLinks } from '../runbooks.js';
import type { RuleGroup } from './slo-rules.js';

/**
 * How long the drift score must stay above its threshold before `ModelDriftSustained` fires.
 *
 * @example
 * ```ts
 * MODEL_DRIFT_FOR; // '2m'
 * ```
 */
export const MODEL_DRIFT_FOR = '2m';

/**
 * Accuracy points under the version it replaced at which `ModelVersionWorse` fires.
 *
 * @example
 * ```ts
 * MODEL_WORSE_MARGIN; // 0.05
 * ```
 */
export const MODEL_WORSE_MARGIN = 0.05;

/** Labelled predictions each version needs before they are compared: the new one's in the last 30 minutes, the previous one's in 6 hours. */
const MIN_FEEDBACK = 20;

/**
 * The model monitor's alerts (lookout/ml): sustained drift, and a served version worse than the
 * one it replaced (`model_version_info{previous_version}`, set by the monitor's `setModel`).
 *
 * @example
 * ```ts
 * modelQualityAlertGroup(resolveProvisionOptions()).rules.map((rule) => rule.alert);
 * // ['ModelDriftSustained', 'ModelVersionWorse']
 * ```
 */
export function modelQualityAlertGroup(options: ResolvedProvisionOptions): RuleGroup {
  const job = `job="${options.service}"`;
  const by = 'job, instance, model, model_version';
  const labelled = (window: string) => `sum by (job, model, model_version) (increase(model_feedback_total{${job}}[${window}]))`;
  const accuracy = (window: string) => `sum by (job, model, model_version) (increase(model_feedback_total{${job}, outcome="correct"}[${window}]))\n/\n${labelled(window)}`;
  // The previous version's 6-hour accuracy, put on the version that replaced it: its model_version
  // is copied into previous_version and matched with the served version's info series.
  const previous = [
    '  max by (job, model, model_version) (',
    `    max by (job, model, model_version, previous_version) (model_version_info{${job}})`,
    '    * on (job, model, previous_version) group_left ()',
    '    label_replace(',
    `      (\n${accuracy('6h')}\n      )\n      and ${labelled('6h')} >= ${MIN_FEEDBACK},`,
    '      "previous_version", "$1", "model_version", "(.*)"',
    '    )',
    `  ) - ${MODEL_WORSE_MARGIN}`,
  ].join('\n');
  return withAlertLinks(options, {
    name: `${options.service}-model-quality`,
    rules: [
      {
        alert: 'ModelDriftSustained',
        expr: `max by (${by}) (\n  model_feature_drift{${job}, method="psi"}\n  or\n  model_prediction_drift{${job}, method="psi"}\n) > ${DRIFT_ALERT_THRESHOLDS.psi}`,
        for: MODEL_DRIFT_FOR,
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.model }} v{{ $labels.model_version }} on {{ $labels.instance }}: inputs or predictions drifted from the reference',
          description: `The population stability index of a feature or of the predictions (class mix, confidence) is {{ $value | printf "%.2f" }}, above ${DRIFT_ALERT_THRESHOLDS.psi} for ${MODEL_DRIFT_FOR} (Model quality dashboard): accuracy is likely to fall before the labelled feedback shows it; consider a retrain.`,
        },
      },
      {
        alert: 'ModelVersionWorse',
        expr: `(\n${accuracy('30m')}\n)\n< on (job, model, model_version)\n(\n${previous}\n)\nand on (job, model, model_version)\n${labelled('30m')} >= ${MIN_FEEDBACK}`,
        for: '10m',
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.model }} v{{ $labels.model_version }} is less accurate than the version it replaced',
          description: `Labelled accuracy of v{{ $labels.model_version }} over 30 minutes is {{ $value | humanizePercentage }}, more than ${MODEL_WORSE_MARGIN * 100} points under the previous version's over 6 hours (model_version_info{previous_version}; at least ${MIN_FEEDBACK} labelled predictions of each): consider rolling back.`,
        },
      },
    ],
  });
}
