import { createHash } from 'node:crypto';
import http from 'node:http';
import { Script } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { close, listen } from '../../test/support/http.js';
import { Registry } from '../core/registry.js';
import { createDashboard, type Dashboard } from './dashboard.js';
import type { DashboardConfig } from './options.js';
import { PAGE_SCRIPT } from './page/client.js';
import { buildPage } from './page/html.js';
import type { DashboardData } from './types.js';

/** The page's budget over the wire (gzip): README states the measured size. */
const PAGE_BUDGET_GZIP_BYTES = 36 * 1024;

const servers: http.Server[] = [];
const dashboards: Dashboard[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
  for (const dashboard of dashboards.splice(0)) dashboard.close();
});

async function serve(config: Omit<DashboardConfig, 'registry'> = {}): Promise<{ base: string; dashboard: Dashboard }> {
  const dashboard = createDashboard({ registry: new Registry(), sampleSeconds: 0.05, historyMinutes: 1, ...config });
  dashboards.push(dashboard);
  const server = http.createServer((req, res) => (dashboard.owns(req.url) ? void dashboard.handle(req, res) : res.writeHead(404).end()));
  servers.push(server);
  return { base: await listen(server), dashboard };
}

describe('the dashboard page', () => {
  it(`stays under ${PAGE_BUDGET_GZIP_BYTES / 1024} KiB gzipped, one request with uPlot inlined and its license header kept`, async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/lookout`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const html = await response.text();
    const wire = gzipSync(html, { level: 9 }).length;
    console.log(`dashboard page: ${html.length} bytes, ${wire} bytes gzipped`);
    expect(wire).toBeLessThan(PAGE_BUDGET_GZIP_BYTES);
    expect(html).toMatch(/\/\*! https:\/\/github\.com\/leeoniya\/uPlot \(v1\.6\.\d+\) \*\//);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('allows exactly its inline scripts and styles by hash (CSP)', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/lookout`);
    const html = await response.text();
    const csp = response.headers.get('content-security-policy')!;
    const digest = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
    expect(scripts).toHaveLength(2);
    for (const script of scripts) expect(csp).toContain(digest(script));
    for (const style of styles) expect(csp).toContain(digest(style));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('ships a script that compiles, and escapes the title', () => {
    expect(() => new Script(PAGE_SCRIPT)).not.toThrow();
    const { html } = buildPage({ title: '</script><b>x', dataPath: '/lookout/data', sources: ['memory'], refreshSeconds: 5, defaultRange: 900 });
    expect(html).not.toContain('</script><b>');
    expect(html).toContain('&#60;/script&#62;&#60;b&#62;x');
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const { base } = await serve();
    const head = await fetch(`${base}/lookout`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${base}/lookout/data`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('the token (the one /metrics takes)', () => {
  it('guards page and data; a bearer header, or the token once in the URL then a cookie, opens them', async () => {
    const { base } = await serve({ token: 's3cret' });
    const page = await fetch(`${base}/lookout`);
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('<form method="get" action="/lookout">');
    expect((await fetch(`${base}/lookout/data`)).status).toBe(401);
    expect((await fetch(`${base}/lookout/data`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${base}/lookout/data`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);

    const wrong = await fetch(`${base}/lookout?token=nope`, { redirect: 'manual' });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${base}/lookout?token=s3cret`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/lookout');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^lookout_token=s3cret; Path=\/lookout; HttpOnly; SameSite=Strict$/);
    const withCookie = { headers: { cookie: 'other=1; lookout_token=s3cret' } };
    expect((await fetch(`${base}/lookout`, withCookie)).status).toBe(200);
    expect((await fetch(`${base}/lookout/data`, withCookie)).status).toBe(200);
    expect((await fetch(`${base}/lookout/data`, { headers: { cookie: 'lookout_token=s3cre' } })).status).toBe(401);
  });
});

describe('the data endpoint', () => {
  it('answers JSON for a known range, falls back to the default range, and gzips', async () => {
    const { base, dashboard } = await serve();
    await fetch(`${base}/lookout`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const response = await fetch(`${base}/lookout/data?range=300`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const data = (await response.json()) as DashboardData;
    expect(data.source).toBe('memory');
    expect(data.range).toBe(300);
    expect(data.charts.map((chart) => chart.id)).toEqual(expect.arrayContaining(['cpu', 'memory']));
    expect((await dashboard.data({ range: 12345 })).range).toBe(900);
  });

  it('computes once for several callers within a second', async () => {
    const { dashboard } = await serve();
    const [first, second] = await Promise.all([dashboard.data({ range: 300 }), dashboard.data({ range: 300 })]);
    expect(first).toBe(second);
  });
});
