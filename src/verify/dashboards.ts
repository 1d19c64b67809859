import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { LookoutError } from '../core/errors.js';

/**
 * The parts of a dashboard JSON the checker reads.
 *
 * @example
 * ```ts
 * const dashboard: DashboardJson = JSON.parse(await readFile('api-overview.json', 'utf8'));
 * ```
 */
export interface DashboardJson {
  readonly uid?: string;
  readonly title: string;
  readonly panels?: readonly PanelJson[];
  readonly templating?: { readonly list?: readonly VariableJson[] };
  readonly time?: { readonly from: string; readonly to: string };
}

/**
 * A panel (rows carry nested `panels` when collapsed).
 *
 * @example
 * ```ts
 * const panel: PanelJson = { type: 'timeseries', title: 'Rate', targets: [{ refId: 'A', expr: 'up' }] };
 * ```
 */
export interface PanelJson {
  readonly id?: number;
  readonly type: string;
  readonly title?: string;
  readonly description?: string;
  readonly datasource?: DatasourceRef | null;
  readonly targets?: readonly TargetJson[];
  readonly panels?: readonly PanelJson[];
  readonly interval?: string;
  readonly maxDataPoints?: number;
  readonly fieldConfig?: { readonly defaults?: { readonly unit?: string; readonly thresholds?: { readonly steps?: readonly unknown[] } } };
}

/**
 * A query of a panel, any datasource.
 *
 * @example
 * ```ts
 * const target: TargetJson = { refId: 'A', rawSql: 'SELECT 1', format: 'table' };
 * ```
 */
export interface TargetJson {
  readonly refId?: string;
  readonly datasource?: DatasourceRef | null;
  readonly hide?: boolean;
  readonly expr?: string;
  readonly instant?: boolean;
  readonly range?: boolean;
  readonly interval?: string;
  readonly intervalFactor?: number;
  readonly format?: string;
  readonly rawSql?: string;
}

/**
 * A template variable.
 *
 * @example
 * ```ts
 * const job: VariableJson = { name: 'job', type: 'query', query: 'label_values(up, job)', includeAll: true, allValue: '.*' };
 * ```
 */
export interface VariableJson {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly datasource?: DatasourceRef | null;
  readonly multi?: boolean;
  readonly includeAll?: boolean;
  readonly allValue?: string | null;
  readonly current?: { readonly value?: string | readonly string[] };
}

/**
 * `{ type, uid }` reference to a datasource.
 *
 * @example
 * ```ts
 * const ref: DatasourceRef = { type: 'prometheus', uid: 'lookout-prometheus' };
 * ```
 */
export interface DatasourceRef {
  readonly type?: string;
  readonly uid?: string;
}

/**
 * A provisioned datasource (from `datasources.yml`).
 *
 * @example
 * ```ts
 * const prometheus: ProvisionedDatasource = { name: 'Prometheus', type: 'prometheus', uid: 'lookout-prometheus', jsonData: { timeInterval: '5s' } };
 * ```
 */
export interface ProvisionedDatasource {
  readonly name: string;
  readonly type: string;
  readonly uid: string;
  readonly isDefault?: boolean;
  readonly jsonData?: { readonly timeInterval?: string; readonly timescaledb?: boolean };
}

/**
 * Every panel that can hold queries, with rows flattened (collapsed rows keep theirs inside).
 *
 * @example
 * ```ts
 * for (const panel of queryPanels(dashboard)) console.log(panel.title, panel.targets?.length);
 * ```
 */
export function queryPanels(dashboard: DashboardJson): PanelJson[] {
  const result: PanelJson[] = [];
  const visit = (panels: readonly PanelJson[]) => {
    for (const panel of panels) {
      if (panel.type === 'row') visit(panel.panels ?? []);
      else result.push(panel);
    }
  };
  visit(dashboard.panels ?? []);
  return result;
}

/**
 * Reads every `*.json` dashboard under `dir` (recursively, as Grafana's file provider does).
 *
 * @example
 * ```ts
 * const dashboards = await loadDashboards('deploy/grafana/dashboards');
 * ```
 */
export async function loadDashboards(dir: string): Promise<{ file: string; dashboard: DashboardJson }[]> {
  const files = (await listFiles(dir)).filter((file) => file.endsWith('.json')).sort();
  const result: { file: string; dashboard: DashboardJson }[] = [];
  for (const file of files) {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof value !== 'object' || value === null || typeof (value as DashboardJson).title !== 'string') {
      throw new LookoutError('LOOKOUT_E_VERIFY_DASHBOARD', `${file} is not a dashboard (no title)`);
    }
    result.push({ file: relative(dir, file), dashboard: value as DashboardJson });
  }
  if (result.length === 0) throw new LookoutError('LOOKOUT_E_VERIFY_DASHBOARD', `no dashboard JSON under ${dir}`);
  return result;
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/**
 * Reads a Grafana datasource provisioning file.
 *
 * @example
 * ```ts
 * const datasources = await loadDatasources('deploy/grafana/provisioning/datasources/datasources.yml');
 * ```
 */
export async function loadDatasources(file: string): Promise<ProvisionedDatasource[]> {
  const document = parse(await readFile(file, 'utf8')) as { datasources?: ProvisionedDatasource[] } | null;
  const list = document?.datasources ?? [];
  if (list.length === 0) throw new LookoutError('LOOKOUT_E_VERIFY_DASHBOARD', `${file} provisions no datasource`);
  return list;
}

/**
 * The datasource a target runs on: its own reference, else the panel's, else the default one.
 *
 * @example
 * ```ts
 * datasourceFor(target, panel, datasources).type; // 'prometheus'
 * ```
 */
export function datasourceFor(target: TargetJson, panel: PanelJson, datasources: readonly ProvisionedDatasource[]): ProvisionedDatasource {
  const reference = target.datasource ?? panel.datasource ?? undefined;
  const found =
    reference?.uid === undefined || reference.uid === '-- Mixed --'
      ? datasources.find((datasource) => datasource.isDefault === true)
      : datasources.find((datasource) => datasource.uid === reference.uid);
  if (found === undefined) {
    throw new LookoutError('LOOKOUT_E_VERIFY_DASHBOARD', `datasource ${JSON.stringify(reference ?? 'default')} is not provisioned (known uids: ${datasources.map((datasource) => datasource.uid).join(', ')})`);
  }
  return found;
}
