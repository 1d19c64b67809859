/**
 * `lookout/kpi`: business KPI events counted in Prometheus at once and
 * written to PostgreSQL (or embedded PGlite) in batches, off the request path.
 *
 * @example
 * ```ts
 * import { Registry } from 'lookout';
 * import { createKpi, pgStore, trackConnections } from 'lookout/kpi';
 *
 * const registry = new Registry();
 * const kpi = createKpi({ registry, store: pgStore(), events: ['good_inference', 'bad_inference'], handleSignals: true });
 * kpi.record('good_inference', { user: 'u-42', model: 'resnet-50', args: { label: 'cat' } });
 * ```
 */
export { createKpi, Kpi, type KpiOptions, type KpiStats } from './kpi.js';
export type { KpiFields } from './fields.js';
export type { DropPolicy } from './dispatcher.js';
export type { SignalOptions } from './signals.js';
export { DROP_REASONS, type DropReason } from './metrics.js';
export { KPI_ERRORS, type KpiErrorCode } from './errors.js';
export type { KpiBatch } from './batch.js';
export { EncodedBatch } from './row-buffer.js';
export { isConnectionError, type KpiStore } from './store.js';
export { defaultStore } from './default-store.js';
export { embeddedStore, EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store.js';
export { hostStore, type HostStoreOptions, type HostedStore, type StoreAddress } from './store-host.js';
export { joinStore, type JoinStoreOptions } from './store-process.js';
export { pgStore, PgStore, migrateDatabase, type PgStoreOptions, type PgPoolLike } from './pg-store.js';
export { pgliteStore, PgliteStore, type PgliteStoreOptions, type PgliteLike, type PgliteTransactionLike } from './pglite-store.js';
export { resolvePgConfig, type PgConnectionOptions, type PgConfigSource, type ResolvedPgConfig, type PgPoolConfig } from './pg-config.js';
export {
  migrate, readerRoleSql, createReaderRole, eventIndexSql, MIGRATIONS,
  type Migration, type SqlExecutor, type EventsLocation, type ReaderRoleOptions,
} from './schema.js';
export { trackConnections, trackPool, type PoolStatsLike } from './connections.js';
export type { KpiFastifyPlugin, KpiExpressMiddleware, KpiHonoMiddleware, FastifyInstanceLike, HonoContextLike } from './frameworks.js';
export { createIdGenerator } from './ids.js';
export {
  partitionEvents, partitionedEventsSql, partitionedEventsStatements, partitionFunctions, listEventPartitions, maintainEventPartitions, timescaleEventsSql,
  type PartitionInterval, type PartitionOptions, type EventPartition, type MaintainOptions, type TimescaleOptions,
} from './partitioning.js';
