import type { ResolvedProvisionOptions } from '../options.js';
import { durationSeconds } from '../promql.js';
import { withAlertLinks } from '../runbooks.js';
import { KPI_FLUSH_STALE_SECONDS } from './names.js';
export { KPI_FLUSH_STALE_SECONDS } from './names.js';
import { scaledDuration, type PrometheusRule, type RuleGroup, type RuleTiming } from './slo-rules.js';

/**
 * Event-loop lag (p99 between two scrapes) above which `EventLoopBlocked` fires, after 5 minutes.
 *
 * @example
 * ```ts
 * `nodejs_eventloop_lag_p99_seconds > ${EVENT_LOOP_LAG_SECONDS}`;
 * ```
 */
export const EVENT_LOOP_LAG_SECONDS = 0.5;

/**
 * Trend window, horizon and `for:` of `HeapLimitApproaching` and `MemoryLimitApproaching`: the
 * trend of the last 6 hours (longer than a start-up climb, and the process must be older than it)
 * projected 24 hours on, held for an hour. A leak is reported about a day before the limit,
 * whatever its pace; a leak that reaches the limit within ~7 hours of a start is not (then
 * `MemoryGrowing`, over 30 minutes, sees it; and the restart it ends in shows as `TargetDown` or
 * error-budget burn).
 *
 * @example
 * ```ts
 * durationSeconds(MEMORY_LIMIT_TREND.horizon); // 86400
 * ```
 */
export const MEMORY_LIMIT_TREND = { window: '6h', horizon: '24h', for: '1h' } as const;

interface LimitAlertSpec {
  readonly alert: string;
  /** The gauge that grows (bytes). */
  readonly used: string;
  /** The gauge it must stay under (bytes); an instance without it is not evaluated. */
  readonly limit: string;
  readonly summary: string;
  readonly description: string;
}

/** "`used` at its trend reaches `limit` within the horizon", over the process's own life only. */
function limitApproaching(job: string, scaled: (duration: string) => string, spec: LimitAlertSpec): PrometheusRule {
  const window = scaled(MEMORY_LIMIT_TREND.window);
  return {
    alert: spec.alert,
    // Only once the window holds this process alone: a window reaching back past a restart fits a
    // line through two processes, and a start-up climb projected a day on passes any limit.
    expr: `predict_linear(${spec.used}{${job}}[${window}], ${durationSeconds(scaled(MEMORY_LIMIT_TREND.horizon))})\n> on (job, instance)\n${spec.limit}{${job}}\nand on (job, instance)\ntime() - process_start_time_seconds{${job}} > ${durationSeconds(window)}`,
    for: scaled(MEMORY_LIMIT_TREND.for),
    labels: { severity: 'ticket' },
    annotations: { summary: spec.summary, description: spec.description },
  };
}

/**
 * "This counter went up in the last `window`", including a series that first appeared inside the
 * window already above zero (`increase()` alone cannot see that first step, because Prometheus
 * never saw the counter at 0).
 *
 * @example
 * ```ts
 * counterIncreased('lookout_kpi_dropped_total{job="api"}', '5m');
 * ```
 */
export function counterIncreased(series: string, window: string): string {
  return `increase(${series}[${window}]) > 0\nor\n(${series} unless ${series} offset ${window}) > 0`;
}

/**
 * Operational alerts: target down, KPI events dropped, KPI flush stale, KPI store down, series
 * overflow, event loop blocked, memory growing fast, and memory (V8 heap, resident) on course to
 * reach its limit within a day.
 *
 * @example
 * ```ts
 * operationsAlertGroup(resolveProvisionOptions()).rules.map((rule) => rule.alert);
 * // ['TargetDown', 'KpiEventsDropped', 'KpiFlushStale', 'KpiStoreDown', 'MetricSeriesOverflow', 'EventLoopBlocked', 'MemoryGrowing', 'HeapLimitApproaching', 'MemoryLimitApproaching']
 * ```
 */
export function operationsAlertGroup(options: ResolvedProvisionOptions, timing: RuleTiming = {}): RuleGroup {
  const job = `job="${options.service}"`;
  const scaled = (duration: string): string => scaledDuration(duration, timing);
  const staleSeconds = Math.round(KPI_FLUSH_STALE_SECONDS * (timing.scale ?? 1) * 1000) / 1000;
  // Every alert carries runbook_url and dashboard (src/provision/runbooks.ts).
  return withAlertLinks(options, {
    name: `${options.service}-operations`,
    rules: [
      {
        alert: 'TargetDown',
        expr: `up{${job}} == 0`,
        for: scaled('2m'),
        labels: { severity: 'page' },
        annotations: {
          summary: '{{ $labels.job }} target {{ $labels.instance }} is down',
          description: 'Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for 2 minutes: the process is down, unreachable, or /metrics rejects the token.',
        },
      },
      {
        alert: 'KpiEventsDropped',
        expr: counterIncreased(`lookout_kpi_dropped_total{${job}}`, scaled('5m')),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }} dropped KPI events ({{ $labels.reason }})',
          description: '{{ $value | humanize }} KPI events dropped on {{ $labels.instance }} in the last 5 minutes (or since the counter appeared) with reason {{ $labels.reason }}; the events table and the KPI dashboards under-count.',
        },
      },
      {
        alert: 'KpiFlushStale',
        expr: `time() - lookout_kpi_last_flush_timestamp_seconds{${job}} > ${staleSeconds}\nand\nlookout_kpi_queue_depth{${job}} > 0`,
        for: scaled('5m'),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }} has not flushed KPI events for over 5 minutes',
          description: 'KPI events are waiting in the queue of {{ $labels.instance }} but the last batch reached the store {{ $value | humanizeDuration }} ago (over 5 minutes); check the store and lookout_kpi_flush_errors_total.',
        },
      },
      {
        alert: 'KpiStoreDown',
        expr: `lookout_kpi_store_up{${job}} == 0`,
        for: scaled('5m'),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }} cannot reach the KPI event store',
          description: 'lookout_kpi_store_up of {{ $labels.instance }} (job {{ $labels.job }}) has been 0 for 5 minutes; events are buffered and will be dropped once the buffer is full.',
        },
      },
      {
        alert: 'MetricSeriesOverflow',
        expr: counterIncreased(`lookout_series_overflow_total{${job}}`, scaled('15m')),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }}: metric {{ $labels.metric }} hit its series cap',
          description: '{{ $value | humanize }} calls of {{ $labels.metric }} on {{ $labels.instance }} went to its overflow series in the last 15 minutes (or since the counter appeared): a label carries unbounded values (raw URLs, ids).',
        },
      },
      {
        alert: 'EventLoopBlocked',
        expr: `nodejs_eventloop_lag_p99_seconds{${job}} > ${EVENT_LOOP_LAG_SECONDS}`,
        for: scaled('5m'),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }}: event loop blocked',
          description: `The 99th percentile of event-loop lag on {{ $labels.instance }} is {{ $value | humanizeDuration }}, above ${EVENT_LOOP_LAG_SECONDS * 1000} ms for 5 minutes: synchronous work (CPU-bound code, sync I/O, huge JSON) holds every request of this process.`,
        },
      },
      {
        alert: 'MemoryGrowing',
        // Only over a process's own life: a window reaching back past a restart fits a line through
        // two processes, and the first minutes after a start (module loading, JIT, pools and caches
        // filling) climb like a leak and then level off.
        expr: `predict_linear(process_resident_memory_bytes{${job}}[${scaled('30m')}], ${durationSeconds(scaled('1h'))})\n> 2 * process_resident_memory_bytes{${job}}\nand on (job, instance)\ntime() - process_start_time_seconds{${job}} > ${durationSeconds(scaled('30m'))}`,
        for: scaled('10m'),
        labels: { severity: 'ticket' },
        annotations: {
          summary: '{{ $labels.instance }}: resident memory on course to double within the hour',
          description: 'At the trend of the last 30 minutes the resident memory of {{ $labels.instance }} reaches {{ $value | humanize1024 }}B within the hour, more than twice what it holds now: a leak (buffers, caches, listeners kept) or a backlog growing; the process ends in an out-of-memory kill.',
        },
      },
      // A slow leak (MB an hour) never doubles within an hour, and a steady one stops doubling once
      // the memory is large: these two compare the trend with where the process dies instead.
      limitApproaching(job, scaled, {
        alert: 'HeapLimitApproaching',
        used: 'nodejs_heap_size_used_bytes',
        limit: 'nodejs_heap_size_limit_bytes',
        summary: '{{ $labels.instance }}: V8 heap on course to reach its limit within a day',
        description:
          'At the trend of the last 6 hours the V8 heap used by {{ $labels.instance }} reaches {{ $value | humanize1024 }}B within 24 hours, past its heap limit (nodejs_heap_size_limit_bytes): JavaScript objects are kept (a cache without bound, listeners, closures); the process ends with "JavaScript heap out of memory".',
      }),
      limitApproaching(job, scaled, {
        alert: 'MemoryLimitApproaching',
        used: 'process_resident_memory_bytes',
        limit: 'process_memory_limit_bytes',
        summary: '{{ $labels.instance }}: resident memory on course to reach the container limit within a day',
        description:
          'At the trend of the last 6 hours the resident memory of {{ $labels.instance }} reaches {{ $value | humanize1024 }}B within 24 hours, past the memory it can have (process_memory_limit_bytes: its container\'s limit, or the machine\'s memory): a leak (buffers, native memory, heap) or a backlog growing; the kernel ends the process with an out-of-memory kill.',
      }),
    ],
  });
}
