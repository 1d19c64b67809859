import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';
import { LOOKOUT_METRIC_FAMILIES, remoteWriteEntry, resolveRemoteWrite, type RemoteWriteOptions } from './remote-write.js';
import { findSecretLiterals } from '../../test/support/secrets.js';
import { renderYaml } from './yaml.js';

const one = (options: RemoteWriteOptions, service = 'api') => resolveRemoteWrite(options, service)[0]!;

describe('resolveRemoteWrite: each store’s defaults', () => {
  it('Mimir: /api/v1/push, X-Scope-OrgID defaulting to the service name', () => {
    expect(one({ target: 'mimir' }, 'shop')).toMatchObject({ name: 'mimir', url: 'http://mimir:8080/api/v1/push', tenant: 'shop', headers: { 'X-Scope-OrgID': 'shop' }, keep: 'all' });
    expect(one({ target: 'mimir', url: 'https://mimir.example.com/', tenant: 'team-a' })).toMatchObject({ url: 'https://mimir.example.com/api/v1/push', headers: { 'X-Scope-OrgID': 'team-a' } });
    // A URL with a path is kept as given (a gateway may route differently).
    expect(one({ target: 'mimir', url: 'https://gw.example.com/mimir/api/v1/push' }).url).toBe('https://gw.example.com/mimir/api/v1/push');
  });

  it('Thanos Receive: /api/v1/receive, THANOS-TENANT only when a tenant is set', () => {
    expect(one({ target: 'thanos' })).toMatchObject({ url: 'http://thanos-receive:19291/api/v1/receive', tenant: undefined, headers: {} });
    expect(one({ target: 'thanos', tenant: 'team-a' }).headers).toEqual({ 'THANOS-TENANT': 'team-a' });
    expect(one({ target: 'thanos', tenant: 'team-a', tenantHeader: 'X-Tenant' }).headers).toEqual({ 'X-Tenant': 'team-a' });
  });

  it('VictoriaMetrics: /api/v1/write on a single node, the tenant in the cluster path', () => {
    expect(one({ target: 'victoriametrics' })).toMatchObject({ url: 'http://victoriametrics:8428/api/v1/write', headers: {} });
    expect(one({ target: 'victoriametrics', tenant: '42:7' }).url).toBe('http://vminsert:8480/insert/42:7/prometheus/api/v1/write');
    expect(one({ target: 'victoriametrics', tenant: '42', url: 'https://vm.example.com' }).url).toBe('https://vm.example.com/insert/42/prometheus/api/v1/write');
  });

  it('generic: the URL as given, the tenant in the header you name', () => {
    expect(one({ target: 'generic', url: 'https://push.example.com/api/prom/push', tenant: 'org', tenantHeader: 'X-Scope-OrgID' })).toMatchObject({
      url: 'https://push.example.com/api/prom/push', headers: { 'X-Scope-OrgID': 'org' },
    });
  });

  it('takes a list; names must differ', () => {
    expect(resolveRemoteWrite([{ target: 'mimir' }, { target: 'victoriametrics' }], 'api').map((endpoint) => endpoint.name)).toEqual(['mimir', 'victoriametrics']);
    expect(() => resolveRemoteWrite([{ target: 'mimir' }, { target: 'mimir', url: 'http://other:8080' }], 'api')).toThrow('LOOKOUT_E_PROVISION_OPTION: remoteWrite[1].name');
    expect(resolveRemoteWrite(undefined, 'api')).toEqual([]);
  });
});

describe('resolveRemoteWrite: refuses what would be wrong or leak a secret', () => {
  it.each([
    [{ target: 'cortex' as 'mimir' }, 'remoteWrite.target'],
    [{ target: 'generic' as const }, 'remoteWrite.url'],
    [{ target: 'mimir' as const, url: 'ftp://mimir' }, 'remoteWrite.url'],
    [{ target: 'mimir' as const, url: 'http://user:hunter2@mimir:8080' }, 'remoteWrite.url'],
    [{ target: 'mimir' as const, url: 'not a url' }, 'remoteWrite.url'],
    [{ target: 'victoriametrics' as const, tenant: '42', url: 'http://vminsert:8480/insert/7/prometheus/api/v1/write' }, 'remoteWrite.url'],
    [{ target: 'mimir' as const, tenant: 'a|b' }, 'remoteWrite.tenant'],
    [{ target: 'mimir' as const, tenant: '..' }, 'remoteWrite.tenant'],
    [{ target: 'victoriametrics' as const, tenant: 'team-a' }, 'remoteWrite.tenant'],
    [{ target: 'victoriametrics' as const, tenantHeader: 'X-Tenant' }, 'remoteWrite.tenantHeader'],
    [{ target: 'generic' as const, url: 'http://x:1/push', tenant: 'org' }, 'remoteWrite.tenantHeader'],
    [{ target: 'mimir' as const, headers: { Authorization: 'Bearer abc' } }, 'remoteWrite.headers'],
    [{ target: 'mimir' as const, headers: { 'X-Api-Key': 'abc' } }, 'remoteWrite.headers'],
    [{ target: 'mimir' as const, headers: { 'X-Auth-Token': 'abc' } }, 'remoteWrite.headers'],
    [{ target: 'mimir' as const, headers: { 'X-Scope-OrgID': 'x' } }, 'remoteWrite.headers'],
    [{ target: 'mimir' as const, headers: { 'Content-Encoding': 'gzip' } }, 'remoteWrite.headers'],
    [{ target: 'mimir' as const, headers: { 'X-Ok': 'two\nlines' } }, 'remoteWrite.headers.X-Ok'],
    [{ target: 'mimir' as const, bearerTokenFile: 'token.txt' }, 'remoteWrite.bearerTokenFile'],
    [{ target: 'mimir' as const, basicAuth: { username: 'u', passwordFile: 'relative' } }, 'remoteWrite.basicAuth.passwordFile'],
    [{ target: 'mimir' as const, bearerTokenFile: '/t', basicAuth: { username: 'u', passwordFile: '/p' } }, 'remoteWrite.basicAuth'],
    [{ target: 'mimir' as const, tls: { certFile: '/c.pem' } }, 'remoteWrite.tls'],
    [{ target: 'mimir' as const, remoteTimeout: '30 seconds' }, 'remoteWrite.remoteTimeout'],
    [{ target: 'mimir' as const, queue: { capacity: 0 } }, 'remoteWrite.queue.capacity'],
    [{ target: 'mimir' as const, queue: { capacity: 1000 } }, 'remoteWrite.queue.capacity'],
    [{ target: 'mimir' as const, queue: { minShards: 8, maxShards: 4 } }, 'remoteWrite.queue.minShards'],
    [{ target: 'mimir' as const, queue: { minBackoff: '10s' } }, 'remoteWrite.queue.minBackoff'],
    [{ target: 'mimir' as const, queue: { batchSendDeadline: 'soon' } }, 'remoteWrite.queue.batchSendDeadline'],
    [{ target: 'mimir' as const, keep: [] }, 'remoteWrite.keep'],
    [{ target: 'mimir' as const, keep: 'some' as 'all' }, 'remoteWrite.keep'],
    [{ target: 'mimir' as const, keep: ['^http_.+$'] }, 'remoteWrite.keep[0]'],
    [{ target: 'mimir' as const, drop: ['(unclosed'] }, 'remoteWrite.drop[0]'],
    [{ target: 'mimir' as const, dropLabels: ['le'] }, 'remoteWrite.dropLabels[0]'],
    [{ target: 'mimir' as const, dropLabels: ['bad-name'] }, 'remoteWrite.dropLabels[0]'],
    [{ target: 'mimir' as const, name: '1st' }, 'remoteWrite.name'],
  ])('%j → %s', (options, field) => {
    expect(() => resolveRemoteWrite(options as RemoteWriteOptions, 'api')).toThrow(`LOOKOUT_E_PROVISION_OPTION: ${field}`);
  });

  it('names the list index of the bad entry', () => {
    expect(() => resolveRemoteWrite([{ target: 'mimir' }, { target: 'thanos', bearerTokenFile: 'x' }], 'api')).toThrow('LOOKOUT_E_PROVISION_OPTION: remoteWrite[1].bearerTokenFile');
  });
});

describe('remoteWriteEntry and prometheusConfig', () => {
  it('writes auth from files, TLS, queue_config and the relabelling for keep / drop / dropLabels', () => {
    const entry = remoteWriteEntry(one({
      target: 'mimir', tenant: 'team-a', basicAuth: { username: 'team-a', passwordFile: '/run/secrets/mimir_password' }, tls: { caFile: '/etc/ca.pem', serverName: 'mimir' },
      remoteTimeout: '10s', sendExemplars: true, queue: { capacity: 20_000, maxShards: 20, maxSamplesPerSend: 4000, batchSendDeadline: '2s' },
      keep: 'lookout', drop: ['http_request_size_bytes_bucket'], dropLabels: ['pod', 'container'],
    }));
    expect(entry).toEqual({
      name: 'mimir',
      url: 'http://mimir:8080/api/v1/push',
      remote_timeout: '10s',
      headers: { 'X-Scope-OrgID': 'team-a' },
      basic_auth: { username: 'team-a', password_file: '/run/secrets/mimir_password' },
      tls_config: { ca_file: '/etc/ca.pem', server_name: 'mimir' },
      send_exemplars: true,
      queue_config: { capacity: 20_000, max_shards: 20, max_samples_per_send: 4000, batch_send_deadline: '2s' },
      write_relabel_configs: [
        { source_labels: ['__name__'], regex: LOOKOUT_METRIC_FAMILIES.join('|'), action: 'keep' },
        { source_labels: ['__name__'], regex: 'http_request_size_bytes_bucket', action: 'drop' },
        { regex: 'pod|container', action: 'labeldrop' },
      ],
    });
    expect(remoteWriteEntry(one({ target: 'thanos', bearerTokenFile: '/run/secrets/t', keep: ['http_.+', 'up'] }))).toEqual({
      name: 'thanos',
      url: 'http://thanos-receive:19291/api/v1/receive',
      authorization: { type: 'Bearer', credentials_file: '/run/secrets/t' },
      write_relabel_configs: [{ source_labels: ['__name__'], regex: 'http_.+|up', action: 'keep' }],
    });
  });

  it("keep: 'lookout' matches what the dashboards and rules read, and not other families", () => {
    const keep = new RegExp(`^(?:${LOOKOUT_METRIC_FAMILIES.join('|')})$`);
    for (const name of ['up', 'ALERTS', 'http_requests_total', 'http_request_duration_seconds_bucket', 'kpi_events_total', 'db_pool_connections', 'http_server_connections_open',
      'process_cpu_user_seconds_total', 'nodejs_eventloop_lag_seconds', 'lookout_kpi_dropped_total', 'inference_active', 'job:slo_errors:ratio_rate5m']) expect(keep.test(name), name).toBe(true);
    for (const name of ['go_goroutines', 'scrape_duration_seconds', 'http', 'job:other:rate5m', 'my_app_total']) expect(keep.test(name), name).toBe(false);
  });

  it('adds remote_write and external_labels to prometheus.yml only when configured', () => {
    expect(prometheusConfig(resolveProvisionOptions())).not.toHaveProperty('remote_write');
    expect(prometheusConfig(resolveProvisionOptions()).global).not.toHaveProperty('external_labels');
    const config = prometheusConfig(resolveProvisionOptions({ service: 'shop', externalLabels: { cluster: 'eu-1' }, remoteWrite: { target: 'mimir' } }));
    expect(config.global).toMatchObject({ external_labels: { cluster: 'eu-1' } });
    expect(config.remote_write).toEqual([{ name: 'mimir', url: 'http://mimir:8080/api/v1/push', headers: { 'X-Scope-OrgID': 'shop' } }]);
  });

  it('a config with every credential option holds no secret literal', () => {
    const config = prometheusConfig(resolveProvisionOptions({
      remoteWrite: [
        { target: 'mimir', basicAuth: { username: 'team-a', passwordFile: '/run/secrets/mimir_password' }, tls: { certFile: '/run/secrets/c.pem', keyFile: '/run/secrets/k.pem' } },
        { target: 'thanos', bearerTokenFile: '/run/secrets/thanos_token' },
      ],
    }));
    const content = renderYaml(config);
    expect(parse(content)).toEqual(config);
    expect(findSecretLiterals([{ path: 'prometheus.yml', content }])).toEqual([]);
    // The checker itself would see an inline one.
    expect(findSecretLiterals([{ path: 'p.yml', content: 'remote_write:\n  - basic_auth:\n      password: hunter2\n' }])).toHaveLength(1);
  });
});
