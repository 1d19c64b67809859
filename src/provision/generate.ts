import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { partitionedEventsSql, timescaleEventsSql } from '../kpi/partitioning.js';
import { composeFile, envExample } from './compose.js';
import { alertmanagerConfig } from './alertmanager/config.js';
import { apiOverviewDashboard } from './dashboards/api-overview.js';
import { dashboardContext } from './dashboards/common.js';
import { inferenceKpisDashboard } from './dashboards/inference-kpis.js';
import { modelQualityDashboard } from './dashboards/model-quality.js';
import { runtimeDashboard } from './dashboards/runtime.js';
import { grafanaDashboardProviders, grafanaDatasources } from './grafana/provisioning.js';
import type { ResolvedProvisionOptions } from './options.js';
import { readerInitScript } from './postgres.js';
import { generateRunbooks } from './runbooks.js';
import { deployReadme } from './readme.js';
import { prometheusConfig } from './prometheus/config.js';
import { modelQualityRuleTests } from './prometheus/ml-rule-tests.js';
import { modelQualityAlertGroup } from './prometheus/ml-rules.js';
import { opsRuleTests } from './prometheus/ops-rule-tests.js';
import { operationsAlertGroup } from './prometheus/ops-rules.js';
import { sloRuleTests, sloTestIntervals } from './prometheus/slo-rule-tests.js';
import { burnRateAlertGroup, sliRecordingGroups } from './prometheus/slo-rules.js';
import { number } from './promql.js';
import { mimirConfig, SCALING_STORES, scalingComposeOverlay, scalingPrometheusConfig, type ScalingStore } from './scaling.js';
import { GENERATED_NOTICE, renderYaml } from './yaml.js';

/**
 * One generated file: a path relative to the output folder and its exact content.
 *
 * @example
 * ```ts
 * const file: GeneratedFile = { path: 'prometheus/prometheus.yml', content: '...', mode: 0o644 };
 * ```
 */
export interface GeneratedFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/**
 * Relative paths of the generated dashboards (under `grafana/dashboards/<service>/`), by key.
 *
 * @example
 * ```ts
 * DASHBOARD_FILES.apiOverview; // 'api-overview.json'
 * ```
 */
export const DASHBOARD_FILES = { apiOverview: 'api-overview.json', inferenceKpis: 'inference-kpis.json', runtime: 'runtime.json', modelQuality: 'model-quality.json' } as const;

/**
 * Everything `lookout provision` writes, in a stable order. Pure: the drift test compares it with
 * the committed `deploy/` folder.
 *
 * @example
 * ```ts
 * const files = generateDeployFiles(resolveProvisionOptions({ service: 'inference-api' }));
 * files.map((file) => file.path); // ['prometheus/prometheus.yml', 'prometheus/rules/slo.yml', ...]
 * ```
 */
export function generateDeployFiles(options: ResolvedProvisionOptions): GeneratedFile[] {
  const context = dashboardContext(options);
  const dashboards = `grafana/dashboards/${options.service}`;
  const text = (path: string, content: string, mode = 0o644): GeneratedFile => ({ path, content, mode });
  const json = (path: string, value: unknown): GeneratedFile => text(path, `${JSON.stringify(value, null, 2)}\n`);
  return [
    text('prometheus/prometheus.yml', renderYaml(prometheusConfig(options))),
    text('prometheus/rules/slo.yml', renderYaml({ groups: [...sliRecordingGroups(options), burnRateAlertGroup(options)] }, sloComment(options))),
    text('prometheus/rules/operations.yml', renderYaml({ groups: [operationsAlertGroup(options)] })),
    text('prometheus/tests/slo-page.test.yml', promtoolFile('../rules/slo.yml', sloTestIntervals(options).evaluation, sloRuleTests(options, 'page'))),
    text('prometheus/tests/slo-ticket.test.yml', promtoolFile('../rules/slo.yml', sloTestIntervals(options).evaluation, sloRuleTests(options, 'ticket'))),
    text('prometheus/tests/operations.test.yml', promtoolFile('../rules/operations.yml', '1m', opsRuleTests(options))),
    text('prometheus/rules/model-quality.yml', renderYaml({ groups: [modelQualityAlertGroup(options)] })),
    text('prometheus/tests/model-quality.test.yml', promtoolFile('../rules/model-quality.yml', '1m', modelQualityRuleTests(options))),
    ...(options.alerting === undefined ? [] : [text('alertmanager/alertmanager.yml', renderYaml(alertmanagerConfig(options.alerting), ALERTMANAGER_COMMENT))]),
    ...Object.entries(generateRunbooks(options, [burnRateAlertGroup(options), operationsAlertGroup(options), modelQualityAlertGroup(options)])).map(([alert, markdown]) => text(`runbooks/${alert}.md`, markdown)),
    text('grafana/provisioning/datasources/datasources.yml', renderYaml(grafanaDatasources(options), 'Every ${VAR} is expanded by Grafana from its environment at start-up.')),
    text('grafana/provisioning/dashboards/dashboards.yaml', renderYaml(grafanaDashboardProviders(options))),
    json(`${dashboards}/${DASHBOARD_FILES.apiOverview}`, apiOverviewDashboard(context)),
    json(`${dashboards}/${DASHBOARD_FILES.inferenceKpis}`, inferenceKpisDashboard(context)),
    json(`${dashboards}/${DASHBOARD_FILES.runtime}`, runtimeDashboard(context)),
    json(`${dashboards}/${DASHBOARD_FILES.modelQuality}`, modelQualityDashboard(context)),
    text('postgres/initdb/10-lookout-reader.sh', readerInitScript(options), 0o755),
    ...scalingFiles(options, text),
    text('compose.yaml', renderYaml(composeFile(options), 'Start: cp .env.example .env, fill it in, then docker compose up -d')),
    text('.env.example', envExample(options)),
    // The filled-in .env holds the secrets: never committed.
    text('README.md', deployReadme(options)),
    text('.gitignore', `# ${GENERATED_NOTICE}\n.env\n`),
  ];
}

/**
 * Writes the generated files under `outDir`, creating folders; returns the paths written.
 *
 * @example
 * ```ts
 * await writeDeployFiles('deploy', generateDeployFiles(options));
 * ```
 */
export async function writeDeployFiles(outDir: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const written: string[] = [];
  for (const file of files) {
    const target = join(outDir, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    // writeFile's mode only applies to new files; the init script must stay executable.
    await chmod(target, file.mode);
    written.push(target);
  }
  return written;
}

const ALERTMANAGER_COMMENT = [
  'Routes the alerts of prometheus/rules/*.yml by severity; every secret is read from a file.',
  'Check: amtool check-config alertmanager/alertmanager.yml',
].join('\n');

const STORE_TITLES: Record<ScalingStore, string> = { mimir: 'Grafana Mimir', thanos: 'Thanos Receive', victoriametrics: 'VictoriaMetrics' };

// Scaling out: a remote-write prometheus.yml per store (beside prometheus.yml, so rules/*.yml
// resolves the same on the host and in the container), compose overlays, the events table SQL.
function scalingFiles(options: ResolvedProvisionOptions, text: (path: string, content: string) => GeneratedFile): GeneratedFile[] {
  const { events, datasources } = options;
  return [
    ...SCALING_STORES.map((store) => text(`prometheus/prometheus.${store}.yml`, renderYaml(scalingPrometheusConfig(options, store), [
      `Example: prometheus.yml plus remote_write to ${STORE_TITLES[store]} (docs/scaling.md).`,
      `Try it: docker compose -f compose.yaml -f scaling/compose.${store}.yaml up -d`,
    ].join('\n')))),
    ...SCALING_STORES.map((store) => text(`scaling/compose.${store}.yaml`, renderYaml(scalingComposeOverlay(options, store), [
      `Overlay: ${STORE_TITLES[store]} beside the stack, Prometheus writing to it (prometheus/prometheus.${store}.yml).`,
      `From deploy/: docker compose -f compose.yaml -f scaling/compose.${store}.yaml up -d`,
      'A single-node store for trying remote write, not a production layout (docs/scaling.md).',
    ].join('\n')))),
    text('scaling/mimir.yaml', renderYaml(mimirConfig(), 'Single-process Mimir for scaling/compose.mimir.yaml: filesystem storage, one replica; not for production.')),
    text('postgres/scaling/events-partitioned.sql', `-- ${GENERATED_NOTICE}\n${partitionedEventsSql({ interval: events.partitionInterval, premake: events.premake, retention: events.retention, readerRole: datasources.postgres.readerRole })}`),
    text('postgres/scaling/events-timescaledb.sql', `-- ${GENERATED_NOTICE}\n${timescaleEventsSql({ chunkInterval: events.chunkInterval, compressAfter: events.compressAfter, retention: events.retention, readerRole: datasources.postgres.readerRole })}`),
  ];
}

function promtoolFile(ruleFile: string, evaluationInterval: string, tests: readonly unknown[]): string {
  return renderYaml({ rule_files: [ruleFile], evaluation_interval: evaluationInterval, tests }, 'Run from deploy/: promtool test rules prometheus/tests/*.yml');
}

function sloComment(options: ResolvedProvisionOptions): string {
  const { availability, latency, period } = options.slo;
  return [
    `SLOs of job "${options.service}" over ${period}:`,
    `  availability: ${number(availability.objective * 100)}% of requests answer without a 5xx status`,
    `  latency: ${number(latency.objective * 100)}% of requests complete within ${latency.thresholdSeconds}s`,
  ].join('\n');
}
