import { describe, expect, it } from 'vitest';
import { resolveProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';
import { operationsAlertGroup } from './prometheus/ops-rules.js';
import { BURN_RATE_WINDOWS, burnRateAlertGroup, sliRecordingGroup, sliRecordingGroups, sliStepWindow } from './prometheus/slo-rules.js';
import { leLabel, number } from './promql.js';

const options = resolveProvisionOptions({ service: 'shop', scrapeInterval: '30s', bearerTokenFile: '/run/secrets/t' });

describe('prometheus.yml', () => {
  it('scrapes the targets with the token file and caps the timeout at 10s', () => {
    const config = prometheusConfig(options, { targets: ['127.0.0.1:1'] });
    expect(config.global).toEqual({ scrape_interval: '30s', scrape_timeout: '10s', evaluation_interval: '15s' });
    expect(config.scrape_configs[0]).toMatchObject({ job_name: 'shop', authorization: { type: 'Bearer', credentials_file: '/run/secrets/t' }, static_configs: [{ targets: ['127.0.0.1:1'] }] });
    expect(prometheusConfig(options, { bearerTokenFile: undefined }).scrape_configs[0]).not.toHaveProperty('authorization');
  });
});

describe('SLO rules', () => {
  it('records request rate, both SLO error ratios and the latency-good ratio over every window and the period', () => {
    const records = sliRecordingGroup(options).rules.map((rule) => `${rule.record}${rule.labels?.['slo'] ?? ''}`);
    for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '30d']) {
      expect(records).toContain(`job:http_requests:rate${window}`);
      expect(records).toContain(`job:slo_errors:ratio_rate${window}availability`);
      expect(records).toContain(`job:slo_errors:ratio_rate${window}latency`);
      expect(records).toContain(`job:http_request_latency_good:ratio_rate${window}`);
    }
  });

  it('reads the latency threshold bucket with the contract le format', () => {
    expect(leLabel(1)).toBe('1.0');
    expect(leLabel(0.25)).toBe('0.25');
    expect(sliRecordingGroup(options).rules[3]!.expr).toContain('le="1.0"');
  });

  it('reads raw series only over the one short step window; every longer window averages the step recordings', () => {
    const [short, long] = sliRecordingGroups(options);
    expect(sliStepWindow(options)).toBe('1m');
    expect(sliStepWindow(resolveProvisionOptions({ scrapeInterval: '15s', evaluationInterval: '1m' }))).toBe('1m15s');
    expect(sliStepWindow(resolveProvisionOptions({ scrapeInterval: '5s', evaluationInterval: '15s' }))).toBe('20s');
    const all = [...short!.rules, ...long!.rules];
    const raw = all.filter((rule) => /http_request(s_total|_duration_seconds)/.test(rule.expr));
    expect(raw.map((rule) => rule.record)).toEqual(['job:slo_requests:rate1m', 'job:slo_errors:rate1m', 'job:slo_requests:rate1m', 'job:slo_errors:rate1m']);
    for (const rule of raw) expect(rule.expr.match(/\[[^\]]+\]/g)).toEqual(expect.arrayContaining(['[1m]']));
    for (const rule of all.filter((candidate) => !raw.includes(candidate))) expect(rule.expr).not.toMatch(/rate\(/);
    expect(long!.rules.map((rule) => rule.record)).toContain('job:slo_errors:ratio_rate30d');
    expect(short!.rules.map((rule) => rule.record)).not.toContain('job:slo_errors:ratio_rate1d');
    // A ratio of sums (both averages over the same evaluations), not an average of ratios.
    expect(long!.rules.find((rule) => rule.record === 'job:slo_errors:ratio_rate30d')!.expr).toBe(
      'sum by (job) (avg_over_time(job:slo_errors:rate1m{job="shop", slo="availability"}[30d]))\n/\nsum by (job) (avg_over_time(job:slo_requests:rate1m{job="shop", slo="availability"}[30d]))',
    );
  });

  it('has one page/ticket alert per SLO and window pair at the workbook factors', () => {
    const alerts = burnRateAlertGroup(options).rules;
    expect(alerts).toHaveLength(8);
    expect(BURN_RATE_WINDOWS.map((pair) => [pair.long, pair.short, pair.factor, pair.severity])).toEqual([
      ['1h', '5m', 14.4, 'page'],
      ['6h', '30m', 6, 'page'],
      ['1d', '2h', 3, 'ticket'],
      ['3d', '6h', 1, 'ticket'],
    ]);
    expect(alerts[0]).toMatchObject({
      alert: 'AvailabilityErrorBudgetBurn1h5m',
      expr: 'job:slo_errors:ratio_rate1h{job="shop", slo="availability"} > (14.4 * 0.001)\nand\njob:slo_errors:ratio_rate5m{job="shop", slo="availability"} > (14.4 * 0.001)',
      labels: { severity: 'page', slo: 'availability', long_window: '1h', short_window: '5m' },
    });
    expect(alerts[4]!.expr).toContain('(14.4 * 0.01)');
    expect(number(1 - 0.999)).toBe('0.001');
  });

  it('has the operational alerts, none depending on the __unmatched__ route', () => {
    const group = operationsAlertGroup(options);
    expect(group.rules.map((rule) => rule.alert)).toEqual(['TargetDown', 'KpiEventsDropped', 'KpiFlushStale', 'KpiStoreDown', 'MetricSeriesOverflow', 'EventLoopBlocked', 'MemoryGrowing']);
    for (const rule of [...group.rules, ...burnRateAlertGroup(options).rules]) {
      expect(rule.expr).not.toContain('__unmatched__');
      expect(rule.labels?.['severity']).toMatch(/^(page|ticket)$/);
      expect(rule.annotations?.['summary']).toBeTruthy();
      expect(rule.annotations?.['description']).toBeTruthy();
    }
  });
});
