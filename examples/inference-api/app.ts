/**
 * `startInferenceApi()`: the reference inference API as a Fastify service, instrumented with
 * lookout: RED metrics (the Fastify plugin), the example's inference metrics, a KPI event for
 * every call (embedded PGlite in `.lookout/pglite`, or PostgreSQL when `DATABASE_URL` /
 * `databaseUrl` is set), open connections and the KPI store's pool, runtime metrics.
 *
 * @example
 * ```ts
 * const api = await startInferenceApi({ port: 0 });
 * const { id } = await (await fetch(`${api.url}/inference/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"points":[[0.1,0.2]]}' })).json();
 * await api.close();
 * ```
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import lookout, { type LookoutFastifyOptions } from '../../src/adapters/fastify.js';
import { registerRuntimeMetrics, Registry } from '../../src/index.js';
import { createKpi, embeddedStore, pgliteStore, pgStore, trackConnections, type Kpi, type KpiStore } from '../../src/kpi/index.js';
import { LookoutError } from '../../src/core/errors.js';
import { FaultInjector, isLoopback } from './faults.js';
import { inferenceMetrics } from './metrics.js';
import { inferenceMonitor, type InferenceMonitoring, type InferenceMonitorOptions } from './monitoring.js';
import { registerContentRoutes, UNRECORDED_PATHS } from './pages.js';
import { JobQueue } from './queue.js';
import { INFERENCE_EVENTS, registerInferenceRoutes, type InferenceEvent } from './routes.js';
import { ModelService } from './service.js';

/**
 * The lookout Fastify plugin's options, less the registry (the API passes its own).
 *
 * @example
 * ```ts
 * const extra: PluginOptions = { metricsPath: '/internal/metrics' };
 * ```
 */
export type PluginOptions = Omit<LookoutFastifyOptions, 'registry'>;

/**
 * Options of `startInferenceApi`; all optional.
 *
 * @example
 * ```ts
 * const options: InferenceApiOptions = { port: 0, databaseUrl: 'postgres://postgres@127.0.0.1/test', schema: 'demo', token: 'secret' };
 * ```
 */
export interface InferenceApiOptions {
  /** TCP port (default 0: any free port). */
  readonly port?: number;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** KPI store; default: PostgreSQL at `databaseUrl`, else the embedded store (a store process serving PGlite) in `dataDir`. */
  readonly store?: KpiStore;
  /** PostgreSQL for the KPI events (default: `DATABASE_URL` from the environment). */
  readonly databaseUrl?: string;
  /** PostgreSQL schema holding the events table (default: the connection's search path). */
  readonly schema?: string;
  /** PGlite data folder when there is no PostgreSQL (default `.lookout/pglite`; locked by `<folder>.pid`). */
  readonly dataDir?: string;
  /** Port of the embedded store's process when this API starts it (default: any free one). */
  readonly storePort?: number;
  /** Bearer token required on `/metrics`. */
  readonly token?: string;
  /** Registry to record into (default: a new one). */
  readonly registry?: Registry;
  /** Job queue limits (default 2 running, 100 waiting, finished jobs kept 10 minutes). */
  readonly queue?: { readonly concurrency?: number; readonly capacity?: number; readonly retainMs?: number };
  /** KPI flush interval in ms (default 1000). */
  readonly flushIntervalMs?: number;
  /** Seed of the training data and the weights (default 1). */
  readonly seed?: number;
  /**
   * More options for the lookout Fastify plugin (e.g. `metricsPath`), or a function of the API's
   * KPI instance returning them (for options that need it, such as the built-in dashboard's).
   */
  readonly adapter?: PluginOptions | ((context: { readonly kpi: Kpi<InferenceEvent>; readonly registry: Registry }) => PluginOptions);
  /**
   * The model monitor (lookout/ml: drift of x, y, the class mix and the confidence against the
   * served version's reference): its window, `minSamples` and clock; `false` for none.
   */
  readonly modelMonitor?: InferenceMonitorOptions | false;
  /** Fastify's logger (default off). */
  readonly logger?: boolean;
  /**
   * Fault injection (`./faults.ts`: error bursts, latency, a hung dependency, the KPI store down,
   * a memory leak, a blocked event loop), controlled at `/faults` from loopback clients. Default:
   * off, or on when `LOOKOUT_FAULTS=1`. Refused (`LOOKOUT_E_FAULTS_REFUSED`) unless `host` is a
   * loopback address.
   */
  readonly faults?: boolean;
}

/**
 * A running API.
 *
 * @example
 * ```ts
 * const api: InferenceApi = await startInferenceApi();
 * console.log(`${api.url}/metrics`);
 * ```
 */
export interface InferenceApi {
  /** `http://127.0.0.1:<port>` (the bound host and port). */
  readonly url: string;
  /** `<host>:<port>`, a Prometheus scrape target. */
  readonly target: string;
  readonly registry: Registry;
  readonly kpi: Kpi<InferenceEvent>;
  readonly app: FastifyInstance;
  readonly service: ModelService;
  /** The model monitor (undefined with `modelMonitor: false`). */
  readonly monitoring: InferenceMonitoring | undefined;
  /** Where KPI rows go: `embedded store (<dir>)`, `pglite (memory://)` or `postgres`. */
  readonly storeDescription: string;
  /** The fault injector when faults are enabled. */
  readonly faults: FaultInjector | undefined;
  /** Stops accepting requests, ends the jobs, flushes the KPI events (5 s at most) and closes the store. */
  close(): Promise<void>;
}

/**
 * Trains the model, opens the KPI store and listens. See the module comment.
 *
 * @example
 * ```ts
 * const api = await startInferenceApi({ databaseUrl: process.env.DATABASE_URL, token: 'secret' });
 * ```
 */
export async function startInferenceApi(options: InferenceApiOptions = {}): Promise<InferenceApi> {
  const faultsEnabled = options.faults ?? process.env['LOOKOUT_FAULTS'] === '1';
  if (faultsEnabled && !isLoopback(options.host ?? '127.0.0.1')) {
    throw new LookoutError('LOOKOUT_E_FAULTS_REFUSED', `fault injection is for tests on this machine: host must be a loopback address, got ${JSON.stringify(options.host)}`);
  }
  const faults = faultsEnabled ? new FaultInjector() : undefined;
  const databaseUrl = options.databaseUrl ?? nonEmpty(process.env['DATABASE_URL']);
  const dataDir = options.dataDir ?? '.lookout/pglite';
  const registry = options.registry ?? new Registry();
  const runtime = registerRuntimeMetrics(registry);
  // pgStore tracks its own pool (db_pool_connections) when createKpi instruments it.
  const baseStore = options.store ?? (databaseUrl !== undefined ? pgStore({ connectionString: databaseUrl, ...(options.schema !== undefined && { schema: options.schema }) }) : embedded(dataDir, options.schema, options.storePort));
  const store = faults === undefined ? baseStore : faults.wrapStore(baseStore);
  const kpi = createKpi({ registry, store, events: INFERENCE_EVENTS, flushIntervalMs: options.flushIntervalMs ?? 1000 });
  const service = await ModelService.create({ seed: options.seed ?? 1 });
  const capacity = options.queue?.capacity ?? 100;
  // The queue gauge reads the queue at scrape time; the queue is created just below.
  const metrics = inferenceMetrics(registry, { capacity, jobs: () => ({ waiting: queue.depth, running: queue.active }) });
  const queue = new JobQueue({
    concurrency: options.queue?.concurrency ?? 2,
    capacity,
    ...(options.queue?.retainMs !== undefined && { retainMs: options.queue.retainMs }),
    // An inference nobody fetched leaves the active gauge when it is forgotten.
    onForget: (job) => {
      if (job.kind === 'inference' && job.meta['fetched'] !== true) metrics.active.dec();
    },
  });
  metrics.modelChanged(service.info, false);
  const monitoring = options.modelMonitor === false ? undefined : inferenceMonitor(registry, service, options.modelMonitor ?? {});

  const app = Fastify({ logger: options.logger ?? false });
  trackConnections(app.server, registry);
  const extra = typeof options.adapter === 'function' ? options.adapter({ kpi, registry }) : options.adapter ?? {};
  await app.register(lookout, {
    appName: 'inference-api',
    skipPaths: faults === undefined ? UNRECORDED_PATHS : [...UNRECORDED_PATHS, '/faults'],
    // Most calls here take well under 5 ms: finer low buckets make p50/p95 tell routes apart
    // (1.0 stays a bound: the latency SLO counts requests under 1 s).
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    // Set by the generated compose.yaml when lookout.config.yaml says `histograms: native` or `both`.
    ...(process.env['LOOKOUT_NATIVE_HISTOGRAMS'] === '1' && { nativeHistograms: true as const }),
    ...extra,
    registry,
    ...(options.token !== undefined && { token: options.token }),
    onRequest: (req, res, seconds, info) => {
      const client = req.headers['x-client'];
      const name = typeof client === 'string' ? client.slice(0, 64) : 'none';
      metrics.byClient.labels({ client: faults === undefined ? name : faults.labelValue(name, (value) => metrics.byClient.remove({ client: value })) }).inc();
      monitoring?.requested(info.route, info.status, seconds);
      extra.onRequest?.(req, res, seconds, info);
    },
  });
  faults?.register(app, [typeof extra.metricsPath === 'string' ? extra.metricsPath : '/metrics', ...UNRECORDED_PATHS]);
  registerInferenceRoutes(app, { queue, service, metrics, kpi, ...(monitoring !== undefined && { monitoring }) });
  registerContentRoutes(app, { service, kpi, queue });
  try {
    await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  } catch (error) {
    await queue.close();
    await kpi.close({ deadlineMs: 1000 });
    monitoring?.monitor.close();
    runtime.stop();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    target: `${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    registry,
    kpi,
    app,
    service,
    monitoring,
    faults,
    storeDescription: options.store !== undefined ? store.kind : databaseUrl !== undefined ? 'postgres' : `${dataDir.includes('://') ? 'pglite' : 'embedded store'} (${dataDir})`,
    close() {
      closing ??= (async () => {
        faults?.clear();
        // close() closes the connections idle at that moment; one whose response was still
        // going (a /metrics render, a slow upload) would then stay open for keep-alive until
        // the client or Fastify's keepAliveTimeout (72 s) ends it. Close those as they go idle.
        const idle = setInterval(() => app.server.closeIdleConnections(), 50);
        await app.close().finally(() => clearInterval(idle));
        await queue.close();
        await kpi.close({ deadlineMs: 5000 });
        monitoring?.monitor.close();
        runtime.stop();
      })();
      return closing;
    },
  };
}

/**
 * A folder: the embedded store (its store process is shared by every API on the folder, and
 * locks it); `memory://`: PGlite in this process (nothing to share).
 */
function embedded(dataDir: string, schema: string | undefined, port: number | undefined): KpiStore {
  const location = schema === undefined ? {} : { schema };
  return dataDir.includes('://') ? pgliteStore({ dataDir, ...location }) : embeddedStore({ dataDir, ...location, ...(port !== undefined && { port }) });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
