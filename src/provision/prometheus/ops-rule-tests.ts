import type { ResolvedProvisionOptions } from '../options.js';
import { operationsAlertGroup } from './ops-rules.js';
import { expectAlerts, type ExpectedAlert, type PromtoolTest } from './slo-rule-tests.js';

type AlertTest = PromtoolTest['alert_rule_test'][number];

/**
 * promtool tests for the operational alerts, each with a firing and a silent case.
 *
 * @example
 * ```ts
 * opsRuleTests(resolveProvisionOptions()).length; // 7
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
  ];
}
