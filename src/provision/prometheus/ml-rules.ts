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
 * Accuracy points under the best recent version at which `ModelVersionWorse` fires.
 *
 * @example
 * ```ts
 * MODEL_WORSE_MARGIN; // 0.05
 * ```
 */
export const MODEL_WORSE_MARGIN = 0.05;

/** Labelled predictions a version needs in the last 30 minutes before it is judged (and it must still get some: a version replaced by a better one is not). */
const MIN_FEEDBACK = 20;

/**
 * The model monitor's alerts (lookout/ml): sustained drift, and a version worse than the best
 * recent one.
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
  const accuracy = (window: string) =>
    `sum by (job, model, model_version) (increase(model_feedback_total{${job}, outcome="correct"}[${window}]))\n/\nsum by (job, model, model_version) (increase(model_feedback_total{${job}}[${window}]))`;
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
        expr: `(\n${accuracy('30m')}\n)\n< on (job, model) group_left ()\n(\n  max by (job, model) (\n${accuracy('6h')}\n  ) - ${MODEL_WORSE_MARGIN}\n)\nand on (job, model, model_version)\nsum by (job, model, model_version) (increase(model_feedback_total{${job}}[30m])) >= ${MIN_FEEDBACK}\nand on (job, model, model_version)\nsum by (job, model, model_version) (increase(model_feedback_total{${job}}[10m])) > 0`,
        for: '10m',
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.model }} v{{ $labels.model_version }} is less accurate than a recent version',
          description: `Labelled accuracy of v{{ $labels.model_version }} over 30 minutes is {{ $value | humanizePercentage }}, more than ${MODEL_WORSE_MARGIN * 100} points under the best version's over 6 hours (at least ${MIN_FEEDBACK} labelled predictions, some in the last 10 minutes): consider rolling back.`,
        },
      },
    ],
  });
}
