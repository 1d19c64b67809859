import { availableParallelism } from 'node:os';
import { LookoutError } from '../core/errors.js';
import { assertLabelNames } from '../core/names.js';
import type { Registry, RegistryOptions } from '../core/registry.js';
import type { GaugeMode } from './merge.js';

/**
 * Options of the primary's side of cluster mode.
 *
 * @example
 * ```ts
 * const options: ClusterPrimaryOptions = { timeoutMs: 2000, gauges: 'max', gaugeModes: { queue_depth: 'sum' } };
 * ```
 */
export interface ClusterPrimaryOptions {
  /** How long a scrape waits for the workers; the ones still missing are counted, not awaited (default 3000 ms). */
  readonly timeoutMs?: number;
  /** How gauges merge unless `gaugeModes` names them (default `sum`). */
  readonly gauges?: GaugeMode;
  /** Gauge mode per family name; wins over `gauges` and the built-in modes of lookout's own gauges. */
  readonly gaugeModes?: Readonly<Record<string, GaugeMode>>;
  /** Label that tells workers apart in `worker` gauge mode (default `worker`; the primary's own series say `primary`). */
  readonly workerLabel?: string;
  /** The primary's own metrics, merged into the answer like a worker's. */
  readonly registry?: Registry;
  /** Default labels of the cluster self-metrics (use the same as the workers' registries). */
  readonly defaultLabels?: RegistryOptions['defaultLabels'];
  /**
   * Keep the last counters, histograms and summary sums/counts of exited
   * workers in the totals, so a worker restart is not a counter reset of the
   * whole cluster (default true).
   */
  readonly retainExited?: boolean;
  /**
   * How many workers encode their snapshot at the same time (default: the
   * CPU count minus one, at least 1). Fewer means less CPU contention during
   * a scrape; a worker slower than 100 ms stops holding its slot.
   */
  readonly concurrency?: number;
}

/**
 * Options resolved once.
 *
 * @example
 * ```ts
 * const resolved = resolvePrimaryOptions({ gauges: 'max' });
 * resolved.gaugeMode('queue_depth'); // 'max'
 * ```
 */
export interface ResolvedPrimaryOptions {
  readonly timeoutMs: number;
  readonly gaugeMode: (family: string) => GaugeMode;
  readonly workerLabel: string;
  readonly registry: Registry | undefined;
  readonly defaultLabels: NonNullable<RegistryOptions['defaultLabels']>;
  readonly retainExited: boolean;
  readonly concurrency: number;
}

const GAUGE_MODES: readonly GaugeMode[] = ['sum', 'max', 'min', 'worker'];

/**
 * lookout's own gauges whose sum would mean nothing (and the primary-only
 * cluster gauges). Anything else follows the `gauges` option.
 *
 * @example
 * ```ts
 * BUILT_IN_GAUGE_MODES['process_start_time_seconds']; // 'min'
 * ```
 */
export const BUILT_IN_GAUGE_MODES: Readonly<Record<string, GaugeMode>> = {
  process_start_time_seconds: 'min',
  nodejs_eventloop_lag_seconds: 'max',
  nodejs_eventloop_lag_p99_seconds: 'max',
  nodejs_eventloop_lag_max_seconds: 'max',
  nodejs_eventloop_utilization_ratio: 'max',
  lookout_kpi_last_flush_timestamp_seconds: 'min',
  lookout_kpi_store_up: 'min',
  // Only the primary writes these: a worker label would say nothing.
  lookout_cluster_workers: 'sum',
  lookout_cluster_workers_missing: 'sum',
};

/**
 * Validates and resolves the primary's options (`LOOKOUT_E_CLUSTER_OPTION` on bad input).
 *
 * @example
 * ```ts
 * resolvePrimaryOptions({ timeoutMs: 1000 });
 * ```
 */
export function resolvePrimaryOptions(options: ClusterPrimaryOptions): ResolvedPrimaryOptions {
  const timeoutMs = options.timeoutMs ?? 3000;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw optionError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  const fallback = options.gauges ?? 'sum';
  assertMode('gauges', fallback);
  const modes: Record<string, GaugeMode> = { ...BUILT_IN_GAUGE_MODES };
  for (const [name, mode] of Object.entries(options.gaugeModes ?? {})) {
    assertMode(`gaugeModes.${name}`, mode);
    modes[name] = mode;
  }
  const concurrency = options.concurrency ?? Math.max(1, availableParallelism() - 1);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw optionError(`concurrency must be a positive integer, got ${concurrency}`);
  const workerLabel = options.workerLabel ?? 'worker';
  try {
    assertLabelNames('cluster workerLabel', [workerLabel]);
  } catch (error) {
    throw optionError(`workerLabel: ${(error as Error).message}`);
  }
  return {
    timeoutMs,
    gaugeMode: (family) => modes[family] ?? fallback,
    workerLabel,
    registry: options.registry,
    defaultLabels: options.defaultLabels ?? {},
    retainExited: options.retainExited ?? true,
    concurrency,
  };
}

function assertMode(option: string, mode: unknown): void {
  if (!GAUGE_MODES.includes(mode as GaugeMode)) throw optionError(`${option} must be one of ${GAUGE_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
}

function optionError(message: string): LookoutError {
  return new LookoutError('LOOKOUT_E_CLUSTER_OPTION', message);
}
