import { describe, expect, it } from 'vitest';
import { resolveProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';
import { operationsAlertGroup } from './prometheus/ops-rules.js';
import { BURN_RATE_WINDOWS, burnRateAlertGroup, sliRecordingGroup, sliRecordingGroups, sliStepWindow, type RuleTiming } from './prometheus/slo-rules.js';
import { modelQualityAlertGroup } from './prometheus/ml-rules.js';
import { expandTemplate, showsLiveValue } from './prometheus/templates.js';
import { leLabel, number } from './promql.js';

const options = resolveProvisionOptions({ service: 'shop', scrapeInterval: '30s', evaluationInterval: '15s', bearerTokenFile: '/run/secrets/t' });

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
    expect(group.rules.map((rule) => rule.alert)).toEqual(['TargetDown', 'KpiEventsDropped', 'KpiFlushStale', 'KpiStoreDown', 'MetricSeriesOverflow', 'EventLoopBlocked', 'MemoryGrowing', 'HeapLimitApproaching', 'MemoryLimitApproaching']);
    for (const rule of [...group.rules, ...burnRateAlertGroup(options).rules]) {
      expect(rule.expr).not.toContain('__unmatched__');
      expect(rule.labels?.['severity']).toMatch(/^(page|ticket)$/);
      expect(rule.annotations?.['summary']).toBeTruthy();
      expect(rule.annotations?.['description']).toBeTruthy();
    }
  });
});

describe('memory limit alerts', () => {
  it('compare the 6-hour trend projected a day on with the limit, in processes older than the window, and scale with the timing', () => {
    const rule = (timing: RuleTiming, name: string) => operationsAlertGroup(options, timing).rules.find((candidate) => candidate.alert === name)!;
    const heap = rule({}, 'HeapLimitApproaching');
    expect(heap.expr).toBe(
      'predict_linear(nodejs_heap_size_used_bytes{job="shop"}[6h], 86400)\n> on (job, instance)\nnodejs_heap_size_limit_bytes{job="shop"}\nand on (job, instance)\ntime() - process_start_time_seconds{job="shop"} > 21600',
    );
    expect(heap).toMatchObject({ for: '1h', labels: { severity: 'ticket' } });
    const scaled = rule({ scale: 1 / 30 }, 'MemoryLimitApproaching');
    expect(scaled.expr).toContain('predict_linear(process_resident_memory_bytes{job="shop"}[720s], 2880)');
    expect(scaled.expr).toContain('process_memory_limit_bytes{job="shop"}');
    expect(scaled.expr).toMatch(/> 720$/);
    expect(scaled.for).toBe('120s');
  });
});

describe('alert annotations', () => {
  const alerts = [...burnRateAlertGroup(options).rules, ...operationsAlertGroup(options).rules, ...modelQualityAlertGroup(options).rules];

  it('every generated alert describes itself with its live values ($value or $labels), in templates Prometheus and the tests expand alike', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(17);
    const withoutLiveValue = alerts.filter((rule) => !showsLiveValue(rule.annotations?.['description'] ?? '')).map((rule) => rule.alert);
    expect(withoutLiveValue).toEqual([]);
    for (const rule of alerts) {
      for (const template of Object.values(rule.annotations ?? {})) expect(expandTemplate(template, { job: 'shop', instance: 'a:1' }, 0.5)).not.toContain('{{');
    }
  });

  it('formats a value to its unit: ratios as percentages, seconds as durations, bytes with binary prefixes', () => {
    const description = (name: string) => alerts.find((rule) => rule.alert === name)!.annotations!['description']!;
    expect(description('AvailabilityErrorBudgetBurn1h5m')).toContain('{{ $value | humanizePercentage }}');
    expect(description('EventLoopBlocked')).toContain('{{ $value | humanizeDuration }}');
    expect(description('KpiFlushStale')).toContain('{{ $value | humanizeDuration }}');
    expect(description('MemoryGrowing')).toContain('{{ $value | humanize1024 }}B');
    expect(description('HeapLimitApproaching')).toContain('{{ $value | humanize1024 }}B');
    expect(description('MemoryLimitApproaching')).toContain('{{ $value | humanize1024 }}B');
    expect(description('ModelVersionWorse')).toContain('{{ $value | humanizePercentage }}');
    expect(expandTemplate(description('AvailabilityErrorBudgetBurn1h5m'), { job: 'shop' }, 0.01584)).toMatch(/^1\.584% of requests failed with a 5xx status over the last 1h, above the 1\.44% this alert allows/);
  });

  it('refuses a template outside the supported subset, and $value without a value', () => {
    expect(() => expandTemplate('{{ $value }}', {}, 1)).toThrow('LOOKOUT_E_PROVISION_TEMPLATE');
    expect(() => expandTemplate('{{ $value | title }}', {}, 1)).toThrow('LOOKOUT_E_PROVISION_TEMPLATE');
    expect(() => expandTemplate('{{ range $labels }}', {}, 1)).toThrow('LOOKOUT_E_PROVISION_TEMPLATE');
    expect(() => expandTemplate('{{ $value | humanize }}', {})).toThrow("needs the alert's value");
    expect(showsLiveValue('no value here')).toBe(false);
  });
});
