import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeFile } from './compose.js';
import { loadProvisionConfig } from './config-file.js';
import { apiOverviewDashboard } from './dashboards/api-overview.js';
import { dashboardContext } from './dashboards/common.js';
import { generateDeployFiles } from './generate.js';
import { classicHistogramsKey, histogramAverage, histogramQuantile, histogramRate } from './histograms.js';
import { resolveProvisionOptions, type ProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';
import { sloRuleTests } from './prometheus/slo-rule-tests.js';
import { sliRecordingGroups } from './prometheus/slo-rules.js';
import { scalingComposeOverlay } from './scaling.js';

const resolve = (histograms: 'classic' | 'native' | 'both', extra: ProvisionOptions = {}) => resolveProvisionOptions({ service: 'shop', ...extra, histograms });
const FLAG = '--enable-feature=native-histograms';

/** Every `expr` string anywhere in a dashboard. */
function expressions(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(expressions);
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => (key === 'expr' && typeof inner === 'string' ? [inner] : expressions(inner)));
}

describe('histograms option', () => {
  it('defaults to classic; rejects other values with LOOKOUT_E_PROVISION_OPTION', () => {
    expect(resolveProvisionOptions().histograms).toBe('classic');
    expect(() => resolveProvisionOptions({ histograms: 'sparse' as 'native' })).toThrow('LOOKOUT_E_PROVISION_OPTION: histograms: expected classic | native | both, got "sparse"');
  });

  it('native takes any positive latency threshold (no le bucket needed); classic and both still need a bucket bound', () => {
    expect(resolve('native', { slo: { latency: { thresholdSeconds: 0.3 } } }).slo.latency.thresholdSeconds).toBe(0.3);
    expect(() => resolve('native', { slo: { latency: { thresholdSeconds: 0 } } })).toThrow('LOOKOUT_E_PROVISION_OPTION: slo.latency.thresholdSeconds');
    expect(() => resolve('both', { slo: { latency: { thresholdSeconds: 0.3 } } })).toThrow('LOOKOUT_E_PROVISION_OPTION: slo.latency.thresholdSeconds');
  });

  it('both needs a Prometheus image that knows scrape_classic_histograms (2.45+)', () => {
    expect(() => resolve('both', { compose: { prometheusImage: 'prom/prometheus:v2.42.0' } })).toThrow('LOOKOUT_E_PROVISION_OPTION: histograms: both needs Prometheus 2.45');
    expect(classicHistogramsKey('prom/prometheus:v2.45.0')).toBe('scrape_classic_histograms');
    expect(classicHistogramsKey('prom/prometheus:v3.1.0')).toBe('always_scrape_classic_histograms');
    expect(classicHistogramsKey('registry.local/prometheus:v2.44.0')).toBeUndefined();
  });

  it('is a known key of lookout.config.yaml', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-histograms-'));
    try {
      await writeFile(join(dir, 'lookout.config.yaml'), 'service: shop\nhistograms: native\n');
      expect(resolveProvisionOptions(await loadProvisionConfig(join(dir, 'lookout.config.yaml'))).histograms).toBe('native');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('PromQL helpers', () => {
  it('read _bucket series by le for classic, the native series otherwise', () => {
    expect(histogramRate('classic', 'h', 'job="a"', 'route', '5m')).toBe('sum by (route, le) (rate(h_bucket{job="a"}[5m]))');
    expect(histogramRate('native', 'h', 'job="a"', 'route', '5m')).toBe('sum by (route) (rate(h{job="a"}[5m]))');
    expect(histogramQuantile('native', 0.5, 'h', 'job="a"', '', '1m')).toBe('histogram_quantile(0.5, sum(rate(h{job="a"}[1m])))');
    expect(histogramAverage('native', 'h', 'job="a"', 'job', '1m')).toBe('histogram_sum(sum by (job) (rate(h{job="a"}[1m])))\n/\nhistogram_count(sum by (job) (rate(h{job="a"}[1m])))');
    expect(histogramAverage('classic', 'h', 'job="a"', 'job', '1m')).toBe('sum by (job) (rate(h_sum{job="a"}[1m]))\n/\nsum by (job) (rate(h_count{job="a"}[1m]))');
  });
});

describe('generated files per mode', () => {
  it('Prometheus gets the feature flag with native and both, in compose and in the scaling overlays; the example API turns native histograms on', () => {
    for (const mode of ['native', 'both'] as const) {
      const compose = composeFile(resolve(mode));
      expect(compose.services.prometheus.command).toContain(FLAG);
      expect(compose.services.api.environment).toMatchObject({ LOOKOUT_NATIVE_HISTOGRAMS: '1' });
      expect(scalingComposeOverlay(resolve(mode), 'mimir').services.prometheus.command).toContain(FLAG);
    }
    const classic = composeFile(resolve('classic'));
    expect(classic.services.prometheus.command).not.toContain(FLAG);
    expect(classic.services.api.environment).not.toHaveProperty('LOOKOUT_NATIVE_HISTOGRAMS');
  });

  it('prometheus.yml: both keeps the classic series (key by image version); remote write sends native histograms', () => {
    const job = (options: ReturnType<typeof resolve>) => prometheusConfig(options).scrape_configs[0] as Record<string, unknown>;
    expect(job(resolve('both'))['scrape_classic_histograms']).toBe(true);
    expect(job(resolve('both', { compose: { prometheusImage: 'prom/prometheus:v3.1.0' } }))['always_scrape_classic_histograms']).toBe(true);
    expect(Object.keys(job(resolve('native')))).toEqual(Object.keys(job(resolve('classic'))));
    const remote = (mode: 'classic' | 'native') => prometheusConfig(resolve(mode, { remoteWrite: { target: 'mimir' } })).remote_write?.[0];
    expect(remote('native')).toMatchObject({ send_native_histograms: true });
    expect(remote('classic')).not.toHaveProperty('send_native_histograms');
  });

  it('native latency SLI: histogram_count and histogram_fraction(0, threshold) over the native series, no _bucket or _count; availability rules unchanged', () => {
    const [native, classic, both] = (['native', 'classic', 'both'] as const).map((mode) => sliRecordingGroups(resolve(mode, { slo: { latency: { thresholdSeconds: 0.5 } } }))[0]!.rules);
    const latency = native!.filter((rule) => rule.labels?.['slo'] === 'latency' && rule.record?.endsWith(':rate1m15s') === true);
    expect(latency.map((rule) => rule.expr)).toEqual([
      'histogram_count(sum by (job) (rate(http_request_duration_seconds{job="shop"}[1m15s])))',
      '(histogram_count(sum by (job) (rate(http_request_duration_seconds{job="shop"}[1m15s]))) * (1 - histogram_fraction(0, 0.5, sum by (job) (rate(http_request_duration_seconds{job="shop"}[1m15s]))))) >= 0\nor\n(0 * histogram_count(sum by (job) (rate(http_request_duration_seconds{job="shop"}[1m15s]))))',
    ]);
    expect(JSON.stringify(native)).not.toMatch(/_bucket|_count\{/);
    expect(native!.slice(0, 2)).toEqual(classic!.slice(0, 2));
    expect(both).toEqual(classic);
  });

  it('native rule tests are the classic availability cases (promtool 2.42 cannot write native input series)', () => {
    for (const severity of ['page', 'ticket'] as const) {
      const classic = sloRuleTests(resolve('classic'), severity);
      expect(sloRuleTests(resolve('native'), severity)).toEqual(classic.filter((test) => test.name.startsWith('availability')));
    }
  });

  it('API overview: latency and size panels read native series with native and both, classic _bucket otherwise', () => {
    const histogramExprs = (mode: 'classic' | 'native' | 'both') =>
      expressions(apiOverviewDashboard(dashboardContext(resolve(mode)))).filter((expr) => /duration_seconds|size_bytes/.test(expr));
    for (const mode of ['native', 'both'] as const) {
      const exprs = histogramExprs(mode);
      expect(exprs).toHaveLength(8);
      for (const expr of exprs) expect(expr).not.toMatch(/_bucket|_sum\{|_count\{/);
      expect(exprs).toContain('histogram_quantile(0.99, sum(rate(http_request_duration_seconds{job=~"$job", instance=~"$instance", route=~"$route"}[$__rate_interval])))');
    }
    expect(histogramExprs('classic').every((expr) => /_bucket|_sum/.test(expr))).toBe(true);
  });

  it('the generated files differ from classic only where histograms are read', () => {
    const byPath = (mode: 'classic' | 'native') => new Map(generateDeployFiles(resolve(mode)).map((file) => [file.path, file.content]));
    const [classic, native] = [byPath('classic'), byPath('native')];
    const changed = [...classic.keys()].filter((path) => classic.get(path) !== native.get(path)).sort();
    expect(changed).toEqual([
      'README.md',
      'compose.yaml',
      'grafana/dashboards/shop/api-overview.json',
      'prometheus/prometheus.mimir.yml',
      'prometheus/prometheus.thanos.yml',
      'prometheus/prometheus.victoriametrics.yml',
      'prometheus/rules/slo.yml',
      'prometheus/tests/slo-page.test.yml',
      'prometheus/tests/slo-ticket.test.yml',
      'scaling/compose.mimir.yaml',
      'scaling/compose.thanos.yaml',
      'scaling/compose.victoriametrics.yaml',
    ]);
  });
});
