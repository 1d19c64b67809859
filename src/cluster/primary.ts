import cluster, { type Worker } from 'node:cluster';
import { LookoutError } from '../core/errors.js';
import type { ExpositionFormat } from '../core/metric.js';
import type { Registry } from '../core/registry.js';
import { serveMetrics, type MetricsServer, type MetricsServerOptions } from '../http/serve.js';
import { Gatherer } from './gather.js';
import { mergeSources } from './merge.js';
import { resolvePrimaryOptions, type ClusterPrimaryOptions, type ResolvedPrimaryOptions } from './options.js';
import { isClusterMessage, type ScrapeRequest, type TextChunk } from './protocol.js';
import { ClusterRegistry } from './view.js';
import { encodeAll, type FamilyWire } from './wire.js';

/**
 * Cluster mode in the primary.
 *
 * @example
 * ```ts
 * const primary = clusterPrimary({ gauges: 'max' });
 * await serveMetrics({ registry: primary.registry, port: 9464 });
 * ```
 */
export interface ClusterPrimary {
  /** Answers for the whole cluster; pass it to `serveMetrics` or `createMetricsHandler`. Holds the cluster self-metrics. */
  readonly registry: Registry;
  /** Stops answering workers and gathering. */
  close(): void;
}

let active: ClusterPrimary | undefined;

// The view's own bookkeeping families: always zero there, and they would clash with the workers' copies.
const VIEW_INTERNALS: ReadonlySet<string> = new Set(['lookout_series_overflow_total', 'lookout_collect_errors_total']);

/**
 * Starts cluster mode in the primary: every scrape of `registry` (or of a
 * worker's `clusterWorker(...).registry`) asks all connected workers for a
 * snapshot and answers with the merge. Workers that miss `timeoutMs` are
 * counted in `lookout_cluster_workers_missing` (their last counters are kept
 * in the totals), the scrape itself succeeds. One per process
 * (`LOOKOUT_E_CLUSTER_ALREADY_STARTED`); only in the primary
 * (`LOOKOUT_E_CLUSTER_NOT_PRIMARY`).
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isPrimary) {
 *   const primary = clusterPrimary({ timeoutMs: 2000 });
 *   for (let i = 0; i < 4; i++) cluster.fork();
 * }
 * ```
 */
export function clusterPrimary(options: ClusterPrimaryOptions = {}): ClusterPrimary {
  if (!cluster.isPrimary) throw new LookoutError('LOOKOUT_E_CLUSTER_NOT_PRIMARY', 'clusterPrimary() runs in the cluster primary; workers call clusterWorker(registry)');
  if (active !== undefined) throw new LookoutError('LOOKOUT_E_CLUSTER_ALREADY_STARTED', 'cluster mode is already started in this process: close() the first one');
  const resolved = resolvePrimaryOptions(options);
  let merging: Promise<Registry> | undefined;
  // Concurrent scrapes share one gather and merge; each renders its own format.
  const merge = (): Promise<Registry> =>
    (merging ??= gatherAndMerge().finally(() => {
      merging = undefined;
    }));
  const view: ClusterRegistry = new ClusterRegistry(
    { defaultLabels: resolved.defaultLabels },
    async function* (format: ExpositionFormat) {
      yield* (await merge()).render(format);
    },
    async function* () {
      yield* (await merge()).renderProtobuf();
    },
  );
  const self = selfMetrics(view);
  const gatherer = new Gatherer(resolved, (name) => self.conflicts.labels({ metric: name }).inc());

  async function gatherAndMerge(): Promise<Registry> {
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
    const result = await gatherer.gather(workers);
    self.workers.set(result.asked);
    self.missing.set(result.missing);
    if (result.timedOut) self.timeouts.inc();
    const local = await localFamilies(resolved, view);
    return mergeSources([...result.sources, { worker: 'primary', stale: false, families: local }], {
      gaugeMode: resolved.gaugeMode,
      workerLabel: resolved.workerLabel,
      onConflict: (name) => self.conflicts.labels({ metric: name }).inc(),
    });
  }

  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isClusterMessage(message)) return;
    if (message.lookout === 'cluster:snapshot') gatherer.onSnapshot(worker.id, message);
    else if (message.lookout === 'cluster:scrape') void answerWorker(view, worker, message);
  };
  const onExit = (worker: Worker): void => gatherer.onExit(worker.id);
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  const primary: ClusterPrimary = {
    registry: view,
    close: () => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      if (active === primary) active = undefined;
    },
  };
  active = primary;
  return primary;
}

/** The primary's own families: its optional registry, then the cluster self-metrics. */
async function localFamilies(options: ResolvedPrimaryOptions, view: ClusterRegistry): Promise<FamilyWire[]> {
  const families: FamilyWire[] = [];
  if (options.registry !== undefined) {
    await options.registry.collect();
    families.push(...(await encodeAll([options.registry])));
  }
  await view.collect();
  families.push(...(await encodeAll([view], { exclude: VIEW_INTERNALS })));
  return families;
}

/** The cluster self-metrics, held by the primary's view. */
function selfMetrics(view: Registry) {
  return {
    workers: view.gauge({ name: 'lookout_cluster_workers', help: 'Workers asked for their metrics by the last cluster scrape.' }),
    missing: view.gauge({ name: 'lookout_cluster_workers_missing', help: 'Workers whose metrics were missing from the last cluster scrape (timed out or exited); their last counters are kept.' }),
    timeouts: view.counter({ name: 'lookout_cluster_scrape_timeouts_total', help: 'Cluster scrapes that reached the timeout before every worker answered.' }),
    conflicts: view.counter({ name: 'lookout_cluster_conflicts_total', help: 'Metric families left out of a cluster answer because processes declared them differently.', labelNames: ['metric'], maxSeries: 1000 }),
  };
}

/** Renders the cluster's answer for a worker that was scraped, in chunks over IPC. */
async function answerWorker(view: ClusterRegistry, worker: Worker, request: ScrapeRequest): Promise<void> {
  const format: ExpositionFormat = request.format === 'openmetrics' ? 'openmetrics' : 'text';
  const send = (chunk: TextChunk): Promise<void> => new Promise((resolve, reject) => {
    worker.send(chunk, (error) => (error === null ? resolve() : reject(error)));
  });
  try {
    for await (const text of view.render(format)) await send({ lookout: 'cluster:text', id: request.id, text, done: false });
    await send({ lookout: 'cluster:text', id: request.id, text: '', done: true });
  } catch (error) {
    // The worker is gone, or rendering failed: tell it if it can still hear.
    if (worker.isConnected()) worker.send({ lookout: 'cluster:text', id: request.id, text: '', done: true, error: error instanceof Error ? error.message : String(error) } satisfies TextChunk, () => undefined);
  }
}

/**
 * Options of {@link serveClusterMetrics}: the cluster options plus those of a
 * metrics server (port 9464 and host 127.0.0.1 by default, bearer `token`).
 *
 * @example
 * ```ts
 * const options: ClusterServerOptions = { port: 9464, token: process.env.METRICS_TOKEN, gauges: 'worker' };
 * ```
 */
export interface ClusterServerOptions extends ClusterPrimaryOptions, Omit<MetricsServerOptions, 'registry'> {}

/**
 * A running cluster metrics server.
 *
 * @example
 * ```ts
 * const server: ClusterMetricsServer = await serveClusterMetrics({ port: 0 });
 * console.log(server.url);
 * ```
 */
export interface ClusterMetricsServer extends MetricsServer {
  readonly cluster: ClusterPrimary;
}

/**
 * Serves one `/metrics` for the whole cluster from the primary, on its own port.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isPrimary) {
 *   const metrics = await serveClusterMetrics({ port: 9464, token: process.env.METRICS_TOKEN });
 *   for (let i = 0; i < 8; i++) cluster.fork();
 *   process.on('SIGTERM', () => void metrics.close());
 * }
 * ```
 */
export async function serveClusterMetrics(options: ClusterServerOptions = {}): Promise<ClusterMetricsServer> {
  const primary = clusterPrimary(options);
  try {
    const server = await serveMetrics({ ...options, registry: primary.registry });
    return {
      server: server.server,
      url: server.url,
      cluster: primary,
      close: async () => {
        primary.close();
        await server.close();
      },
    };
  } catch (error) {
    primary.close();
    throw error;
  }
}
