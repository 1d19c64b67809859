export { resolveProvisionOptions, CONTRACT_DURATION_BUCKETS, type ProvisionOptions, type ResolvedProvisionOptions, type SslMode } from './options.js';
export { loadProvisionConfig } from './config-file.js';
export { generateDeployFiles, writeDeployFiles, DASHBOARD_FILES, type GeneratedFile } from './generate.js';
export { prometheusConfig, type PrometheusConfigOverrides } from './prometheus/config.js';
export { sliRecordingGroup, sliRecordingGroups, sliStepWindow, sliStepRecords, burnRateAlertGroup, BURN_RATE_WINDOWS, SLI_WINDOWS, type PrometheusRule, type RuleGroup } from './prometheus/slo-rules.js';
export { operationsAlertGroup } from './prometheus/ops-rules.js';
export { grafanaDatasources, grafanaDashboardProviders } from './grafana/provisioning.js';
export { dashboardContext, type DashboardContext } from './dashboards/common.js';
export { apiOverviewDashboard } from './dashboards/api-overview.js';
export { inferenceKpisDashboard } from './dashboards/inference-kpis.js';
export { modelQualityDashboard } from './dashboards/model-quality.js';
export { modelQualityAlertGroup, MODEL_DRIFT_FOR, MODEL_WORSE_MARGIN } from './prometheus/ml-rules.js';
export { runtimeDashboard } from './dashboards/runtime.js';
export { PostgresQueryBuilder, type PostgresQuery } from './dashboards/postgres-query.js';
export { composeFile, envExample } from './compose.js';
export { readerInitScript } from './postgres.js';
export { renderYaml } from './yaml.js';
export {
  resolveRemoteWrite, remoteWriteEntry, LOOKOUT_METRIC_FAMILIES, REMOTE_WRITE_STORES,
  type RemoteWriteOptions, type RemoteWriteTarget, type ResolvedRemoteWrite,
} from './remote-write.js';
export { SCALING_STORES, scalingRemoteWrite, scalingPrometheusConfig, scalingComposeOverlay, mimirConfig, type ScalingStore } from './scaling.js';
export { prometheusCommand } from './compose.js';
