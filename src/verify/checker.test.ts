import { describe, expect, it } from 'vitest';
import { checkDashboards, dashboardRange } from './checker.js';
import type { DashboardJson, ProvisionedDatasource } from './dashboards.js';
import type { PostgresRunner, SqlResult } from './postgres-runner.js';
import type { PrometheusClient, PromQueryResult } from './prometheus-client.js';

const datasources: ProvisionedDatasource[] = [
  { name: 'Prometheus', type: 'prometheus', uid: 'prom', isDefault: true, jsonData: { timeInterval: '15s' } },
  { name: 'PG', type: 'grafana-postgresql-datasource', uid: 'pg' },
];
const range = { fromMs: 1704067200000, toMs: 1704088800000 };

function fakePrometheus(answers: Record<string, PromQueryResult>, labelValues: string[] = ['api']) {
  const calls: string[] = [];
  const client = {
    async queryRange(query: string, start: number, end: number, step: number) {
      calls.push(`range ${query} ${start} ${end} ${step}`);
      return answers[query] ?? { resultType: 'matrix', series: [] };
    },
    async query(query: string, time: number) {
      calls.push(`instant ${query} ${time}`);
      return answers[query] ?? { resultType: 'vector', series: [] };
    },
    async labelValues(label: string, match: readonly string[]) {
      calls.push(`labels ${label} ${match.join(',')}`);
      return labelValues;
    },
  };
  return { client: client as unknown as PrometheusClient, calls };
}

function fakePostgres(result: SqlResult) {
  const queries: string[] = [];
  return { runner: { query: async (sql: string) => (queries.push(sql), result) } as unknown as PostgresRunner, queries };
}

const dashboard: DashboardJson = {
  title: 'D',
  templating: { list: [{ name: 'job', type: 'query', query: 'label_values(up, job)', datasource: { uid: 'prom' }, multi: true, includeAll: false }] },
  panels: [
    { type: 'row', title: 'collapsed', panels: [{ type: 'timeseries', title: 'Up', targets: [{ refId: 'A', expr: 'up{job=~"$job"}' }, { refId: 'B', expr: 'hidden', hide: true }] }] },
    { type: 'stat', title: 'NaN', datasource: { uid: 'prom' }, targets: [{ refId: 'A', expr: 'nan', instant: true }] },
    { type: 'table', title: 'SQL', datasource: { uid: 'pg' }, targets: [{ refId: 'A', rawSql: 'SELECT $__time(t), v FROM x WHERE $__timeFilter(t)', format: 'time_series' }] },
  ],
};

describe('checkDashboards', () => {
  it('resolves variables, walks collapsed rows, skips hidden targets, and demands numbers', async () => {
    const { client, calls } = fakePrometheus({
      'up{job=~"api"}': { resultType: 'matrix', series: [{ metric: {}, values: [[1, '1']] }] },
      nan: { resultType: 'vector', series: [{ metric: {}, values: [[1, 'NaN']] }] },
    });
    const { runner, queries } = fakePostgres({ columns: ['time', 'v'], rows: [[new Date(range.fromMs + 60_000), 2]] });
    const report = await checkDashboards({ dashboards: [{ file: 'd.json', dashboard }], datasources, prometheus: client, postgres: runner, range, maxDataPoints: 1000 });
    expect(calls).toEqual(['labels job up', 'range up{job=~"api"} 1704067200 1704088800 20', 'instant nan 1704088800']);
    expect(queries).toEqual(["SELECT t AS \"time\", v FROM x WHERE t BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T06:00:00Z'"]);
    expect(report.targets.map((target) => [target.panel, target.refId, target.ok])).toEqual([['Up', 'A', true], ['NaN', 'A', false], ['SQL', 'A', true]]);
    expect(report.failures).toEqual([`D › NaN › A (prometheus): 1 series, but every sample is NaN\n    query time=1704088800: nan`]);
    expect(report.variables).toEqual([{ dashboard: 'D', name: 'job', query: 'label_values(up, job)', options: 1 }]);
  });

  it('rejects SQL time series without a time column or without numbers, and empty results', async () => {
    const { client } = fakePrometheus({}, ['api']);
    for (const [result, message] of [
      [{ columns: ['t', 'v'], rows: [[1, 2]] }, 'needs a "time" column'],
      [{ columns: ['time', 'v'], rows: [[1704067260, null]] }, 'no numeric value'],
      [{ columns: ['time', 'v'], rows: [] }, 'no rows'],
      // Seconds instead of a timestamp are fine (Grafana converts), but not a time far outside the range.
      [{ columns: ['time', 'v'], rows: [['1', 2]] }, 'no "time" value near the range'],
    ] as const) {
      const { runner } = fakePostgres(result);
      const report = await checkDashboards({ dashboards: [{ file: 'd.json', dashboard }], datasources, prometheus: client, postgres: runner, range });
      expect(report.targets.find((target) => target.panel === 'SQL')!.error).toContain(message);
    }
  });

  it('accepts epoch seconds, milliseconds and timestamps in the time column', async () => {
    const { client } = fakePrometheus({}, ['api']);
    for (const time of [1704067260, '1704067260', 1704067260000, new Date(1704067260000)]) {
      const { runner } = fakePostgres({ columns: ['time', 'v'], rows: [[time, '0.5']] });
      const report = await checkDashboards({ dashboards: [{ file: 'd.json', dashboard }], datasources, prometheus: client, postgres: runner, range });
      expect(report.targets.find((target) => target.panel === 'SQL')!.ok).toBe(true);
    }
  });

  it('expands only, without services, when the variables have a custom All value', async () => {
    const withAll: DashboardJson = { ...dashboard, templating: { list: [{ ...dashboard.templating!.list![0]!, includeAll: true, allValue: '.*', current: { value: '$__all' } }] } };
    const report = await checkDashboards({ dashboards: [{ file: 'd.json', dashboard: withAll }], datasources, range, expandOnly: true });
    expect(report.failures).toEqual([]);
    expect(report.targets[0]!.queries).toEqual(['query_range start=1704067200 end=1704088800 step=30: up{job=~".*"}']);
  });

  it('names an unknown datasource uid', async () => {
    const bad: DashboardJson = { title: 'B', panels: [{ type: 'timeseries', title: 'P', datasource: { uid: 'nope' }, targets: [{ refId: 'A', expr: 'up' }] }] };
    const report = await checkDashboards({ dashboards: [{ file: 'b.json', dashboard: bad }], datasources, range, expandOnly: true });
    expect(report.failures[0]).toContain('datasource {"uid":"nope"} is not provisioned');
  });

  it('reads the dashboard time setting', () => {
    expect(dashboardRange({ title: 'x', time: { from: 'now-1h', to: 'now' } }, 10_000_000)).toEqual({ fromMs: 6_400_000, toMs: 10_000_000 });
    expect(() => dashboardRange({ title: 'x', time: { from: 'now/d', to: 'now' } }, 0)).toThrow('LOOKOUT_E_VERIFY_UNSUPPORTED');
  });
});
