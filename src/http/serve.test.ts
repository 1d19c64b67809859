import { describe, expect, it } from 'vitest';
import { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { bearerChecker, createMetricsResponder, serveMetrics } from './serve.js';

describe('serveMetrics', () => {
  it('serves on its own port, on 127.0.0.1 by default, behind the bearer token', async () => {
    const registry = new Registry();
    registry.counter({ name: 'jobs_total', help: 'Jobs.' }).inc(3);
    const metricsServer = await serveMetrics({ registry, port: 0, token: 't0ken' });
    try {
      expect(metricsServer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const denied = await fetch(metricsServer.url);
      expect(denied.status).toBe(401);
      expect(denied.headers.get('www-authenticate')).toContain('Bearer');
      const allowed = await fetch(metricsServer.url, { headers: { authorization: 'Bearer t0ken' } });
      expect(allowed.status).toBe(200);
      expect(await allowed.text()).toContain('jobs_total 3');
      expect((await fetch(metricsServer.url.replace('/metrics', '/other'), { headers: { authorization: 'Bearer t0ken' } })).status).toBe(404);
      expect((await fetch(metricsServer.url, { method: 'POST', headers: { authorization: 'Bearer t0ken' } })).status).toBe(405);
    } finally {
      await metricsServer.close();
    }
  });

  it('answers protobuf to Prometheus\'s native-histogram Accept header, gzipped when asked, the same bytes as renderProtobuf', async () => {
    const registry = new Registry();
    registry.histogram({ name: 'wait_seconds', help: 'Wait.', native: true }).observe(0.3);
    const metricsServer = await serveMetrics({ registry, port: 0 });
    try {
      const accept = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
      const response = await fetch(metricsServer.url, { headers: { accept, 'accept-encoding': 'gzip' } });
      expect(response.headers.get('content-type')).toBe('application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited');
      expect(response.headers.get('content-encoding')).toBe('gzip');
      const body = Buffer.from(await response.arrayBuffer()); // fetch gunzips
      const chunks: Uint8Array[] = [];
      for await (const chunk of registry.renderProtobuf()) chunks.push(chunk);
      // The second render also holds the first scrape's lookout_render_duration_seconds: compare the histogram family only.
      const expected = Buffer.concat(chunks);
      expect(body.subarray(0, 40)).toEqual(expected.subarray(0, 40));
      expect(body.includes(Buffer.from('wait_seconds'))).toBe(true);
    } finally {
      await metricsServer.close();
    }
  });

  it('rejects a bad port or an empty token with LOOKOUT_E_INVALID_OPTION', async () => {
    await expect(serveMetrics({ registry: new Registry(), port: 70_000 })).rejects.toMatchObject({ code: 'LOOKOUT_E_INVALID_OPTION' });
    expect(() => bearerChecker('')).toThrow(LookoutError);
  });
});

describe('createMetricsResponder', () => {
  it('answers malformed Accept and Accept-Encoding headers with valid text', async () => {
    const respond = createMetricsResponder({ registry: new Registry() });
    for (const accept of ['', ';;;', 'application/openmetrics-text;q=abc', '*/*;q=', 'text/plain;version=9.9.9', 'x'.repeat(10_000)]) {
      const answer = respond({ method: 'GET', authorization: undefined, accept, acceptEncoding: 'gzip;q=nope, ,;' });
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^(text\/plain; version=0\.0\.4|application\/openmetrics-text; version=1\.0\.0); charset=utf-8$/);
      let text = '';
      for await (const chunk of answer.body as AsyncIterable<string>) text += chunk;
      expect(text).toContain('# TYPE lookout_series_overflow');
    }
  });

  it('compares tokens in constant time over hashes (any length is fine)', () => {
    const allowed = bearerChecker('abc');
    expect(allowed('Bearer abc')).toBe(true);
    expect(allowed('Bearer abcd')).toBe(false);
    expect(allowed(undefined)).toBe(false);
    expect(allowed('x'.repeat(100_000))).toBe(false);
  });
});
