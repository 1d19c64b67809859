/**
 * `lookout/cluster`: one `/metrics` answer across node:cluster workers.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { Registry } from 'lookout';
 * import { clusterWorker, serveClusterMetrics } from 'lookout/cluster';
 *
 * if (cluster.isPrimary) {
 *   await serveClusterMetrics({ port: 9464 });
 *   for (let i = 0; i < 4; i++) cluster.fork();
 * } else {
 *   const registry = new Registry();
 *   clusterWorker(registry);
 *   // ... instrument the app with `registry` as usual
 * }
 * ```
 */
export { clusterPrimary, serveClusterMetrics, type ClusterPrimary, type ClusterServerOptions, type ClusterMetricsServer } from './primary.js';
export { clusterWorker, type ClusterWorker, type ClusterWorkerOptions } from './worker.js';
export { BUILT_IN_GAUGE_MODES, type ClusterPrimaryOptions } from './options.js';
export { mergeSources, type GaugeMode, type Source, type MergeOptions } from './merge.js';
export { encodeRegistries, type FamilyWire, type WireNumber } from './wire.js';
