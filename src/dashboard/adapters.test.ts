import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { close, listen, sumOf, waitFor } from '../../test/support/http.js';
import { buildApp, FRAMEWORKS, type Framework } from '../adapters/apps.test-support.js';
import type { AdapterOptions } from '../adapters/shared.js';
import { Registry } from '../core/registry.js';
import type { DashboardData } from './types.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function start(framework: Framework, options: Partial<AdapterOptions>): Promise<{ base: string; registry: Registry }> {
  const registry = new Registry();
  const server = await buildApp(framework, { registry, ...options });
  servers.push(server);
  return { base: await listen(server), registry };
}

describe.each(FRAMEWORKS)('%s adapter: the dashboard option', (framework) => {
  it('serves the page and its data, never counts them, and shows the same totals as /metrics', async () => {
    const { base, registry } = await start(framework, { dashboard: { sampleSeconds: 0.1, historyMinutes: 1 } });
    const page = await fetch(`${base}/lookout`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('"dataPath":"/lookout/data"');
    for (const id of ['1', '2', '3']) await (await fetch(`${base}/users/${id}`)).arrayBuffer();
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') >= 3);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const response = await fetch(`${base}/lookout/data?range=300`);
    expect(response.status).toBe(200);
    const data = (await response.json()) as DashboardData;
    expect(data.routes.find((row) => row.route === '/users/:id')?.total).toBe(3);
    expect(data.charts.find((chart) => chart.id === 'requests')?.series.map((series) => series.name)).toEqual(['/users/:id']);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total')).toBe(3);
    expect(text).not.toContain('/lookout');
  });

  it('takes the metrics token, a path of its own, and is off by default', async () => {
    const { base } = await start(framework, { token: 't0ken', dashboard: { path: '/ops/board' } });
    expect((await fetch(`${base}/ops/board`)).status).toBe(401);
    expect((await fetch(`${base}/ops/board/data`)).status).toBe(401);
    const authorized = await fetch(`${base}/ops/board/data`, { headers: { authorization: 'Bearer t0ken' } });
    expect(authorized.status).toBe(200);
    expect(((await authorized.json()) as DashboardData).source).toBe('memory');
    expect((await fetch(`${base}/lookout`)).status).toBe(404);
    const off = await start(framework, {});
    expect((await fetch(`${off.base}/lookout`)).status).toBe(404);
  });
});
