import type { Server } from 'node:net';
import type { Gauge } from '../core/gauge.js';
import type { Registry } from '../core/registry.js';

/** The part of a `pg` Pool read by `trackPool`. @example const stats: PoolStatsLike = pool; */
export interface PoolStatsLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

const connectionGauges = new WeakMap<Registry, Gauge>();
const trackedPools = new WeakMap<Registry, Set<PoolStatsLike>>();

/**
 * Keeps `http_server_connections_open` (a gauge) equal to the TCP connections
 * open on `server`, from its `connection` event and each socket's `close`.
 * Works for any Node server (node:http, https, Fastify's `app.server`, what
 * Express's `app.listen` and Hono's `serve` return). Call it before
 * `listen`; several servers on one registry add up. Returns a function that
 * stops tracking new connections.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * trackConnections(app.server, registry);
 * await app.listen({ port: 3000 });
 * ```
 */
export function trackConnections(server: Server, registry: Registry): () => void {
  let gauge = connectionGauges.get(registry);
  if (gauge === undefined) {
    gauge = registry.gauge({ name: 'http_server_connections_open', help: 'TCP connections open on the HTTP server.' });
    connectionGauges.set(registry, gauge);
  }
  const open = gauge;
  const onClose = (): void => open.dec();
  const onConnection = (socket: { once(event: 'close', listener: () => void): unknown }): void => {
    open.inc();
    socket.once('close', onClose);
  };
  server.on('connection', onConnection);
  return () => {
    server.removeListener('connection', onConnection);
  };
}

/**
 * Exposes `db_pool_connections{state}` for a `pg` Pool: `total`, `idle` and
 * `waiting` (clients waiting for a connection), read at scrape time. Several
 * pools on one registry add up. The PostgreSQL KPI store tracks its own pool.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool();
 * trackPool(pool, registry);
 * ```
 */
export function trackPool(pool: PoolStatsLike, registry: Registry): () => void {
  let pools = trackedPools.get(registry);
  if (pools === undefined) {
    const tracked = new Set<PoolStatsLike>();
    pools = tracked;
    trackedPools.set(registry, tracked);
    const gauge: Gauge<'state'> = registry.gauge({
      name: 'db_pool_connections',
      help: 'Connections of the PostgreSQL pools, by state (total, idle, waiting).',
      labelNames: ['state'],
      maxSeries: 3,
      collect: () => {
        let total = 0;
        let idle = 0;
        let waiting = 0;
        for (const item of tracked) {
          total += item.totalCount;
          idle += item.idleCount;
          waiting += item.waitingCount;
        }
        totalSeries.set(total);
        idleSeries.set(idle);
        waitingSeries.set(waiting);
      },
    });
    const totalSeries = gauge.labels({ state: 'total' });
    const idleSeries = gauge.labels({ state: 'idle' });
    const waitingSeries = gauge.labels({ state: 'waiting' });
  }
  const set = pools;
  set.add(pool);
  return () => {
    set.delete(pool);
  };
}
