import { gunzipSync } from 'node:zlib';
import type http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { close, listen, sumOf, waitFor } from '../../test/support/http.js';
import { buildApp, FRAMEWORKS, type Framework } from './apps.test-support.js';
import type { AdapterOptions } from './shared.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function start(framework: Framework, options: Partial<AdapterOptions> = {}): Promise<{ base: string; registry: Registry }> {
  const registry = new Registry();
  const server = await buildApp(framework, { registry, ...options });
  servers.push(server);
  return { base: await listen(server), registry };
}

async function get(url: string, init?: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response;
}

/** Metrics text once every request so far has been recorded (finish events can trail the client by a tick). */
async function settledMetrics(registry: Registry, expectedRequests: number): Promise<string> {
  await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') >= expectedRequests);
  return registry.metrics();
}

describe.each(FRAMEWORKS)('%s adapter', (framework) => {
  it('labels requests by route template, folds unknown paths and methods, and never counts /metrics', async () => {
    const { base, registry } = await start(framework);
    for (const id of ['1', '2', 'abc']) expect((await get(`${base}/users/${id}`)).status).toBe(200);
    expect((await get(`${base}/no/such/path`)).status).toBe(404);
    await get(`${base}/users/7`, { method: 'PROPFIND' });
    const scrape = await get(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    const text = await settledMetrics(registry, 5);
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'method="GET"', 'status="200"')).toBe(3);
    expect(sumOf(text, 'http_requests_total', 'route="__unmatched__"', 'method="GET"', 'status="404"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'method="_OTHER"')).toBe(1);
    expect(text).not.toMatch(/route="\/users\/(1|2|abc)"/);
    expect(text).not.toContain('/metrics"');
    expect(sumOf(text, 'http_request_duration_seconds_count', 'route="/users/:id"', 'method="GET"')).toBe(3);
    expect(sumOf(text, 'http_requests_in_flight')).toBe(0);
  });

  it('counts exceptions by class name and keeps the 500 response', async () => {
    const { base, registry } = await start(framework);
    const response = await get(`${base}/boom`);
    expect(response.status).toBe(500);
    const text = await settledMetrics(registry, 1);
    expect(sumOf(text, 'http_exceptions_total', 'route="/boom"', 'exception="ModelError"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/boom"', 'status="500"')).toBe(1);
  });

  it('measures a streamed response until its last byte', async () => {
    const { base, registry } = await start(framework);
    const response = await fetch(`${base}/stream`);
    expect(await response.text()).toBe('chunk 0\nchunk 1\nchunk 2\n');
    const text = await settledMetrics(registry, 1);
    expect(sumOf(text, 'http_request_duration_seconds_sum', 'route="/stream"')).toBeGreaterThanOrEqual(0.28);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/stream"')).toBeGreaterThanOrEqual(24);
  });

  it('records request and response sizes', async () => {
    const { base, registry } = await start(framework);
    const body = 'x'.repeat(1234);
    const response = await fetch(`${base}/echo`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(await response.text()).toBe(body);
    const text = await settledMetrics(registry, 1);
    expect(sumOf(text, 'http_request_size_bytes_sum', 'route="/echo"', 'method="POST"')).toBe(1234);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/echo"', 'method="POST"')).toBeGreaterThanOrEqual(1234);
  });

  it('runs the per-request hook, and a throwing hook changes nothing for the client', async () => {
    const seen: string[] = [];
    const { base, registry } = await start(framework, {
      onRequest: (_req, _res, seconds, info) => {
        seen.push(`${info.method} ${info.route} ${info.status} ${seconds >= 0}`);
        throw new Error('hook bug');
      },
    });
    const response = await fetch(`${base}/users/9`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '9', name: 'Ada' });
    const text = await settledMetrics(registry, 1);
    expect(seen).toEqual(['GET /users/:id 200 true']);
    expect(sumOf(text, 'lookout_hook_errors_total')).toBe(1);
  });

  it('puts trace ids from traceparent into OpenMetrics exemplars', async () => {
    const { base, registry } = await start(framework);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await get(`${base}/users/1`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    await settledMetrics(registry, 1);
    const scrape = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(scrape.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await scrape.text();
    expect(text).toMatch(new RegExp(`^http_requests_total\\{[^}]*route="/users/:id"[^}]*\\} 1 # \\{trace_id="${traceId}"\\} 1 \\d+`, 'm'));
    // The bucket the request fell in (the first one it fits) carries the exemplar: which one depends on the machine's speed.
    expect(text).toMatch(new RegExp(`^http_request_duration_seconds_bucket\\{[^}]*\\} 1 # \\{trace_id="${traceId}"\\} [0-9.e-]+ \\d+`, 'm'));
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('serves gzip when asked, and requires the bearer token when one is set', async () => {
    const { base } = await start(framework, { token: 's3cret' });
    expect((await get(`${base}/metrics`)).status).toBe(401);
    expect((await get(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const raw = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer s3cret', 'accept-encoding': 'gzip' } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    // fetch decodes gzip itself; the header shows it was compressed on the wire.
    expect(raw.headers.get('content-encoding')).toBe('gzip');
    expect(await raw.text()).toContain('# TYPE http_requests_total counter');
  });

  it('keeps removable labels, status classes, app name and header labels', async () => {
    const { base, registry } = await start(framework, {
      statusLabel: 'class',
      appName: 'inference',
      labels: { method: false },
      headerLabels: { tenant: 'x-tenant' },
      maxHeaderValues: 2,
    });
    for (const tenant of ['a', 'b', 'c', 'd']) await get(`${base}/users/1`, { headers: { 'x-tenant': tenant } });
    const text = await settledMetrics(registry, 4);
    expect(sumOf(text, 'http_requests_total', 'status="2xx"', 'app="inference"', 'tenant="a"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'tenant="__other__"')).toBe(2);
    expect(text).not.toMatch(/^http_requests_total\{[^}]*method=/m);
  });
});

describe('gzip on the wire', () => {
  it('is real gzip', async () => {
    const { base } = await start('node');
    const { request } = await import('node:http');
    const body = await new Promise<Buffer>((resolve, reject) => {
      request(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
      }).end();
    });
    expect(gunzipSync(body).toString()).toContain('# TYPE http_requests_total counter');
  });
});
