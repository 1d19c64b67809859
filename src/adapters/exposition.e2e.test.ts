/**
 * Each adapter's /metrics judged by real outside tools: promtool (text
 * format), prometheus_client's strict OpenMetrics parser, and a real
 * Prometheus scraping all four apps (it negotiates OpenMetrics).
 */
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { registerRuntimeMetrics } from '../core/runtime.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { close, listen, samples, sumOf, waitFor } from '../../test/support/http.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { hasOpenMetricsParser, parseOpenMetrics, promtoolCheckMetrics } from '../../test/support/validators.js';
import { buildApp, FRAMEWORKS, type Framework } from './apps.test-support.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const haveTools = await probe('promtool, prometheus and python3-prometheus-client', () => hasCommand('promtool') && hasCommand('prometheus') && hasOpenMetricsParser());

interface App {
  framework: Framework;
  base: string;
  registry: Registry;
  server: http.Server;
}

const apps: App[] = [];

async function traffic(app: App): Promise<void> {
  for (let index = 0; index < 5; index++) {
    await (await fetch(`${app.base}/users/${index}`, { headers: { traceparent: `00-${TRACE_ID}-b7ad6b7169203331-01` } })).text();
  }
  await (await fetch(`${app.base}/boom`)).text();
  await (await fetch(`${app.base}/nope/${Math.random()}`)).text();
  await (await fetch(`${app.base}/echo`, { method: 'POST', body: 'hello', headers: { 'content-type': 'application/octet-stream' } })).text();
}

describe.skipIf(!haveTools)('exposition of every adapter, judged by real tools', () => {
  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      const registry = new Registry();
      registerRuntimeMetrics(registry);
      const server = await buildApp(framework, { registry, appName: `lookout-${framework}` });
      const app = { framework, base: await listen(server), registry, server };
      apps.push(app);
      await traffic(app);
      await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 8);
    }
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => close(app.server)));
  });

  it.each(FRAMEWORKS)('%s: promtool check metrics prints nothing for the text format', async (framework) => {
    const app = apps.find((candidate) => candidate.framework === framework)!;
    const response = await fetch(`${app.base}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).toContain('route="/users/:id"');
    const { output, status } = promtoolCheckMetrics(text);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it.each(FRAMEWORKS)('%s: the strict OpenMetrics parser accepts the answer, exemplars included', async (framework) => {
    const app = apps.find((candidate) => candidate.framework === framework)!;
    const response = await fetch(`${app.base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    const families = parseOpenMetrics(await response.text());
    const byName = new Map(families.map(([name, type, sampleCount, exemplars]) => [name, { type, sampleCount, exemplars }]));
    expect(byName.get('http_requests')?.type).toBe('counter');
    expect(byName.get('http_request_duration_seconds')?.type).toBe('histogram');
    expect(byName.get('http_requests')?.exemplars).toBeGreaterThan(0);
    expect(byName.get('http_request_duration_seconds')?.exemplars).toBeGreaterThan(0);
    expect(byName.get('nodejs_version')?.type).toBe('info');
    expect(byName.get('process_cpu_seconds')?.type).toBe('counter');
  });

  describe('a real Prometheus scraping all four apps', () => {
    let prometheus: RunningPrometheus;
    beforeAll(async () => {
      const jobs = apps
        .map((app) => `  - job_name: ${app.framework}\n    static_configs:\n      - targets: ['${app.base.replace('http://', '')}']`)
        .join('\n');
      prometheus = await startPrometheus(`global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${jobs}\n`, ['--enable-feature=exemplar-storage']);
      // Two scrapes after the traffic give rate() two points per series.
      await waitFor(async () => (await prometheus.query('count(count_over_time(up[1m]) >= 3)')).some((sample) => Number(sample.value[1]) === apps.length), 30_000);
    }, 60_000);
    afterAll(async () => {
      await prometheus?.stop();
    });

    it.each(FRAMEWORKS)('%s: rate by route returns the route templates, and every series was ingested', async (framework) => {
      const routes = await prometheus.query(`sum by (route) (rate(http_requests_total{job="${framework}"}[1m]))`);
      expect(routes.map((sample) => sample.metric['route']).sort()).toEqual(['/boom', '/echo', '/users/:id', '__unmatched__']);
      const app = apps.find((candidate) => candidate.framework === framework)!;
      // Scrape outcome of the latest scrape vs. the number of samples we expose now (traffic has stopped).
      const [scraped] = await prometheus.query(`scrape_samples_scraped{job="${framework}"}`);
      const exposed = samples(await (await fetch(`${app.base}/metrics`)).text()).size;
      expect(Number(scraped!.value[1])).toBe(exposed);
      const exemplars = (await prometheus.api('/api/v1/query_exemplars', {
        query: `http_request_duration_seconds_bucket{job="${framework}"}`,
        start: String(Date.now() / 1000 - 300),
        end: String(Date.now() / 1000 + 60),
      })) as { exemplars: { labels: Record<string, string> }[] }[];
      expect(exemplars.flatMap((series) => series.exemplars).some((exemplar) => exemplar.labels['trace_id'] === TRACE_ID)).toBe(true);
    });
  });
});
