import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { close, listen } from '../../test/support/http.js';
import { freePort } from '../../test/support/prometheus.js';
import { Registry } from '../core/registry.js';
import { createDashboard, type Dashboard } from './dashboard.js';
import { resolveDashboardOptions } from './options.js';
import { chartQueries, prometheusData } from './prometheus-source.js';

const servers: http.Server[] = [];
const dashboards: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
  for (const dashboard of dashboards.splice(0)) dashboard.close();
});

/** A stand-in for Prometheus's HTTP API: answers from `respond`, records every query. */
async function fakePrometheus(respond: (path: string, query: string, params: URLSearchParams) => unknown): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(respond(url.pathname, query, url.searchParams)));
  });
  servers.push(server);
  return { url: await listen(server), queries };
}

const success = (result: unknown[]) => ({ status: 'success', data: { resultType: 'matrix', result } });

describe('Prometheus as the source', () => {
  it('sends the fixed, bounded queries with the selector and aligns the answers on one grid', async () => {
    const prometheus = await fakePrometheus((path, query, params) => {
      if (path === '/api/v1/query_range' && query.startsWith('topk(6, sum by (route)')) {
        const start = Number(params.get('start'));
        const step = Number(params.get('step'));
        return success([
          { metric: { route: '/users/:id' }, values: [[start, '2'], [start + 2 * step, '3.5']] },
          { metric: { route: '/health' }, values: [[start + step, 'NaN']] },
        ]);
      }
      if (path === '/api/v1/query' && query.startsWith('topk(20, sum by (route)')) return success([{ metric: { route: '/users/:id' }, value: [0, '1200'] }]);
      if (path === '/api/v1/query' && query.startsWith('count(')) return success([{ metric: {}, value: [0, '3'] }]);
      if (path === '/api/v1/query' && query.startsWith('sum by (route) (rate(')) return success([{ metric: { route: '/users/:id' }, value: [0, '2.5'] }]);
      if (query.startsWith('sum(rate(process_cpu_user')) return { status: 'error', error: 'bad_data' };
      return success([]);
    });
    const options = resolveDashboardOptions({ registry: new Registry(), prometheusUrl: `${prometheus.url}/`, prometheusSelector: 'job="api"' });
    const now = 1_700_000_000_000;
    const data = await prometheusData(options, 900, now);
    expect(data.source).toBe('prometheus');
    expect(data.step).toBe(5);
    expect(data.time).toHaveLength(181);
    expect(data.time.at(-1)).toBe(Math.floor(now / 5000) * 5);
    expect(data.charts.map((chart) => chart.id)).toEqual(['requests']);
    const [users, health] = data.charts[0]!.series;
    expect(users!.name).toBe('/users/:id');
    expect(users!.values.slice(0, 4)).toEqual([2, null, 3.5, null]);
    expect(health!.values.every((value) => value === null)).toBe(true);
    expect(data.routes).toEqual([{ route: '/users/:id', total: 1200, rate: 2.5, errorRatio: 0, p95: null }]);
    expect(data.routesOmitted).toBe(2);
    for (const query of prometheus.queries) if (query.includes('{')) expect(query).toContain('job="api"');
    const ranged = Object.values(chartQueries('', 'job="api"', 60)).flat();
    for (const { expr } of ranged) expect(expr).toMatch(/^(topk\(\d+, |sum|max|histogram_quantile\(0\.\d+, sum )/);
    // Quantiles: of the native histogram when Prometheus has one (protobuf scrapes), else of the classic buckets.
    expect(chartQueries('', 'job="api"', 60)['latency']![0]!.expr).toBe('histogram_quantile(0.5, sum (rate(http_request_duration_seconds{job="api"}[60s]))) or histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[60s])))');
  });

  it('falls back to the in-process samples, and says why, when Prometheus is unreachable', async () => {
    const port = await freePort();
    const dashboard = createDashboard({ registry: new Registry(), prometheusUrl: `http://127.0.0.1:${port}`, sampleSeconds: 0.05, historyMinutes: 1 });
    dashboards.push(dashboard);
    const data = await dashboard.data({ range: 300 });
    expect(data.source).toBe('memory');
    expect(data.notice).toMatch(new RegExp(`^Prometheus at http://127\\.0\\.0\\.1:${port} is unreachable .*: showing in-process samples instead \\(next try in 30 s\\)\\.`));
    expect((await dashboard.data({ range: 300, source: 'memory' })).source).toBe('memory');
  });

  it('refuses Prometheus URLs with credentials and selectors with braces', () => {
    const registry = new Registry();
    expect(() => resolveDashboardOptions({ registry, prometheusUrl: 'http://user:pw@127.0.0.1:9090' })).toThrow(/without credentials/);
    expect(() => resolveDashboardOptions({ registry, prometheusUrl: 'ftp://127.0.0.1' })).toThrow(/http\(s\) URL/);
    expect(() => resolveDashboardOptions({ registry, prometheusSelector: '{job="x"}' })).toThrow(/without braces/);
  });
});
