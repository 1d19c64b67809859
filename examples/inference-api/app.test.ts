import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { promtoolCheckMetrics } from '../../test/support/validators.js';
import { startInferenceApi, type InferenceApi } from './app.js';
import { CLIENT_SERIES_CAP } from './metrics.js';

const promtool = await probe('promtool', () => hasCommand('promtool', ['--version']));

async function call(api: InferenceApi, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as Record<string, unknown> };
}

async function finished(api: InferenceApi, id: string, path = '/inference/status', headers: Record<string, string> = {}): Promise<string> {
  for (let poll = 0; poll < 200; poll++) {
    const { body } = await call(api, 'GET', `${path}/${id}`, undefined, headers);
    if (body['status'] === 'done' || body['status'] === 'failed') return String(body['status']);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${id} did not finish`);
}

async function metric(api: InferenceApi, line: RegExp): Promise<number | undefined> {
  const text = (await call(api, 'GET', '/metrics')).body as unknown as string;
  const found = text.split('\n').find((candidate) => line.test(candidate));
  return found === undefined ? undefined : Number(found.split(' ').pop());
}

describe('the reference inference API', () => {
  const store = new MemoryStore();
  let api: InferenceApi;
  beforeAll(async () => {
    api = await startInferenceApi({ store, flushIntervalMs: 20, queue: { retainMs: 300 } });
  });
  afterAll(() => api.close());

  it('start → status → results → select: answers, KPI rows and the active gauge', async () => {
    const user = { 'x-user': 'ada' };
    const started = await call(api, 'POST', '/inference/start', { points: [[0.2, -0.3]], samples: 8 }, user);
    expect(started.status).toBe(202);
    const id = String(started.body['id']);
    expect(await metric(api, /^inference_active /)).toBe(1);
    expect(await finished(api, id, '/inference/status', user)).toBe('done');
    const results = await call(api, 'GET', `/inference/results/${id}`, undefined, user);
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({ id, status: 'done', model: 'spiral-mlp-v1', predictions: [{ label: expect.stringMatching(/^(amber|cobalt|jade)$/), confidence: expect.any(Number) }] });
    expect(await metric(api, /^inference_active /)).toBe(0);
    expect((await call(api, 'PUT', '/inference/select', { id, good: false, labels: ['jade'] }, user)).status).toBe(204);
    expect(await api.kpi.flush()).toBe(true);
    const rows = store.sorted().filter((row) => row.user === 'ada');
    expect(rows.map((row) => row.event).sort()).toEqual(expect.arrayContaining(['inference_start', 'inference_status', 'inference_results', 'bad_inference']));
    expect(rows.find((row) => row.event === 'bad_inference')).toMatchObject({ model: 'spiral-mlp-v1', args: expect.stringContaining('"predicted"') });
    expect(await metric(api, /^inference_processing_duration_seconds_count\{outcome="ok"\}/)).toBeGreaterThanOrEqual(1);
    expect(await metric(api, /^kpi_events_total\{event="bad_inference"\}/)).toBe(1);
  });

  it('an inference whose results are never fetched leaves the active gauge when it expires', async () => {
    const { body } = await call(api, 'POST', '/inference/start', { points: [[0.1, 0.1]] });
    await finished(api, String(body['id']));
    expect(await metric(api, /^inference_active /)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await metric(api, /^inference_active /)).toBe(0);
    expect((await call(api, 'GET', `/inference/results/${String(body['id'])}`)).status).toBe(404);
  });

  it('errors: 400 bad body, 404 unknown id, 422 outside the training domain (counted as an exception)', async () => {
    expect((await call(api, 'POST', '/inference/start', { points: 'x' })).status).toBe(400);
    expect((await call(api, 'GET', '/inference/status/nope')).status).toBe(404);
    expect((await call(api, 'PUT', '/inference/select', { id: 'nope', good: true })).status).toBe(404);
    const { body } = await call(api, 'POST', '/inference/start', { points: [[40, 0]] });
    expect(await finished(api, String(body['id']))).toBe('failed');
    const result = await call(api, 'GET', `/inference/results/${String(body['id'])}`);
    expect(result.status).toBe(422);
    expect(String(result.body['message'])).toContain('outside the training domain');
    expect(await metric(api, /^http_exceptions_total\{.*route="\/inference\/results\/:id".*exception="OutOfDomainError"\}/)).toBe(1);
    expect(await metric(api, /^http_requests_total\{method="GET",route="__unmatched__",status="404"/)).toBeUndefined();
    expect((await call(api, 'GET', '/wp-login.php')).status).toBe(404);
    expect(await metric(api, /^http_requests_total\{method="GET",route="__unmatched__",status="404"/)).toBe(1);
  });

  it('/train/start retrains in the queue; the new version is served and exposed', async () => {
    const { status, body } = await call(api, 'POST', '/train/start', { source: 'spirals', epochs: 20 });
    expect(status).toBe(202);
    expect(await finished(api, String(body['id']), '/train/status')).toBe('done');
    expect((await call(api, 'GET', `/train/status/${String(body['id'])}`)).body['model']).toMatchObject({ version: 2, epochs: 20, source: 'spirals' });
    expect((await call(api, 'GET', '/model')).body).toMatchObject({ version: 2 });
    expect(await metric(api, /^model_info\{name="spiral-mlp",version="2",source="spirals"\} 1/)).toBe(1);
    expect(await metric(api, /^model_state\{model_state="serving"\}/)).toBe(1);
    // The model monitor: the new version names the one it replaced (what ModelVersionWorse compares),
    // and the inference routes' latency is counted by the version that answered.
    expect(await metric(api, /^model_version_info\{model="spiral-mlp",model_version="2",previous_version="1"\} 1/)).toBe(1);
    expect(await metric(api, /^model_request_duration_seconds_count\{model="spiral-mlp",model_version="1",outcome="ok"\}/)).toBeGreaterThanOrEqual(1);
    expect(await metric(api, /^model_request_duration_seconds_count\{model="spiral-mlp",model_version="2",outcome="error"\}/)).toBe(0);
    await call(api, 'GET', '/inference/status/after-retrain');
    expect(await metric(api, /^model_request_duration_seconds_count\{model="spiral-mlp",model_version="2",outcome="ok"\}/)).toBe(1);
  });

  it('content routes are recorded by route template; /healthz is not recorded', async () => {
    expect((await call(api, 'GET', '/')).status).toBe(200);
    expect((await call(api, 'GET', '/docs')).body).toContain('/inference/select');
    expect((await call(api, 'GET', '/healthz')).body).toEqual({ ok: true });
    expect(await metric(api, /^http_requests_total\{method="GET",route="\/docs",status="200"/)).toBe(1);
    expect(await metric(api, /route="\/healthz"/)).toBeUndefined();
    expect(await metric(api, /^http_server_connections_open /)).toBeGreaterThanOrEqual(0);
  });

  it('x-client values beyond the cap fold into one overflow series, counted', async () => {
    for (let index = 0; index < CLIENT_SERIES_CAP + 2; index++) await call(api, 'GET', '/model', undefined, { 'x-client': `client-${index}` });
    expect(await metric(api, /^lookout_series_overflow_total\{metric="inference_client_requests"\}/)).toBeGreaterThan(0);
    expect(await metric(api, /^inference_client_requests_total\{client="__overflow__"\}/)).toBeGreaterThan(0);
  });

  it.skipIf(!promtool)('/metrics passes promtool check metrics', async () => {
    const text = (await call(api, 'GET', '/metrics')).body as unknown as string;
    expect(promtoolCheckMetrics(text)).toEqual({ output: '', status: 0 });
  });
});

describe('the bounded queue and the token', () => {
  it('a full queue answers 503 (QueueFullError); /metrics wants the token; close() ends running jobs', async () => {
    const api = await startInferenceApi({ store: new MemoryStore(), queue: { concurrency: 1, capacity: 1 }, token: 'secret' });
    try {
      const slow = { points: Array.from({ length: 256 }, () => [0.1, 0.2]), samples: 4096 };
      const running = await call(api, 'POST', '/inference/start', slow);
      expect((await call(api, 'POST', '/inference/start', slow)).status).toBe(202);
      const refused = await call(api, 'POST', '/inference/start', slow);
      expect(refused.status).toBe(503);
      expect((await call(api, 'GET', `/inference/results/${String(running.body['id'])}`)).status).toBe(409);
      expect((await call(api, 'GET', '/metrics')).status).toBe(401);
      const text = (await call(api, 'GET', '/metrics', undefined, { authorization: 'Bearer secret' })).body as unknown as string;
      expect(text).toMatch(/^http_exceptions_total\{.*exception="QueueFullError"\} 1$/m);
      expect(text).toMatch(/^inference_queue_jobs\{state="running"\} 1$/m);
    } finally {
      const started = Date.now();
      await api.close();
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });
});

describe('closing the reference inference API', () => {
  it('does not wait for the keep-alive timeout of a connection whose response finishes after close() began', async () => {
    const api = await startInferenceApi({ store: new MemoryStore(), flushIntervalMs: 20 });
    const { port } = new URL(api.url);
    // A request in progress when close() starts: its body is only half sent.
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    const body = '{"points":[[0.1,0.2]]}';
    socket.write(`POST /inference/start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const closed = api.close();
    socket.write(body.slice(5)); // the response now finishes, and the connection would stay open for keep-alive
    await closed;
    const seconds = (Date.now() - started) / 1000;
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 202/);
    expect(seconds).toBeLessThan(3); // Fastify's keepAliveTimeout is 72 s
  }, 90_000);
});

describe('LOOKOUT_NATIVE_HISTOGRAMS (set by the generated compose.yaml with histograms: native | both)', () => {
  it('=1 makes the HTTP duration and size histograms native; unset keeps them classic', async () => {
    const previous = process.env['LOOKOUT_NATIVE_HISTOGRAMS'];
    const nativeOf = (api: InferenceApi) => ['http_request_duration_seconds', 'http_response_size_bytes'].map((name) => (api.registry.get(name) as { native?: { schema: number } } | undefined)?.native?.schema);
    try {
      process.env['LOOKOUT_NATIVE_HISTOGRAMS'] = '1';
      const native = await startInferenceApi({ store: new MemoryStore() });
      delete process.env['LOOKOUT_NATIVE_HISTOGRAMS'];
      const classic = await startInferenceApi({ store: new MemoryStore() });
      try {
        expect(nativeOf(native)).toEqual([3, 3]);
        expect(nativeOf(classic)).toEqual([undefined, undefined]);
      } finally {
        await native.close();
        await classic.close();
      }
    } finally {
      if (previous === undefined) delete process.env['LOOKOUT_NATIVE_HISTOGRAMS'];
      else process.env['LOOKOUT_NATIVE_HISTOGRAMS'] = previous;
    }
  });
});
