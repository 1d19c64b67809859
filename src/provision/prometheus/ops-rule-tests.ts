import type { ResolvedProvisionOptions } from '../options.js';
import { MEMORY_LIMIT_TREND, operationsAlertGroup } from './ops-rules.js';
import { durationSeconds } from '../promql.js';
import { expectAlerts, type ExpectedAlert, type PromtoolTest } from './slo-rule-tests.js';

type AlertTest = PromtoolTest['alert_rule_test'][number];

/**
 * promtool tests for the operational alerts, each with a firing and a silent case.
 *
 * @example
 * ```ts
 * opsRuleTests(resolveProvisionOptions()).length; // 9
 * ```
 */
export function opsRuleTests(options: ResolvedProvisionOptions): PromtoolTest[] {
  const job = options.service;
  const broken = `job="${job}", instance="api-1:8000"`;
  const healthy = `job="${job}", instance="api-2:8000"`;
  const warming = `job="${job}", instance="api-3:8000"`;
  const group = operationsAlertGroup(options);
  const expect = (alertname: string, eval_time: string, alerts: ExpectedAlert[]): AlertTest => expectAlerts(group, alertname, eval_time, alerts);
  /** An alert of instance `name`; `value` is what the alert's expression gives at the evaluation time. */
  const instance = (name: string, extra: Record<string, string> = {}, value?: number): ExpectedAlert => ({ labels: { job, instance: name, ...extra }, ...(value !== undefined && { value }) });
  /**
   * Two days of one-minute samples against a limit of 540 MB. api-1 leaks 6 MB an hour from 250 MB
   * (a pace `MemoryGrowing` never sees) and would reach the limit at 48h20m; at 40h it is freed.
   * api-2 holds 400 MB, flat. api-3 is a new instance started at 30h: 50 MB climbing 9 MB a
   * minute for 10 minutes (modules, JIT, pools), then level at 140 MB.
   */
  const limitTest = (alertname: string, used: string, limit: string): PromtoolTest => {
    const minutes = 48 * 60 + 20;
    const window = durationSeconds(MEMORY_LIMIT_TREND.window) / 60;
    const horizon = durationSeconds(MEMORY_LIMIT_TREND.horizon) / 60;
    const restart = 30 * 60;
    const freed = 40 * 60;
    // Predicted at minute m: 250 MB + 0.1 MB x (m + horizon) > 540 MB from m = 1461 (24h21m), firing an hour later.
    const predicted = (minute: number): number => 250e6 + 100_000 * (minute + horizon);
    const firing = 25 * 60 + 30;
    const series = (selector: string, values: string) => ({ series: selector, values });
    const input_series = [
      series(`${used}{${broken}}`, `250000000+100000x${freed - 1} 250000000x${minutes - freed}`),
      series(`${limit}{${broken}}`, `540000000x${minutes}`),
      { series: `process_start_time_seconds{${broken}}`, values: `-86400x${minutes}` },
      series(`${used}{${healthy}}`, `400000000x${minutes}`),
      series(`${limit}{${healthy}}`, `540000000x${minutes}`),
      { series: `process_start_time_seconds{${healthy}}`, values: `-86400x${minutes}` },
      series(`${used}{${warming}}`, `_x${restart} 50000000+9000000x10 140000000x${minutes - restart - 11}`),
      series(`${limit}{${warming}}`, `_x${restart} 540000000x${minutes - restart}`),
      { series: `process_start_time_seconds{${warming}}`, values: `_x${restart} ${restart * 60}x${minutes - restart}` },
    ];
    const at = (minute: number): string => `${Math.floor(minute / 60)}h${minute % 60}m`;
    const alert_rule_test = [
      expect(alertname, at(24 * 60), []),
      // Pending from 24h21m: not yet an hour.
      expect(alertname, at(25 * 60), []),
      expect(alertname, at(firing), [instance('api-1:8000', {}, predicted(firing))]),
      // api-3's climb projected a day on passes the limit from 30h2m to 31h39m, longer than the
      // `for:`: only the guard (younger than the window until 36h) keeps it silent.
      expect(alertname, at(restart + 90), [instance('api-1:8000', {}, predicted(restart + 90))]),
      // Still firing 10 hours on; api-3, level since, raises nothing once old enough either.
      expect(alertname, at(restart + window - 10), [instance('api-1:8000', {}, predicted(restart + window - 10))]),
      // Freed at 40h: the trend turns down at once.
      expect(alertname, at(restart + window + 30), [instance('api-1:8000', {}, predicted(restart + window + 30))]),
      expect(alertname, at(freed + 30), []),
      expect(alertname, at(minutes - 10), []),
    ];
    if (used === 'process_resident_memory_bytes') {
      // The slow leak never doubles within the hour: the relative alert stays silent throughout.
      alert_rule_test.push(expect('MemoryGrowing', at(firing), []), expect('MemoryGrowing', at(freed - 10), []));
      // A target without process_memory_limit_bytes (another client library, an older lookout): nothing to compare with, no alert.
      input_series.push(
        series(`${used}{job="${job}", instance="api-4:8000"}`, `250000000+100000x${minutes - 1}`),
        { series: `process_start_time_seconds{job="${job}", instance="api-4:8000"}`, values: `-86400x${minutes}` },
      );
    }
    return {
      name: `${alertname} fires about a day before a slow leak (6 MB/h) reaches ${limit}, resolves once the memory is freed, not on a flat process nor on a start-up climb`,
      interval: '1m',
      input_series,
      alert_rule_test,
    };
  };
  return [
    {
      name: 'TargetDown fires after 2 minutes of failed scrapes, only for the down instance',
      interval: '1m',
      input_series: [
        { series: `up{${broken}}`, values: '1x5 0x10' },
        { series: `up{${healthy}}`, values: '1x15' },
      ],
      alert_rule_test: [expect('TargetDown', '6m', []), expect('TargetDown', '9m', [instance('api-1:8000')])],
    },
    {
      name: 'KpiEventsDropped fires on an increase and on a dropped series that first appears above zero',
      interval: '1m',
      input_series: [
        { series: `lookout_kpi_dropped_total{${broken}, reason="queue_full"}`, values: '0x10 0+5x10' },
        { series: `lookout_kpi_dropped_total{${broken}, reason="store_error"}`, values: '_x12 3x10' },
        { series: `lookout_kpi_dropped_total{${healthy}, reason="queue_full"}`, values: '0x20' },
      ],
      alert_rule_test: [
        expect('KpiEventsDropped', '9m', []),
        // queue_full: 0 up to 11m, then +5 a minute: 15 more over [9m, 14m] (samples on both edges, no extrapolation).
        // store_error: first seen at 12m already at 3, which the `unless ... offset` branch gives.
        expect('KpiEventsDropped', '14m', [instance('api-1:8000', { reason: 'queue_full' }, 15), instance('api-1:8000', { reason: 'store_error' }, 3)]),
      ],
    },
    {
      name: 'KpiFlushStale fires when events wait and nothing was flushed for 5 minutes',
      interval: '1m',
      input_series: [
        { series: `lookout_kpi_last_flush_timestamp_seconds{${broken}}`, values: '0x20' },
        { series: `lookout_kpi_queue_depth{${broken}}`, values: '5x20' },
        // Flushing every minute: the timestamp is "now".
        { series: `lookout_kpi_last_flush_timestamp_seconds{${healthy}}`, values: '0+60x20' },
        { series: `lookout_kpi_queue_depth{${healthy}}`, values: '5x20' },
        // Idle: stale timestamp but nothing waiting.
        { series: `lookout_kpi_last_flush_timestamp_seconds{job="${job}", instance="api-3:8000"}`, values: '0x20' },
        { series: `lookout_kpi_queue_depth{job="${job}", instance="api-3:8000"}`, values: '0x20' },
      ],
      // Last flush at 0: at 12m it is 720 s old.
      alert_rule_test: [expect('KpiFlushStale', '8m', []), expect('KpiFlushStale', '12m', [instance('api-1:8000', {}, 720)])],
    },
    {
      name: 'KpiStoreDown fires after 5 minutes without the store',
      interval: '1m',
      input_series: [
        { series: `lookout_kpi_store_up{${broken}}`, values: '1x2 0x15' },
        { series: `lookout_kpi_store_up{${healthy}}`, values: '1x17' },
      ],
      alert_rule_test: [expect('KpiStoreDown', '5m', []), expect('KpiStoreDown', '9m', [instance('api-1:8000')])],
    },
    {
      name: 'MetricSeriesOverflow fires while a metric folds new label sets, including the first one',
      interval: '1m',
      input_series: [
        { series: `lookout_series_overflow_total{${broken}, metric="http_requests_total"}`, values: '_x5 1x30' },
        { series: `lookout_series_overflow_total{${healthy}, metric="kpi_events_total"}`, values: '0x40' },
      ],
      alert_rule_test: [
        expect('MetricSeriesOverflow', '4m', []),
        // First seen at 5m already at 1: the `unless ... offset` branch gives 1.
        expect('MetricSeriesOverflow', '8m', [instance('api-1:8000', { metric: 'http_requests_total' }, 1)]),
        // One fold, never again: quiet once the series is older than the 15m window.
        expect('MetricSeriesOverflow', '35m', []),
      ],
    },
    {
      name: 'EventLoopBlocked fires after 5 minutes of p99 lag above the threshold, only for the blocked instance',
      interval: '1m',
      input_series: [
        { series: `nodejs_eventloop_lag_p99_seconds{${broken}}`, values: '0.01x3 0.8x15' },
        { series: `nodejs_eventloop_lag_p99_seconds{${healthy}}`, values: '0.3x18' },
      ],
      alert_rule_test: [expect('EventLoopBlocked', '6m', []), expect('EventLoopBlocked', '12m', [instance('api-1:8000', {}, 0.8)])],
    },
    {
      name: 'MemoryGrowing fires when the resident memory is on course to double within the hour, not on a flat one nor on a warm-up after a start',
      interval: '1m',
      input_series: [
        // +10 MB a minute from 100 MB, in a process up for an hour before the series start: 600 MB more in an hour.
        { series: `process_resident_memory_bytes{${broken}}`, values: '100000000+10000000x40' },
        { series: `process_start_time_seconds{${broken}}`, values: '-3600x40' },
        { series: `process_resident_memory_bytes{${healthy}}`, values: '300000000x40' },
        { series: `process_start_time_seconds{${healthy}}`, values: '-3600x40' },
        // Started at 0: 60 MB climbing 9 MB a minute for 10 minutes (modules, JIT, pools), then
        // level at 150 MB. Its trend window holds the climb until 40m, but it is younger than the
        // window until 30m, and level after: no ticket for a restart.
        { series: `process_resident_memory_bytes{${warming}}`, values: '60000000+9000000x10 150000000x30' },
        { series: `process_start_time_seconds{${warming}}`, values: '0x40' },
      ],
      alert_rule_test: [
        expect('MemoryGrowing', '5m', []),
        expect('MemoryGrowing', '15m', [instance('api-1:8000', {}, 850_000_000)]),
        // Its value: the resident memory predicted an hour on. At 20m 300 MB + 60 x 10 MB; at 35m 450 MB + 600 MB.
        expect('MemoryGrowing', '20m', [instance('api-1:8000', {}, 900_000_000)]),
        expect('MemoryGrowing', '35m', [instance('api-1:8000', {}, 1_050_000_000)]),
      ],
    },
    limitTest('HeapLimitApproaching', 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_limit_bytes'),
    limitTest('MemoryLimitApproaching', 'process_resident_memory_bytes', 'process_memory_limit_bytes'),
  ];
}
