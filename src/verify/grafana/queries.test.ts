import { describe, expect, it } from 'vitest';
import { expandPrometheusTarget, prometheusStep, rateInterval, type PanelView } from './queries.js';

const hour: PanelView = { range: { fromMs: 1704067200000, toMs: 1704070800000 }, maxDataPoints: 500, variables: [] };

describe('Prometheus back-end step and $__rate_interval (§2.4)', () => {
  it('uses the datasource scrape interval as the front-end low limit', () => {
    // 3600 s / 500 = 7.2 s → 5 s, raised to the 15 s low limit; rate = max(15 + 15, 60) s.
    expect(expandPrometheusTarget({ expr: 'rate(x[$__rate_interval])' }, { scrapeInterval: '15s' }, hour)).toEqual([
      { kind: 'range', expr: 'rate(x[1m0s])', start: 1704067200, end: 1704070800, step: 15 },
    ]);
    // With a 5 s scrape: interval 5 s (7.2 s rounds down to 5 s), rate = max(5 + 5, 20) s.
    expect(expandPrometheusTarget({ expr: 'rate(x[$__rate_interval])' }, { scrapeInterval: '5s' }, hour)[0]!.expr).toBe('rate(x[20s])');
  });

  it('applies the 11000-points safety floor and intervalFactor', () => {
    expect(prometheusStep(30 * 86_400_000, 100_000, 1, '', 0, '15s')).toBe(300_000);
    expect(prometheusStep(3_600_000, 500, 15_000, '', 2, '15s')).toBe(30_000);
  });

  it('with Min step = $__rate_interval, step and rate interval are both the rate interval', () => {
    const [request] = expandPrometheusTarget({ expr: 'rate(x[$__rate_interval]) $__interval', interval: '$__rate_interval' }, { scrapeInterval: '15s' }, hour);
    expect(request).toMatchObject({ kind: 'range', expr: 'rate(x[1m0s]) 1m', step: 60 });
  });

  it('uses a literal Min step as the scrape interval of $__rate_interval', () => {
    expect(expandPrometheusTarget({ expr: '[$__rate_interval] $__rate_interval_ms', interval: '30s' }, { scrapeInterval: '15s' }, hour)[0]!.expr).toBe('[2m0s] 120000');
    expect(rateInterval(20_000, '')).toBe(60_000);
  });

  it('aligns range start and end down to the step; instant queries use the raw end', () => {
    const view: PanelView = { ...hour, range: { fromMs: 1704067201234, toMs: 1704070807890 } };
    const requests = expandPrometheusTarget({ expr: 'up', instant: true, range: true }, { scrapeInterval: '15s' }, view);
    expect(requests).toEqual([
      { kind: 'range', expr: 'up', start: 1704067200, end: 1704070800, step: 15 },
      { kind: 'instant', expr: 'up', time: 1704070807.89 },
    ]);
  });

  it('replaces the ${__name} forms too', () => {
    expect(expandPrometheusTarget({ expr: '${__range} ${__interval_ms} ${__rate_interval}' }, { scrapeInterval: '15s' }, hour)[0]!.expr).toBe('3600s 15000 1m0s');
  });
});
