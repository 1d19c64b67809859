import { LookoutError } from '../core/errors.js';
import { datasourceFor, type DashboardJson, type ProvisionedDatasource, type VariableJson } from './dashboards.js';
import type { TimeRange } from './grafana/sql-macros.js';
import { interpolate, prometheusFormatter, type VariableValue } from './grafana/template.js';
import type { PrometheusClient } from './prometheus-client.js';

/**
 * A selection forced from outside: `'all'` or option values.
 *
 * @example
 * ```ts
 * const selections: Record<string, VariableSelection> = { job: 'all', route: ['/inference/start'] };
 * ```
 */
export type VariableSelection = 'all' | readonly string[];

/**
 * A resolved variable and the query that produced its options.
 *
 * @example
 * ```ts
 * const resolved: ResolvedVariable = { value, query: 'label_values(http_requests_total, job)' };
 * ```
 */
export interface ResolvedVariable {
  readonly value: VariableValue;
  /** The variable query as sent, after interpolating earlier variables ('' for custom/constant). */
  readonly query: string;
}

const LABEL_VALUES = /^label_values\((?:(.+),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)\s*$/;

/**
 * Resolves a dashboard's template variables in order, as Grafana does on load: Prometheus
 * `label_values()` queries go to `/api/v1/label/<label>/values` with the interpolated selector
 * and the time range; custom and constant variables list their values. The selection is the
 * override, else the saved `current` (`$__all` = All), else All (includeAll) or the first option.
 * Throws `LOOKOUT_E_VERIFY_VARIABLE` when a query variable finds no value.
 *
 * @example
 * ```ts
 * const variables = await resolveVariables(dashboard, datasources, client, range);
 * ```
 */
export async function resolveVariables(
  dashboard: DashboardJson,
  datasources: readonly ProvisionedDatasource[],
  client: PrometheusClient | undefined,
  range: TimeRange,
  overrides: Readonly<Record<string, VariableSelection>> = {},
): Promise<ResolvedVariable[]> {
  const resolved: ResolvedVariable[] = [];
  for (const variable of dashboard.templating?.list ?? []) {
    const values = resolved.map((item) => item.value);
    const { options, query } = await variableOptions(variable, datasources, client, range, values);
    const base = { name: variable.name, multi: variable.multi === true, includeAll: variable.includeAll === true, allValue: variable.allValue ?? undefined, options };
    resolved.push({ value: { ...base, selected: selection(variable, options, overrides[variable.name]) }, query });
  }
  return resolved;
}

async function variableOptions(
  variable: VariableJson,
  datasources: readonly ProvisionedDatasource[],
  client: PrometheusClient | undefined,
  range: TimeRange,
  earlier: readonly VariableValue[],
): Promise<{ options: string[]; query: string }> {
  const text = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
  if (variable.type === 'custom') return { options: text.split(/(?<!\\),/).map((item) => item.trim()).filter((item) => item !== ''), query: '' };
  if (variable.type === 'constant' || variable.type === 'textbox') return { options: [text], query: '' };
  if (variable.type !== 'query') throw new LookoutError('LOOKOUT_E_VERIFY_UNSUPPORTED', `variable ${variable.name}: type ${variable.type} is not supported`);
  const datasource = datasourceFor({ datasource: variable.datasource ?? null }, { type: 'variable' }, datasources);
  if (datasource.type !== 'prometheus') throw new LookoutError('LOOKOUT_E_VERIFY_UNSUPPORTED', `variable ${variable.name}: query variables on ${datasource.type} are not supported`);
  const query = interpolate(text, earlier, { __from: range.fromMs, __to: range.toMs }, prometheusFormatter);
  const match = LABEL_VALUES.exec(query);
  if (match === null) throw new LookoutError('LOOKOUT_E_VERIFY_UNSUPPORTED', `variable ${variable.name}: only label_values(...) queries are supported, got ${query}`);
  if (client === undefined) throw new LookoutError('LOOKOUT_E_VERIFY_VARIABLE', `variable ${variable.name} needs a running Prometheus`);
  const values = await client.labelValues(match[2]!, match[1] === undefined ? [] : [match[1]], Math.floor(range.fromMs / 1000), Math.floor(range.toMs / 1000));
  if (values.length === 0) throw new LookoutError('LOOKOUT_E_VERIFY_VARIABLE', `variable ${variable.name}: ${query} returned no values`);
  return { options: [...values].sort(), query };
}

function selection(variable: VariableJson, options: readonly string[], override: VariableSelection | undefined): VariableSelection {
  if (override !== undefined) return override;
  const current = variable.current?.value;
  if (current === '$__all' || (Array.isArray(current) && current.includes('$__all'))) return 'all';
  const saved = (typeof current === 'string' ? [current] : (current ?? [])).filter((value) => options.includes(value));
  if (saved.length > 0) return saved;
  if (variable.includeAll === true) return 'all';
  return options.length > 0 ? [options[0]!] : [];
}
