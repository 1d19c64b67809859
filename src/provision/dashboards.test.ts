import { describe, expect, it } from 'vitest';
import { queryPanels, type DashboardJson } from '../verify/dashboards.js';
import { apiOverviewDashboard } from './dashboards/api-overview.js';
import { dashboardContext } from './dashboards/common.js';
import { inferenceKpisDashboard } from './dashboards/inference-kpis.js';
import { modelQualityDashboard } from './dashboards/model-quality.js';
import { runtimeDashboard } from './dashboards/runtime.js';
import { resolveProvisionOptions } from './options.js';

const options = resolveProvisionOptions({ service: 'inference-api' });
const context = dashboardContext(options);
const dashboards = [apiOverviewDashboard(context), inferenceKpisDashboard(context), runtimeDashboard(context), modelQualityDashboard(context)].map(
  (dashboard) => JSON.parse(JSON.stringify(dashboard)) as DashboardJson & { templating: { list: { name: string }[] }; tags: string[] },
);
const uids = new Set([options.datasources.prometheus.uid, options.datasources.postgres.uid]);

describe.each(dashboards.map((dashboard) => [dashboard.title, dashboard] as const))('%s', (_title, dashboard) => {
  const panels = queryPanels(dashboard);

  it('every panel has a description, a unit and thresholds', () => {
    for (const panel of panels) {
      expect(panel.description?.length ?? 0, panel.title).toBeGreaterThan(30);
      expect(panel.fieldConfig?.defaults?.unit, panel.title).toBeTruthy();
      expect(panel.fieldConfig?.defaults?.thresholds?.steps?.length, panel.title).toBeGreaterThanOrEqual(1);
    }
  });

  it('every target names a provisioned datasource uid and a unique refId; panel ids are unique', () => {
    const ids = new Set<number>();
    for (const panel of panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(ids.has(panel.id!), `duplicate panel id ${panel.id}`).toBe(false);
      ids.add(panel.id!);
      const refIds = new Set<string>();
      for (const target of panel.targets ?? []) {
        expect(uids.has(target.datasource?.uid ?? ''), panel.title).toBe(true);
        expect(refIds.has(target.refId!)).toBe(false);
        refIds.add(target.refId!);
        expect(target.expr ?? target.rawSql).toBeTruthy();
      }
    }
  });

  it('has the job and instance variables and is marked as generated', () => {
    const names = dashboard.templating.list.map((variable) => variable.name);
    expect(names.slice(0, 2)).toEqual(['job', 'instance']);
    expect(dashboard.tags).toContain('generated');
    expect(dashboard.uid!.length).toBeLessThanOrEqual(40);
  });

  it('filters every Prometheus query by the job variable and never by the __unmatched__ route', () => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined) continue;
        expect(target.expr, panel.title).toContain('job=~"$job"');
        expect(target.expr).not.toContain('__unmatched__');
      }
    }
  });
});

describe('dashboard specifics', () => {
  it('API overview has the route variable and filters by it', () => {
    expect(dashboards[0]!.templating.list.map((variable) => variable.name)).toEqual(['job', 'instance', 'route']);
    expect(JSON.stringify(dashboards[0])).toContain('route=~\\"$route\\"');
  });

  it('Inference KPIs computes accuracy per minute from PostgreSQL with $__timeFilter and $__timeGroupAlias', () => {
    const accuracy = queryPanels(dashboards[1]!).find((panel) => panel.title === 'Model accuracy per minute')!;
    const sql = accuracy.targets![0]!.rawSql!;
    expect(sql).toContain('$__timeGroupAlias(creation_time, 1m)');
    expect(sql).toContain('$__timeFilter(creation_time)');
    expect(sql).toContain("event IN ('good_inference', 'bad_inference')");
    expect(accuracy.datasource?.uid).toBe('lookout-postgres');
  });
});
