import { describe, expect, it } from 'vitest';
import { resolveProvisionOptions } from './options.js';

describe('resolveProvisionOptions', () => {
  it('fills defaults: 5s scrape, 99.9% availability, 99% under 1s, env-named datasources', () => {
    const options = resolveProvisionOptions();
    expect(options).toMatchObject({
      service: 'api',
      targets: ['api:8000'],
      scrapeInterval: '5s',
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
    [{ compose: { grafanaImage: 'grafana/grafana-oss:latest' } }, 'compose.grafanaImage'],
    [{ bearerTokenFile: 'token.txt' }, 'bearerTokenFile'],
  ])('rejects %j naming %s', (input, field) => {
    expect(() => resolveProvisionOptions(input)).toThrow(`LOOKOUT_E_PROVISION_OPTION: ${field}`);
  });

  it('accepts a latency threshold that is one of custom buckets', () => {
    expect(resolveProvisionOptions({ durationBuckets: [0.3, 1], slo: { latency: { thresholdSeconds: 0.3 } } }).slo.latency.thresholdSeconds).toBe(0.3);
  });
});
