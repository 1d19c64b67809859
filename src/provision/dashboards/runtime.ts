import { RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { KPI_FLUSH_STALE_SECONDS } from '../prometheus/names.js';
import { BY_JOB, baseDashboard, promTarget, stat, table, thresholds, timeseries, type DashboardContext } from './common.js';

const perSecond = (metric: string, by: string) => `sum by (${by}) (rate(${metric}{${BY_JOB}}[$__rate_interval]))`;

function cpu(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'CPU',
    description: 'CPU time used per second of wall time, user and system (1 = one full core). A Node.js process is bound to one core for JavaScript; orange above 80%.',
    unit: 'percentunit',
    min: 0,
    thresholds: thresholds('green', [0.8, 'orange'], [1, 'red']),
    targets: [
      promTarget(context, 'A', perSecond('process_cpu_user_seconds_total', 'instance'), '{{instance}} user'),
      promTarget(context, 'B', perSecond('process_cpu_system_seconds_total', 'instance'), '{{instance}} system'),
    ],
  });
}

function memory(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Memory',
    description: 'Resident set size, V8 heap used and total, and memory held outside the heap (buffers). Orange above 1.5 GiB resident.',
    unit: 'bytes',
    min: 0,
    thresholds: thresholds('green', [1.5 * 1024 ** 3, 'orange']),
    targets: [
      promTarget(context, 'A', `process_resident_memory_bytes{${BY_JOB}}`, '{{instance}} rss'),
      promTarget(context, 'B', `nodejs_heap_size_used_bytes{${BY_JOB}}`, '{{instance}} heap used'),
      promTarget(context, 'C', `nodejs_heap_size_total_bytes{${BY_JOB}}`, '{{instance}} heap total'),
      promTarget(context, 'D', `nodejs_external_memory_bytes{${BY_JOB}}`, '{{instance}} external'),
    ],
  });
}

function memoryOfLimit(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Memory used of its limit',
    description:
      'V8 heap used as a share of the heap limit (nodejs_heap_size_limit_bytes: past it the process ends with "JavaScript heap out of memory"), and resident memory as a share of the memory the process can have (process_memory_limit_bytes: its container\'s limit, or the machine\'s memory without one; past it the kernel kills the process). A line climbing steadily is a leak, however slow; orange above 80%, red above 90%.',
    unit: 'percentunit',
    min: 0,
    thresholds: thresholds('green', [0.8, 'orange'], [0.9, 'red']),
    targets: [
      promTarget(context, 'A', `nodejs_heap_size_used_bytes{${BY_JOB}}\n/ on (job, instance)\nnodejs_heap_size_limit_bytes{${BY_JOB}}`, '{{instance}} heap of heap limit'),
      promTarget(context, 'B', `process_resident_memory_bytes{${BY_JOB}}\n/ on (job, instance)\nprocess_memory_limit_bytes{${BY_JOB}}`, '{{instance}} rss of memory limit'),
    ],
  });
}

function eventLoopLag(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Event-loop lag',
    description: 'How late timers fire: mean and p99 event-loop delay. Every request waits at least this long; orange above 100 ms, red above 500 ms.',
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [0.1, 'orange'], [0.5, 'red']),
    targets: [
      promTarget(context, 'A', `nodejs_eventloop_lag_seconds{${BY_JOB}}`, '{{instance}} mean'),
      promTarget(context, 'B', `nodejs_eventloop_lag_p99_seconds{${BY_JOB}}`, '{{instance}} p99'),
    ],
  });
}

function eventLoopUtilization(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Event-loop utilization',
    description: 'Share of time the event loop was busy (not idle in the poll phase). Near 100% the process is saturated; orange above 70%, red above 90%.',
    unit: 'percentunit',
    min: 0,
    max: 1,
    thresholds: thresholds('green', [0.7, 'orange'], [0.9, 'red']),
    targets: [promTarget(context, 'A', `nodejs_eventloop_utilization_ratio{${BY_JOB}}`, '{{instance}}')],
  });
}

function garbageCollection(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Garbage collection time',
    description: 'Share of wall time spent in garbage collection, by GC kind (nodejs_gc_duration_seconds). Orange above 5%.',
    unit: 'percentunit',
    min: 0,
    thresholds: thresholds('green', [0.05, 'orange'], [0.2, 'red']),
    targets: [promTarget(context, 'A', perSecond('nodejs_gc_duration_seconds_sum', 'instance, kind'), '{{instance}} {{kind}}')],
  });
}

function handles(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Active handles and open file descriptors',
    description: 'libuv handles keeping the process alive (sockets, timers) and open file descriptors. A steady climb is a leak.',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [10_000, 'orange']),
    targets: [
      promTarget(context, 'A', `nodejs_active_handles{${BY_JOB}}`, '{{instance}} handles'),
      promTarget(context, 'B', `process_open_fds{${BY_JOB}}`, '{{instance}} fds'),
    ],
  });
}

function uptime(context: DashboardContext, id: number) {
  return stat(context, {
    id,
    title: 'Uptime',
    description: 'Time since each process started (process_start_time_seconds). Orange when under 10 minutes: a recent restart.',
    unit: 's',
    thresholds: thresholds('orange', [600, 'green']),
    targets: [promTarget(context, 'A', `time() - process_start_time_seconds{${BY_JOB}}`, '{{instance}}')],
  });
}

function versions(context: DashboardContext, id: number) {
  return table(context, {
    id,
    title: 'Node.js versions',
    description: 'The Node.js version of every instance (nodejs_version_info); a mixed fleet shows several rows per job.',
    unit: 'none',
    width: 18,
    height: 5,
    thresholds: thresholds('green'),
    targets: [promTarget(context, 'A', `nodejs_version_info{${BY_JOB}}`, '{{version}}', true).format(PromQueryFormat.Table)],
  });
}

function httpConnections(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Open HTTP connections',
    description: 'TCP connections open on the HTTP server (keep-alive included), per instance.',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [1000, 'orange']),
    targets: [promTarget(context, 'A', `sum by (instance) (http_server_connections_open{${BY_JOB}})`, '{{instance}}')],
  });
}

function databasePool(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Database pool',
    description: 'PostgreSQL pool connections by state: total, idle, and clients waiting for one. Any waiting client means the pool is too small or queries too slow.',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [1, 'orange']),
    targets: [promTarget(context, 'A', `sum by (state) (db_pool_connections{${BY_JOB}})`, '{{state}}')],
  });
}

function kpiQueue(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'KPI queue depth',
    description: 'KPI events buffered in memory, waiting for the next batch write to PostgreSQL.',
    unit: 'short',
    min: 0,
    thresholds: thresholds('green', [1000, 'orange']),
    targets: [promTarget(context, 'A', `lookout_kpi_queue_depth{${BY_JOB}}`, '{{instance}}')],
  });
}

function kpiThroughput(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'KPI events written, dropped and failed flushes',
    description: 'Events written to PostgreSQL per second, events dropped per second by reason, and failed batch writes per second. Dropped or failed above zero is red.',
    unit: 'cps',
    min: 0,
    thresholds: thresholds('green', [0.001, 'red']),
    targets: [
      promTarget(context, 'A', perSecond('lookout_kpi_written_total', 'job'), 'written'),
      promTarget(context, 'B', perSecond('lookout_kpi_dropped_total', 'reason'), 'dropped {{reason}}'),
      promTarget(context, 'C', perSecond('lookout_kpi_flush_errors_total', 'job'), 'flush errors'),
    ],
  });
}

function kpiFlushDuration(context: DashboardContext, id: number) {
  const quantile = (q: number) => `histogram_quantile(${q}, ${perSecond('lookout_kpi_flush_duration_seconds_bucket', 'le')})`;
  return timeseries(context, {
    id,
    title: 'KPI flush duration p50 / p95',
    description: 'Time to write one batch of KPI events to PostgreSQL. Orange above 1 s.',
    unit: 's',
    min: 0,
    thresholds: thresholds('green', [1, 'orange']),
    targets: [promTarget(context, 'A', quantile(0.5), 'p50'), promTarget(context, 'B', quantile(0.95), 'p95')],
  });
}

function kpiLastFlush(context: DashboardContext, id: number) {
  return stat(context, {
    id,
    title: 'Since last KPI flush',
    description: `Time since the last successful batch write per instance. The KpiFlushStale alert fires past ${KPI_FLUSH_STALE_SECONDS} s while events wait.`,
    unit: 's',
    thresholds: thresholds('green', [60, 'orange'], [KPI_FLUSH_STALE_SECONDS, 'red']),
    targets: [promTarget(context, 'A', `time() - lookout_kpi_last_flush_timestamp_seconds{${BY_JOB}}`, '{{instance}}')],
  });
}

function kpiStoreUp(context: DashboardContext, id: number) {
  return stat(context, {
    id,
    title: 'KPI store reachable',
    description: 'lookout_kpi_store_up: 1 when the last write to the event store succeeded, 0 when it is failing.',
    unit: 'bool_yes_no',
    thresholds: thresholds('red', [1, 'green']),
    targets: [promTarget(context, 'A', `lookout_kpi_store_up{${BY_JOB}}`, '{{instance}}')],
  });
}

function seriesOverflow(context: DashboardContext, id: number) {
  return timeseries(context, {
    id,
    title: 'Series folded into overflow',
    description: 'New label sets per second that hit a metric\'s series cap and were folded into its overflow series (lookout_series_overflow_total). Above zero, a label carries unbounded values.',
    unit: 'cps',
    min: 0,
    thresholds: thresholds('green', [0.001, 'red']),
    targets: [promTarget(context, 'A', perSecond('lookout_series_overflow_total', 'metric'), '{{metric}}')],
  });
}

/**
 * The Runtime and connections dashboard: process and event loop, connections and DB pool, and
 * lookout's own KPI pipeline and series-cap self-metrics.
 *
 * @example
 * ```ts
 * const json = runtimeDashboard(dashboardContext(resolveProvisionOptions()));
 * ```
 */
export function runtimeDashboard(context: DashboardContext): Dashboard {
  return baseDashboard(context, {
    uid: 'runtime',
    title: 'Runtime and connections',
    description: 'Node.js process, event loop, connections, database pool and the KPI pipeline.',
    variableMetric: 'process_start_time_seconds',
    route: false,
  })
    .withRow(new RowBuilder('Process').id(100))
    .withPanel(uptime(context, 1))
    .withPanel(versions(context, 2))
    .withPanel(cpu(context, 3))
    .withPanel(memory(context, 4))
    .withPanel(memoryOfLimit(context, 17))
    .withPanel(eventLoopLag(context, 5))
    .withPanel(eventLoopUtilization(context, 6))
    .withPanel(garbageCollection(context, 7))
    .withPanel(handles(context, 8))
    .withRow(new RowBuilder('Connections').id(101))
    .withPanel(httpConnections(context, 9))
    .withPanel(databasePool(context, 10))
    .withRow(new RowBuilder('KPI pipeline and self-metrics').id(102))
    .withPanel(kpiStoreUp(context, 11))
    .withPanel(kpiLastFlush(context, 12))
    .withPanel(kpiQueue(context, 13))
    .withPanel(kpiThroughput(context, 14))
    .withPanel(kpiFlushDuration(context, 15))
    .withPanel(seriesOverflow(context, 16))
    .build();
}
