import type { ResolvedProvisionOptions } from './options.js';
import { prometheusCommand } from './compose.js';
import { prometheusConfig } from './prometheus/config.js';
import { resolveRemoteWrite, type RemoteWriteOptions, type ResolvedRemoteWrite } from './remote-write.js';

/**
 * The stores `lookout provision` writes a remote-write example for.
 *
 * @example
 * ```ts
 * SCALING_STORES.map((store) => `prometheus/prometheus.${store}.yml`);
 * ```
 */
export const SCALING_STORES = ['mimir', 'thanos', 'victoriametrics'] as const;

/**
 * One of `SCALING_STORES`.
 *
 * @example
 * ```ts
 * const store: ScalingStore = 'thanos';
 * ```
 */
export type ScalingStore = (typeof SCALING_STORES)[number];

/**
 * The remote-write endpoint of each example: the compose overlay's service, the service name as
 * tenant where the store has tenants in a header (Mimir, Thanos), only lookout's metric families
 * for the stores that are often shared (Mimir, Thanos), everything for a single VictoriaMetrics.
 *
 * @example
 * ```ts
 * scalingRemoteWrite(resolveProvisionOptions({ service: 'shop' }), 'mimir').headers; // { 'X-Scope-OrgID': 'shop' }
 * ```
 */
export function scalingRemoteWrite(options: ResolvedProvisionOptions, store: ScalingStore): ResolvedRemoteWrite {
  const presets: Record<ScalingStore, RemoteWriteOptions> = {
    // A small API sends a few thousand samples a second: 10 shards of 2000 samples are plenty,
    // and capacity 5x a send keeps a short outage of the store in memory before the WAL takes over.
    mimir: { target: 'mimir', keep: 'lookout', queue: { capacity: 10_000, maxSamplesPerSend: 2000, maxShards: 10 } },
    thanos: { target: 'thanos', tenant: options.service, keep: 'lookout', queue: { capacity: 10_000, maxSamplesPerSend: 2000, maxShards: 10 } },
    victoriametrics: { target: 'victoriametrics', keep: 'all' },
  };
  return resolveRemoteWrite(presets[store], options.service)[0]!;
}

/**
 * The example `prometheus.<store>.yml`: the committed `prometheus.yml` plus a `remote_write` to the
 * store (in place of any `remoteWrite` of the options).
 *
 * @example
 * ```ts
 * scalingPrometheusConfig(options, 'victoriametrics').remote_write; // [{ name: 'victoriametrics', url: 'http://victoriametrics:8428/api/v1/write' }]
 * ```
 */
export function scalingPrometheusConfig(options: ResolvedProvisionOptions, store: ScalingStore) {
  return prometheusConfig({ ...options, remoteWrite: [scalingRemoteWrite(options, store)] });
}

/**
 * A compose overlay that starts the store beside the stack and points Prometheus at
 * `prometheus.<store>.yml`: `docker compose -f compose.yaml -f scaling/compose.<store>.yaml up -d`
 * from `deploy/` (paths are relative to the first file's folder). Grafana keeps reading the local
 * Prometheus; see docs/scaling.md for reading from the store.
 *
 * @example
 * ```ts
 * Object.keys(scalingComposeOverlay(options, 'thanos').services); // ['prometheus', 'thanos-receive', 'thanos-query']
 * ```
 */
export function scalingComposeOverlay(options: ResolvedProvisionOptions, store: ScalingStore) {
  const prometheus = (dependsOn: string) => ({
    command: prometheusCommand(`prometheus.${store}.yml`, options.histograms),
    depends_on: { [dependsOn]: { condition: 'service_started' } },
  });
  const { mimirImage, thanosImage, victoriametricsImage } = options.compose;
  switch (store) {
    case 'mimir':
      return {
        services: {
          prometheus: prometheus('mimir'),
          mimir: {
            image: mimirImage,
            restart: 'unless-stopped',
            command: ['-config.file=/etc/mimir/mimir.yaml'],
            volumes: ['./scaling/mimir.yaml:/etc/mimir/mimir.yaml:ro', 'mimir-data:/data'],
            // Mimir's Prometheus API is under /prometheus and needs the X-Scope-OrgID header.
            ports: ['127.0.0.1:9009:8080'],
          },
        },
        volumes: { 'mimir-data': {} },
      };
    case 'thanos':
      return {
        services: {
          prometheus: prometheus('thanos-receive'),
          'thanos-receive': {
            image: thanosImage,
            restart: 'unless-stopped',
            command: [
              'receive',
              '--tsdb.path=/data',
              '--tsdb.retention=15d',
              '--grpc-address=0.0.0.0:10901',
              '--http-address=0.0.0.0:10902',
              '--remote-write.address=0.0.0.0:19291',
              '--receive.tenant-header=THANOS-TENANT',
              // Every receiver needs a unique external label set.
              '--label=receive_replica="0"',
            ],
            volumes: ['thanos-receive-data:/data'],
          },
          'thanos-query': {
            image: thanosImage,
            restart: 'unless-stopped',
            command: ['query', '--http-address=0.0.0.0:10902', '--grpc-address=0.0.0.0:10901', '--endpoint=thanos-receive:10901', '--query.replica-label=receive_replica'],
            depends_on: { 'thanos-receive': { condition: 'service_started' } },
            // Prometheus-compatible query API for Grafana or lookout check.
            ports: ['127.0.0.1:10902:10902'],
          },
        },
        volumes: { 'thanos-receive-data': {} },
      };
    case 'victoriametrics':
      return {
        services: {
          prometheus: prometheus('victoriametrics'),
          victoriametrics: {
            image: victoriametricsImage,
            restart: 'unless-stopped',
            command: ['-storageDataPath=/storage', '-retentionPeriod=1y', '-httpListenAddr=:8428'],
            volumes: ['victoriametrics-data:/storage'],
            // Prometheus-compatible query API at http://127.0.0.1:8428 (no tenant on a single node).
            ports: ['127.0.0.1:8428:8428'],
          },
        },
        volumes: { 'victoriametrics-data': {} },
      };
  }
}

/**
 * A single-process Mimir for trying remote write on one machine (filesystem storage, one
 * replica). Multi-tenancy stays on, as in production: every push needs `X-Scope-OrgID`.
 *
 * @example
 * ```ts
 * mimirConfig().multitenancy_enabled; // true
 * ```
 */
export function mimirConfig() {
  const memberlist = { kvstore: { store: 'memberlist' } };
  return {
    target: 'all',
    multitenancy_enabled: true,
    server: { http_listen_port: 8080, log_level: 'warn' },
    blocks_storage: {
      backend: 'filesystem',
      filesystem: { dir: '/data/blocks' },
      bucket_store: { sync_dir: '/data/tsdb-sync' },
      tsdb: { dir: '/data/tsdb' },
    },
    compactor: { data_dir: '/data/compactor', sharding_ring: memberlist },
    distributor: { ring: { instance_addr: '127.0.0.1', ...memberlist } },
    ingester: { ring: { instance_addr: '127.0.0.1', ...memberlist, replication_factor: 1 } },
    ruler_storage: { backend: 'filesystem', filesystem: { dir: '/data/rules' } },
    store_gateway: { sharding_ring: { replication_factor: 1 } },
  };
}
