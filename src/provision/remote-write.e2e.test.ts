// Remote write, proven two ways: promtool accepts every committed example prometheus.<store>.yml
// (and a config using every option), and a real Prometheus started with a generated config pushes
// to a receiver in this test, on each store's path, with its tenant header, its credentials read
// from files, and write_relabel_configs applied.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { promtool } from '../../test/support/validators.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { startRemoteWriteReceiver, type RemoteWriteReceiver, type RemoteWriteRequest } from '../../test/support/remote-write.js';
import { resolveProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';
import { SCALING_STORES } from './scaling.js';
import { renderYaml } from './yaml.js';

const PROMETHEUS_DIR = join(import.meta.dirname, '../../deploy/prometheus');
const promtoolAvailable = await probe('promtool', () => hasCommand('promtool', ['--version']));
const prometheusAvailable = await probe('prometheus', () => hasCommand('prometheus', ['--version']));
const PROMETHEUS_VERSION = prometheusAvailable ? execFileSync('prometheus', ['--version'], { encoding: 'utf8' }).split('\n')[0]! : '';
const DEBIAN_BUILD = /\+ds\b/.test(PROMETHEUS_VERSION);


const temporary: string[] = [];
afterAll(async () => {
  for (const dir of temporary) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-remote-write-'));
  temporary.push(dir);
  return dir;
}

describe.skipIf(!promtoolAvailable)('promtool check config on the remote-write configs', () => {
  it.each(SCALING_STORES.map((store) => [store]))('accepts the committed prometheus.%s.yml', async (store) => {
    // promtool stats the scrape job's credentials_file: the copy points it at a stub.
    const dir = await tempDir();
    await cp(PROMETHEUS_DIR, dir, { recursive: true });
    const file = `prometheus.${store}.yml`;
    const config = await readFile(join(dir, file), 'utf8');
    expect(config).toMatch(/^remote_write:$/m);
    await writeFile(join(dir, 'token'), 'stub\n');
    await writeFile(join(dir, file), config.replace('/run/secrets/metrics_token', join(dir, 'token')));
    const result = await promtool(['check', 'config', file], dir);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/SUCCESS: 3 rule files found/);
  });

  it('accepts a config using every remote-write option, and refuses a broken one (the check is not vacuous)', async () => {
    const dir = await tempDir();
    for (const name of ['token', 'password', 'ca.pem']) await writeFile(join(dir, name), 'stub\n');
    const options = resolveProvisionOptions({
      externalLabels: { cluster: 'eu-1', __replica__: 'prometheus-0' },
      remoteWrite: [
        {
          target: 'mimir', url: 'https://mimir.example.com', tenant: 'team-a', basicAuth: { username: 'team-a', passwordFile: join(dir, 'password') },
          tls: { caFile: join(dir, 'ca.pem'), serverName: 'mimir.example.com' }, remoteTimeout: '10s', sendExemplars: true,
          queue: { capacity: 20_000, maxShards: 20, minShards: 2, maxSamplesPerSend: 4000, batchSendDeadline: '2s', minBackoff: '50ms', maxBackoff: '10s' },
          keep: 'lookout', drop: ['http_request_size_bytes_bucket', 'http_response_size_bytes_bucket'], dropLabels: ['pod'],
        },
        { target: 'thanos', tenant: 'team-a', bearerTokenFile: join(dir, 'token'), headers: { 'X-Source': 'lookout' }, keep: ['http_.+', 'up'] },
        { target: 'victoriametrics', tenant: '42:7' },
        { target: 'generic', name: 'vendor', url: 'https://push.example.com/api/prom/push', tenant: 'org-9', tenantHeader: 'X-Scope-OrgID' },
      ],
    });
    await writeFile(join(dir, 'prometheus.yml'), renderYaml(prometheusConfig(options, { ruleFiles: [] })));
    const result = await promtool(['check', 'config', 'prometheus.yml'], dir);
    expect(result.code, result.output).toBe(0);
    const broken = (await readFile(join(dir, 'prometheus.yml'), 'utf8')).replace('action: labeldrop', 'action: labeldropped');
    await writeFile(join(dir, 'broken.yml'), broken);
    const refused = await promtool(['check', 'config', 'broken.yml'], dir);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('labeldropped');
  });
});

const EXPOSITION = `# TYPE http_requests_total counter
http_requests_total{method="GET",route="/users/:id",status="200",pod="api-0"} 42
# TYPE kpi_events_total counter
kpi_events_total{event="good_inference",pod="api-0"} 7
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes{pod="api-0"} 1.5e+07
# TYPE other_app_queue_depth gauge
other_app_queue_depth{pod="api-0"} 3
`;

describe.skipIf(!prometheusAvailable)('a real Prometheus pushes with the generated remote_write', () => {
  let receiver: RemoteWriteReceiver | undefined;
  let prometheus: RunningPrometheus | undefined;
  let app: Server | undefined;
  const token = 'test-bearer-token-from-a-file';
  const password = 'basic-password-from-a-file';

  afterAll(async () => {
    await prometheus?.stop();
    await receiver?.stop();
    if (app !== undefined) await new Promise((resolve) => app!.close(resolve));
  });

  it('each store gets its push path, snappy protobuf, credentials from files, only the series its relabelling keeps, and its tenant header (where the build sends headers)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'token'), `${token}\n`);
    await writeFile(join(dir, 'password'), `${password}\n`);
    receiver = await startRemoteWriteReceiver();
    app = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(EXPOSITION));
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const target = `127.0.0.1:${(app.address() as { port: number }).port}`;
    const fast = { batchSendDeadline: '500ms', capacity: 2500, maxSamplesPerSend: 500, maxShards: 2, minBackoff: '10ms', maxBackoff: '100ms' };
    const options = resolveProvisionOptions({
      service: 'e2e',
      targets: [target],
      externalLabels: { cluster: 'e2e-cluster' },
      remoteWrite: [
        // URLs without a path: each store's push path is added.
        { target: 'mimir', url: receiver.url, tenant: 'team-e2e', bearerTokenFile: join(dir, 'token'), keep: 'lookout', drop: ['nodejs_.+'], dropLabels: ['pod'], queue: fast },
        { target: 'thanos', url: receiver.url, tenant: 'team-e2e', basicAuth: { username: 'lookout', passwordFile: join(dir, 'password') }, keep: 'lookout', queue: fast },
        { target: 'victoriametrics', url: receiver.url, tenant: '42', headers: { 'X-Source': 'lookout' }, queue: fast },
      ],
    });
    prometheus = await startPrometheus(renderYaml(prometheusConfig(options, { ruleFiles: [], scrapeInterval: '1s' })));

    const paths = { mimir: '/api/v1/push', thanos: '/api/v1/receive', victoriametrics: '/insert/42/prometheus/api/v1/write' };
    const withSeries = (path: string) => receiver!.requests.filter((request) => request.path === path && request.series.length > 0);
    const hasNames = (path: string, names: string[]) => names.every((name) => withSeries(path).some((request) => request.series.some((series) => series['__name__'] === name)));
    const deadline = Date.now() + 45_000;
    while (!(hasNames(paths.mimir, ['up', 'http_requests_total', 'kpi_events_total']) && hasNames(paths.thanos, ['up', 'nodejs_heap_size_used_bytes']) && hasNames(paths.victoriametrics, ['other_app_queue_depth', 'scrape_duration_seconds']))) {
      if (Date.now() > deadline) throw new Error(`not every endpoint received its series in 45 s: ${JSON.stringify(receiver.requests.map((request) => [request.path, request.series.length, request.error]))}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(receiver.requests.filter((request) => request.error !== undefined)).toEqual([]);
    expect(new Set(receiver.requests.map((request) => request.path))).toEqual(new Set(Object.values(paths)));

    for (const request of receiver.requests) {
      expect(request.headers['content-encoding']).toBe('snappy');
      expect(request.headers['content-type']).toBe('application/x-protobuf');
      expect(request.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
      expect(request.headers['user-agent']).toMatch(/^Prometheus\//);
    }
    const headersOf = (path: string) => receiver!.requests.find((request) => request.path === path)!.headers;
    // Credentials, read by Prometheus from the files the config names.
    expect(headersOf(paths.mimir).authorization).toBe(`Bearer ${token}`);
    expect(headersOf(paths.thanos).authorization).toBe(`Basic ${Buffer.from(`lookout:${password}`).toString('base64')}`);
    expect(headersOf(paths.victoriametrics)).not.toHaveProperty('authorization');
    // Configured headers: the tenant (Mimir, Thanos) and a plain one (VictoriaMetrics).
    const custom = { mimir: headersOf(paths.mimir)['x-scope-orgid'], thanos: headersOf(paths.thanos)['thanos-tenant'], victoriametrics: headersOf(paths.victoriametrics)['x-source'] };
    if (Object.values(custom).every((value) => value === undefined) && DEBIAN_BUILD) {
      // Debian's prometheus 2.42.0+ds / 2.45.3+ds never sends remote_write `headers` (prometheus/prometheus#13030);
      // upstream builds, like compose's prom/prometheus image, do. Not a gap of the generated config:
      // the YAML carries them (checked above by promtool and in remote-write.test.ts).
      console.warn(`\n*** ${PROMETHEUS_VERSION} drops every remote_write header (Debian build, prometheus/prometheus#13030): tenant headers not asserted on the wire ***\n`);
    } else {
      expect(custom).toEqual({ mimir: 'team-e2e', thanos: 'team-e2e', victoriametrics: 'lookout' });
      expect(headersOf(paths.mimir)).not.toHaveProperty('thanos-tenant');
      expect(headersOf(paths.thanos)).not.toHaveProperty('x-scope-orgid');
    }

    const names = (path: string) => new Set(withSeries(path).flatMap((request: RemoteWriteRequest) => request.series.map((series) => series['__name__']!)));
    const labels = (path: string) => new Set(withSeries(path).flatMap((request) => request.series.flatMap((series) => Object.keys(series))));
    // Mimir: lookout's families only, nodejs_* dropped, the pod label removed; external labels added.
    expect([...names(paths.mimir)].sort()).toEqual(['http_requests_total', 'kpi_events_total', 'up']);
    expect(labels(paths.mimir).has('pod')).toBe(false);
    expect(labels(paths.mimir).has('cluster')).toBe(true);
    // Thanos: lookout's families (nodejs_* included), labels untouched.
    expect([...names(paths.thanos)].sort()).toEqual(['http_requests_total', 'kpi_events_total', 'nodejs_heap_size_used_bytes', 'up']);
    expect(labels(paths.thanos).has('pod')).toBe(true);
    // VictoriaMetrics (keep: all): everything Prometheus stores, scrape meta-series included.
    for (const name of ['other_app_queue_depth', 'scrape_duration_seconds', 'scrape_samples_scraped']) expect(names(paths.victoriametrics).has(name), name).toBe(true);
    const sample = withSeries(paths.mimir).flatMap((request) => request.series).find((series) => series['__name__'] === 'http_requests_total')!;
    expect(sample).toEqual({ __name__: 'http_requests_total', cluster: 'e2e-cluster', instance: target, job: 'e2e', method: 'GET', route: '/users/:id', status: '200' });
    console.log(`\nremote write: ${receiver.requests.length} pushes (${Object.entries(paths).map(([store, path]) => `${store} ${receiver!.requests.filter((request) => request.path === path).length}`).join(', ')})`);
  }, 90_000);
});
