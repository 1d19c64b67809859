import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { waitFor } from '../../test/support/http.js';
import { freePort, startPrometheus } from '../../test/support/prometheus.js';
import lookout from '../adapters/fastify.js';
import { Registry } from '../core/registry.js';
import { registerRuntimeMetrics } from '../core/runtime.js';
import { createModelMonitor } from '../ml/monitor.js';
import { fitReference } from '../ml/reference.js';
import type { DashboardData } from './types.js';

const available = await probe('prometheus', () => hasCommand('prometheus'));

describe.skipIf(!available)('the dashboard on a real Prometheus', () => {
  it('draws every HTTP, runtime and model chart from range queries and matches the scraped totals', async () => {
    // Prometheus first (the dashboard takes its URL), scraping the port the app will listen on.
    const port = await freePort();
    const target = `127.0.0.1:${port}`;
    const prometheus = await startPrometheus(`global: { scrape_interval: 1s }
scrape_configs:
  - job_name: dashboard-e2e
    static_configs: [{ targets: ['${target}'] }]
`);
    const registry = new Registry();
    const runtime = registerRuntimeMetrics(registry);
    const app = Fastify();
    await app.register(lookout, { registry, dashboard: { prometheusUrl: prometheus.url, prometheusSelector: 'job="dashboard-e2e"' } });
    // A model monitor (lookout/ml) on the users route: one numeric feature, two classes.
    const features = [{ name: 'x', kind: 'numeric' }] as const;
    const classes = ['even', 'odd'];
    const reference = fitReference({ features, classes }, Array.from({ length: 200 }, (_, index) => ({ input: { x: index % 100 }, output: { label: classes[index % 2]!, confidence: 0.8 } })));
    const monitor = createModelMonitor({ registry, model: { name: 'users', version: '1' }, features, predictions: { classes }, reference, minSamples: 20 });
    app.get<{ Params: { id: string } }>('/users/:id', async (request) => {
      const id = Number(request.params.id);
      monitor.observe({ x: id % 100 }, { label: classes[id % 2]!, confidence: 0.8 });
      monitor.feedback(id % 5 !== 0);
      return { ok: true };
    });
    app.get('/fail', async (_request, reply) => reply.code(503).send({ ok: false }));
    try {
      await app.listen({ port, host: '127.0.0.1' });
      let stop = false;
      const traffic = (async () => {
        for (let index = 0; !stop; index++) {
          await (await fetch(`http://${target}/${index % 10 === 0 ? 'fail' : `users/${index}`}`)).arrayBuffer();
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();
      const data = async (): Promise<DashboardData> => (await fetch(`http://${target}/lookout/data?range=300`)).json() as Promise<DashboardData>;
      const drawn = (answer: DashboardData, id: string): boolean => answer.charts.some((chart) => chart.id === id && chart.series.some((line) => line.values.some((value) => value !== null)));
      const required = ['requests', 'status', 'errors', 'inflight', 'latency', 'latencyRoutes', 'cpu', 'memory', 'eventloop', 'drift', 'predictionMix', 'accuracyByVersion'];
      await waitFor(async () => {
        const answer = await data();
        return answer.source === 'prometheus' && required.every((id) => drawn(answer, id));
      }, 30_000);
      stop = true;
      await traffic;
      // Two more scrapes: the last one holds every request.
      const scraped = async () => Number((await prometheus.query('sum(http_requests_total{route="/users/:id"})'))[0]?.value[1] ?? 0);
      const local = (registry.get('http_requests')!.series as { labelValues: readonly string[]; value: number }[])
        .filter((series) => series.labelValues.includes('/users/:id'))
        .reduce((sum, series) => sum + series.value, 0);
      await waitFor(async () => (await scraped()) === local, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const answer = await data();
      expect(answer.source).toBe('prometheus');
      expect(answer.notice).toBeUndefined();
      console.log(`prometheus source: ${answer.charts.map((chart) => `${chart.id}(${chart.series.length})`).join(' ')}; /users/:id total ${answer.routes.find((row) => row.route === '/users/:id')?.total} vs ${local} recorded`);
      expect(answer.routes.find((row) => row.route === '/users/:id')?.total).toBe(local);
      expect(answer.routes.find((row) => row.route === '/fail')?.errorRatio).toBe(1);
      expect(answer.charts.find((chart) => chart.id === 'errors')?.series.map((line) => line.name)).toEqual(['all routes', '/fail']);
      const lastOf = (id: string, name: string) => answer.charts.find((chart) => chart.id === id)?.series.find((line) => line.name === name)?.values.filter((value) => value !== null).at(-1);
      expect(answer.charts.find((chart) => chart.id === 'drift')?.series.map((line) => line.name).sort()).toEqual(['prediction class', 'prediction confidence', 'x']);
      // Every 10th index goes to /fail: of the users ids 4 in 9 are even, 8 in 9 not multiples of 5.
      expect(lastOf('predictionMix', 'even')).toBeCloseTo(4 / 9, 1);
      expect(lastOf('accuracyByVersion', 'v1')).toBeCloseTo(8 / 9, 1);
    } finally {
      await prometheus.stop();
      await app.close();
      runtime.stop();
      monitor.close();
    }
  }, 60_000);
});
