import type { ResolvedProvisionOptions } from '../options.js';
import { operationsAlertGroup } from './ops-rules.js';
import { expectAlerts, type PromtoolTest } from './slo-rule-tests.js';

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
  const group = operationsAlertGroup(options);
  const expect = (alertname: string, eval_time: string, labelSets: Record<string, string>[]): AlertTest => expectAlerts(group, alertname, eval_time, labelSets);
  const instance = (name: string, extra: Record<string, string> = {}) => ({ job, instance: name, ...extra });
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
        expect('KpiEventsDropped', '14m', [instance('api-1:8000', { reason: 'queue_full' }), instance('api-1:8000', { reason: 'store_error' })]),
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
      alert_rule_test: [expect('KpiFlushStale', '8m', []), expect('KpiFlushStale', '12m', [instance('api-1:8000')])],
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
        expect('MetricSeriesOverflow', '8m', [instance('api-1:8000', { metric: 'http_requests_total' })]),
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
      alert_rule_test: [expect('EventLoopBlocked', '6m', []), expect('EventLoopBlocked', '12m', [instance('api-1:8000')])],
    },
    {
      name: 'MemoryGrowing fires when the resident memory is on course to double within the hour, not on a flat one',
      interval: '1m',
      input_series: [
        // +10 MB a minute from 100 MB: 600 MB more in an hour.
        { series: `process_resident_memory_bytes{${broken}}`, values: '100000000+10000000x40' },
        { series: `process_resident_memory_bytes{${healthy}}`, values: '300000000x40' },
      ],
      alert_rule_test: [expect('MemoryGrowing', '5m', []), expect('MemoryGrowing', '20m', [instance('api-1:8000')])],
    },
  ];
}
