import cluster from 'node:cluster';
import { LookoutError } from '../core/errors.js';
import type { ExpositionFormat } from '../core/metric.js';
import type { Registry } from '../core/registry.js';
import { Inbox } from './inbox.js';
import { isClusterMessage, type ClusterMessage, type TextChunk } from './protocol.js';
import { ClusterRegistry } from './view.js';
import { encodeRegistries, type EncodeOptions } from './wire.js';

let started = false;

/**
 * Options of {@link clusterWorker}.
 *
 * @example
 * ```ts
 * clusterWorker(registry, { timeoutMs: 10_000 });
 * ```
 */
export interface ClusterWorkerOptions extends Pick<EncodeOptions, 'maxNumbers' | 'sliceMs'> {
  /**
   * How long a scrape served by this worker waits for each piece of the
   * primary's answer before it fails with `LOOKOUT_E_CLUSTER_TIMEOUT` (default 15 s;
   * keep it above the primary's `timeoutMs`).
   */
  readonly timeoutMs?: number;
}

/**
 * Cluster mode in a worker.
 *
 * @example
 * ```ts
 * const worker = clusterWorker(registry);
 * await serveMetrics({ registry: worker.registry, port: 9464 });
 * ```
 */
export interface ClusterWorker {
  /** Answers for the whole cluster (asks the primary); pass it to `serveMetrics` or `createMetricsHandler`. */
  readonly registry: Registry;
  /** Stops answering the primary. */
  close(): void;
}

/**
 * Makes this worker's registry part of the cluster's answer: the primary's
 * requests are answered over IPC with a compact snapshot, sent in chunks so a
 * big registry never holds the event loop for long. Record metrics as usual;
 * nothing changes on the request path. The returned `registry` serves the
 * whole cluster from this worker (`LOOKOUT_E_CLUSTER_NOT_WORKER` outside a
 * node:cluster worker, `LOOKOUT_E_CLUSTER_ALREADY_STARTED` when called twice).
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isWorker) {
 *   const registry = new Registry();
 *   const app = Fastify();
 *   await app.register(lookout, { registry, metricsPath: false });
 *   const { registry: clusterRegistry } = clusterWorker(registry);
 *   app.get('/metrics', (req, reply) => createMetricsHandler({ registry: clusterRegistry })(req.raw, reply.raw));
 * }
 * ```
 */
export function clusterWorker(registry: Registry, options: ClusterWorkerOptions = {}): ClusterWorker {
  if (!cluster.isWorker || typeof process.send !== 'function') {
    throw new LookoutError('LOOKOUT_E_CLUSTER_NOT_WORKER', 'clusterWorker() runs in a node:cluster worker; the primary calls clusterPrimary() or serveClusterMetrics()');
  }
  if (started) throw new LookoutError('LOOKOUT_E_CLUSTER_ALREADY_STARTED', 'clusterWorker() is already running in this worker: close() it first (two would answer the primary twice)');
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new LookoutError('LOOKOUT_E_CLUSTER_OPTION', `timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  const encodeOptions: EncodeOptions = { ...(options.maxNumbers !== undefined && { maxNumbers: options.maxNumbers }), ...(options.sliceMs !== undefined && { sliceMs: options.sliceMs }) };
  const scrapes = new Map<number, Inbox<TextChunk>>();
  let nextId = 0;

  const view = new ClusterRegistry({ defaultLabels: registry.defaultLabels }, async function* (format: ExpositionFormat) {
    const id = ++nextId;
    const inbox = new Inbox<TextChunk>();
    scrapes.set(id, inbox);
    try {
      await send({ lookout: 'cluster:scrape', id, format });
      for (;;) {
        const chunk = await inbox.next(timeoutMs, () => new LookoutError('LOOKOUT_E_CLUSTER_TIMEOUT', `the primary did not answer within ${timeoutMs} ms (is clusterPrimary() running there?)`));
        if (chunk.error !== undefined) throw new LookoutError('LOOKOUT_E_CLUSTER_PRIMARY', `the primary failed to render: ${chunk.error}`);
        if (chunk.text !== '') yield chunk.text;
        if (chunk.done) return;
      }
    } finally {
      scrapes.delete(id);
    }
  });

  async function answer(id: number): Promise<void> {
    try {
      await registry.collect();
      for await (const families of encodeRegistries([registry, view], encodeOptions)) {
        await send({ lookout: 'cluster:snapshot', id, families, done: false });
      }
      await send({ lookout: 'cluster:snapshot', id, families: [], done: true });
    } catch {
      // The channel closed (the primary is gone): nothing to answer.
    }
  }

  const onMessage = (message: unknown): void => {
    if (!isClusterMessage(message)) return;
    if (message.lookout === 'cluster:collect') void answer(message.id);
    else if (message.lookout === 'cluster:text') scrapes.get(message.id)?.push(message);
  };
  process.on('message', onMessage);
  started = true;
  return {
    registry: view,
    close: () => {
      process.off('message', onMessage);
      started = false;
      for (const inbox of scrapes.values()) inbox.fail(new LookoutError('LOOKOUT_E_CLUSTER_CLOSED', 'clusterWorker was closed'));
    },
  };
}

/** Sends over IPC and waits until the message is handed to the channel (flow control for big snapshots). */
function send(message: ClusterMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, undefined, (error) => (error === null ? resolve() : reject(error)));
  });
}
