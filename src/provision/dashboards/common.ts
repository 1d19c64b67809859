import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { BigValueColorMode, BigValueGraphMode, LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  QueryVariableBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Threshold,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TablePanelBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type { ResolvedProvisionOptions } from '../options.js';
import { GENERATED_NOTICE } from '../yaml.js';
import { PostgresQueryBuilder, type PostgresFormat } from './postgres-query.js';

/**
 * What every panel function needs: the options and the two datasource references.
 *
 * @example
 * ```ts
 * const context = dashboardContext(resolveProvisionOptions());
 * context.prometheus; // { type: 'prometheus', uid: 'lookout-prometheus' }
 * ```
 */
export interface DashboardContext {
  readonly options: ResolvedProvisionOptions;
  readonly prometheus: DataSourceRef;
  readonly postgres: DataSourceRef;
}

/**
 * Builds the context from resolved options.
 *
 * @example
 * ```ts
 * dashboardContext(resolveProvisionOptions()).postgres.type; // 'grafana-postgresql-datasource'
 * ```
 */
export function dashboardContext(options: ResolvedProvisionOptions): DashboardContext {
  return {
    options,
    prometheus: { type: 'prometheus', uid: options.datasources.prometheus.uid },
    postgres: { type: 'grafana-postgresql-datasource', uid: options.datasources.postgres.uid },
  };
}

/**
 * Label matchers every Prometheus panel filters by (template variables, regex because they are multi-value).
 *
 * @example
 * ```ts
 * `up{${BY_JOB}}`; // 'up{job=~"$job", instance=~"$instance"}'
 * ```
 */
export const BY_JOB = 'job=~"$job", instance=~"$instance"';
/**
 * The same plus the route variable (API overview).
 *
 * @example
 * ```ts
 * `http_requests_total{${BY_ROUTE}}`;
 * ```
 */
export const BY_ROUTE = `${BY_JOB}, route=~"$route"`;

/**
 * A new dashboard with lookout's common settings and the job / instance (/ route) variables.
 *
 * @example
 * ```ts
 * baseDashboard(context, { uid: 'api-overview', title: 'API overview', variableMetric: 'http_requests_total', route: true });
 * ```
 */
export function baseDashboard(
  context: DashboardContext,
  spec: { readonly uid: string; readonly title: string; readonly description: string; readonly variableMetric: string; readonly route: boolean },
): DashboardBuilder {
  const service = context.options.service;
  const builder = new DashboardBuilder(`${service} / ${spec.title}`)
    .uid(`${service}-${spec.uid}`.slice(0, 40))
    .description(`${spec.description} ${GENERATED_NOTICE}`)
    .tags(['lookout', 'generated', service])
    .readonly()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .withVariable(variable(context, 'job', 'Job', `label_values(${spec.variableMetric}, job)`))
    .withVariable(variable(context, 'instance', 'Instance', `label_values(${spec.variableMetric}{job=~"$job"}, instance)`));
  return spec.route ? builder.withVariable(variable(context, 'route', 'Route', `label_values(${spec.variableMetric}{${BY_JOB}}, route)`)) : builder;
}

function variable(context: DashboardContext, name: string, label: string, query: string): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(context.prometheus)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue('.*')
    .current({ selected: true, text: 'All', value: '$__all' });
}

/**
 * A threshold ladder: a base colour, then `[value, colour]` steps.
 *
 * @example
 * ```ts
 * thresholds('green', [0.01, 'orange'], [0.05, 'red']);
 * ```
 */
export function thresholds(base: string, ...steps: readonly (readonly [number, string])[]): ThresholdsConfigBuilder {
  const list: Threshold[] = [{ value: null, color: base }, ...steps.map(([value, color]) => ({ value, color }))];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(list);
}

/**
 * A Prometheus target.
 *
 * @example
 * ```ts
 * promTarget(context, 'A', 'sum(rate(http_requests_total[$__rate_interval]))', 'requests');
 * ```
 */
export function promTarget(context: DashboardContext, refId: string, expr: string, legend: string, instant = false): DataqueryBuilder {
  const target = new DataqueryBuilder().refId(refId).datasource(context.prometheus).expr(expr).legendFormat(legend);
  return instant ? target.instant() : target.range();
}

/**
 * A PostgreSQL target (raw SQL, Grafana macros allowed).
 *
 * @example
 * ```ts
 * sqlTarget(context, 'A', 'SELECT 1', 'table');
 * ```
 */
export function sqlTarget(context: DashboardContext, refId: string, rawSql: string, format: PostgresFormat): PostgresQueryBuilder {
  return new PostgresQueryBuilder(rawSql).refId(refId).datasource(context.postgres).format(format);
}

/**
 * What every panel states: title, description, unit and thresholds (tests enforce all four).
 *
 * @example
 * ```ts
 * const spec: PanelSpec = { id: 1, title: 'Rate', description: 'Requests per second.', unit: 'reqps', thresholds: thresholds('green'), targets: [] };
 * ```
 */
export interface PanelSpec {
  readonly id: number;
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly thresholds: ThresholdsConfigBuilder;
  readonly targets: readonly Builder<Dataquery>[];
  readonly datasource?: DataSourceRef;
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
}

/**
 * A time series panel.
 *
 * @example
 * ```ts
 * timeseries(context, { id: 2, title: 'Rate', description: '...', unit: 'reqps', thresholds: thresholds('green'), targets: [...] });
 * ```
 */
export function timeseries(context: DashboardContext, spec: PanelSpec): TimeseriesPanelBuilder {
  const panel = new TimeseriesPanelBuilder()
    .legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom))
    .fillOpacity(10);
  common(context, panel, spec);
  return panel;
}

/**
 * A single-value panel showing the last value.
 *
 * @example
 * ```ts
 * stat(context, { id: 3, title: 'Budget left', description: '...', unit: 'percentunit', thresholds: thresholds('red'), targets: [...] });
 * ```
 */
export function stat(context: DashboardContext, spec: PanelSpec): StatPanelBuilder {
  const panel = new StatPanelBuilder()
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(BigValueGraphMode.Area)
    .colorMode(BigValueColorMode.Value);
  common(context, panel, { width: 6, height: 5, ...spec });
  return panel;
}

/**
 * A table panel.
 *
 * @example
 * ```ts
 * table(context, { id: 4, title: 'Events by argument', description: '...', unit: 'short', thresholds: thresholds('blue'), targets: [...] });
 * ```
 */
export function table(context: DashboardContext, spec: PanelSpec): TablePanelBuilder {
  const panel = new TablePanelBuilder().showHeader(true);
  common(context, panel, spec);
  return panel;
}

type AnyPanelBuilder = TimeseriesPanelBuilder | StatPanelBuilder | TablePanelBuilder;

function common(context: DashboardContext, panel: AnyPanelBuilder, spec: PanelSpec): void {
  panel
    .id(spec.id)
    .title(spec.title)
    .description(spec.description)
    .datasource(spec.datasource ?? context.prometheus)
    .unit(spec.unit)
    .thresholds(spec.thresholds)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8);
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  for (const target of spec.targets) panel.withTarget(target);
}
