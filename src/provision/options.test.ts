import { describe, expect, it } from 'vitest';
import { resolveProvisionOptions } from './options.js';

describe('resolveProvisionOptions', () => {
  it('fills defaults: 15s scrape, 1m evaluation (production intervals), 99.9% availability, 99% under 1s, env-named datasources', () => {
    const options = resolveProvisionOptions();
    expect(options).toMatchObject({
      service: 'api',
      targets: ['api:8000'],
      scrapeInterval: '15s',
      evaluationInterval: '1m',
      bearerTokenFile: undefined,
      slo: { period: '30d', availability: { objective: 0.999 }, latency: { objective: 0.99, thresholdSeconds: 1 } },
      datasources: { prometheus: { urlEnv: 'DS_PROMETHEUS_URL' }, postgres: { passwordEnv: 'DS_POSTGRES_PASSWORD', readerRole: 'lookout_reader', sslmode: 'disable' } },
    });
  });

  it.each([
    [{ service: 'has space' }, 'service'],
    [{ targets: [] }, 'targets'],
    [{ targets: ['http://api:8000'] }, 'targets'],
    [{ scrapeInterval: '5 seconds' }, 'scrapeInterval'],
    [{ slo: { availability: { objective: 99.9 } } }, 'slo.availability.objective'],
    [{ slo: { latency: { thresholdSeconds: 0.3 } } }, 'slo.latency.thresholdSeconds'],
    [{ datasources: { postgres: { sslmode: 'prefer' as 'disable' } } }, 'datasources.postgres.sslmode'],
    [{ datasources: { prometheus: { urlEnv: 'lower' } } }, 'datasources.prometheus.urlEnv'],
    [{ datasources: { postgres: { embeddedStore: { port: 0 } } } }, 'datasources.postgres.embeddedStore.port'],
    [{ datasources: { postgres: { embeddedStore: { port: 5433, host: 'a b' } } } }, 'datasources.postgres.embeddedStore.host'],
    [{ compose: { grafanaImage: 'grafana/grafana-oss:latest' } }, 'compose.grafanaImage'],
    [{ bearerTokenFile: 'token.txt' }, 'bearerTokenFile'],
    [{ remoteWrite: { target: 'mimir' as const, url: 'http://u:p@mimir:8080' } }, 'remoteWrite.url'],
    [{ remoteWrite: [{ target: 'thanos' as const }, { target: 'generic' as const }] }, 'remoteWrite[1].url'],
    [{ externalLabels: { 'bad-name': 'x' } }, 'externalLabels'],
    [{ externalLabels: { cluster: '' } }, 'externalLabels.cluster'],
    [{ events: { partitionInterval: 'year' as 'month' } }, 'events.partitionInterval'],
    [{ events: { premake: -1 } }, 'events.premake'],
    [{ events: { retention: '13 monthz' } }, 'events.retention'],
    [{ events: { compressAfter: "7 days'; --" } }, 'events.compressAfter'],
    [{ compose: { mimirImage: 'grafana/mimir:latest' } }, 'compose.mimirImage'],
  ])('rejects %j naming %s', (input, field) => {
    expect(() => resolveProvisionOptions(input)).toThrow(`LOOKOUT_E_PROVISION_OPTION: ${field}`);
  });

  it('scaling out is off by default: no remote write, no external labels; monthly partitions kept 13 months', () => {
    const options = resolveProvisionOptions();
    expect(options.remoteWrite).toEqual([]);
    expect(options.externalLabels).toEqual({});
    expect(options.events).toEqual({ partitionInterval: 'month', premake: 3, retention: '13 months', chunkInterval: '1 day', compressAfter: '7 days' });
    expect(resolveProvisionOptions({ service: 'shop', remoteWrite: { target: 'mimir' } }).remoteWrite).toMatchObject([{ name: 'mimir', tenant: 'shop' }]);
  });

  it('accepts a latency threshold that is one of custom buckets', () => {
    expect(resolveProvisionOptions({ durationBuckets: [0.3, 1], slo: { latency: { thresholdSeconds: 0.3 } } }).slo.latency.thresholdSeconds).toBe(0.3);
  });
});
