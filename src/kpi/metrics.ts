import type { Counter, CounterSeries } from '../core/counter.js';
import type { Gauge } from '../core/gauge.js';
import type { Histogram } from '../core/histogram.js';
import type { Registry } from '../core/registry.js';

/**
 * Why an event did not become a row:
 * - `buffer_full`: the buffer held `bufferSize` events (the store was slow or down);
 * - `invalid`: `args` or another field could not be stored (also rows PostgreSQL rejected);
 * - `too_large`: `args` over `maxArgsBytes` or `user`/`model` over `maxFieldLength`;
 * - `unknown_event`: the event name was not declared;
 * - `closed`: `record` after `close()`;
 * - `close_timeout`: still unwritten when `close()` reached its deadline.
 *
 * @example
 * ```ts
 * const reason: DropReason = 'buffer_full';
 * ```
 */
export type DropReason = 'buffer_full' | 'invalid' | 'too_large' | 'unknown_event' | 'closed' | 'close_timeout';

/** Every drop reason, in the order they are exposed. @example DROP_REASONS.includes('invalid') */
export const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'invalid', 'too_large', 'unknown_event', 'closed', 'close_timeout'];

/** Buckets of `lookout_kpi_flush_duration_seconds`: 1 ms to 30 s. */
const FLUSH_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The KPI metrics, registered once per `createKpi` on the registry passed in.
 *
 * @example
 * ```ts
 * const metrics = registerKpiMetrics(registry, ['good_inference'], () => 0);
 * metrics.events.get('good_inference')?.inc();
 * ```
 */
export interface KpiMetrics {
  /** `kpi_events_total{event}` series, bound once per declared event. */
  readonly events: ReadonlyMap<string, CounterSeries>;
  /** `lookout_kpi_dropped_total{reason}` series. */
  readonly dropped: Readonly<Record<DropReason, CounterSeries>>;
  readonly written: Counter;
  readonly flushDuration: Histogram;
  readonly lastFlush: Gauge;
  readonly storeUp: Gauge;
  readonly flushErrors: Counter;
}

/**
 * Registers `kpi_events_total`, `lookout_kpi_dropped_total`, `lookout_kpi_queue_depth`,
 * `lookout_kpi_written_total`, `lookout_kpi_flush_duration_seconds`,
 * `lookout_kpi_last_flush_timestamp_seconds`, `lookout_kpi_store_up` and
 * `lookout_kpi_flush_errors_total`. Throws `LOOKOUT_E_DUPLICATE_METRIC` when a
 * second KPI instance uses the same registry.
 *
 * @example
 * ```ts
 * registerKpiMetrics(registry, ['good_inference', 'bad_inference'], () => dispatcher.depth);
 * ```
 */
export function registerKpiMetrics(registry: Registry, eventNames: readonly string[], queueDepth: () => number): KpiMetrics {
  const eventsTotal = registry.counter({
    name: 'kpi_events_total',
    help: 'KPI events recorded, by event name (counted at once, whether or not the row is stored).',
    labelNames: ['event'],
    maxSeries: eventNames.length,
  });
  const events = new Map<string, CounterSeries>();
  for (const name of eventNames) events.set(name, eventsTotal.labels({ event: name }));

  const droppedTotal = registry.counter({
    name: 'lookout_kpi_dropped_total',
    help: 'KPI events that were not stored, by reason.',
    labelNames: ['reason'],
    maxSeries: DROP_REASONS.length,
  });
  const dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, droppedTotal.labels({ reason })])) as Record<DropReason, CounterSeries>;

  // Read at scrape time: `record` stays free of gauge writes.
  const depth: Gauge = registry.gauge({
    name: 'lookout_kpi_queue_depth',
    help: 'KPI events waiting to be written, the batch being written included.',
    collect: () => depth.set(queueDepth()),
  });

  return {
    events,
    dropped,
    written: registry.counter({ name: 'lookout_kpi_written_total', help: 'KPI events written to the store.' }),
    flushDuration: registry.histogram({
      name: 'lookout_kpi_flush_duration_seconds',
      help: 'Time to write one batch of KPI events, retries excluded.',
      unit: 'seconds',
      buckets: FLUSH_BUCKETS,
    }),
    lastFlush: registry.gauge({
      name: 'lookout_kpi_last_flush_timestamp_seconds',
      help: 'Unix time of the last successful KPI flush.',
      unit: 'seconds',
    }),
    storeUp: registry.gauge({ name: 'lookout_kpi_store_up', help: '1 when the last KPI store operation succeeded, 0 after a failure.' }),
    flushErrors: registry.counter({ name: 'lookout_kpi_flush_errors_total', help: 'Failed KPI flush attempts (each is retried).' }),
  };
}
