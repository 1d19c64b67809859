/**
 * IPC messages between the primary and its workers. Every message carries a
 * `lookout` tag, so it never mixes with the application's own messages (or
 * prom-client's).
 */
import type { ExpositionFormat } from '../core/metric.js';
import type { FamilyWire } from './wire.js';

/**
 * Primary → worker: send a snapshot of your registry for request `id`.
 *
 * @example
 * ```ts
 * const message: CollectRequest = { lookout: 'cluster:collect', id: 1 };
 * ```
 */
export interface CollectRequest {
  readonly lookout: 'cluster:collect';
  readonly id: number;
}

/**
 * Worker → primary: one chunk of the snapshot for request `id`; `done` on the last.
 *
 * @example
 * ```ts
 * const message: SnapshotChunk = { lookout: 'cluster:snapshot', id: 1, families: [], done: true };
 * ```
 */
export interface SnapshotChunk {
  readonly lookout: 'cluster:snapshot';
  readonly id: number;
  readonly families: readonly FamilyWire[];
  readonly done: boolean;
}

/**
 * Worker → primary: a scraper asked this worker; render the cluster's answer.
 *
 * @example
 * ```ts
 * const message: ScrapeRequest = { lookout: 'cluster:scrape', id: 7, format: 'text' };
 * ```
 */
export interface ScrapeRequest {
  readonly lookout: 'cluster:scrape';
  readonly id: number;
  readonly format: ExpositionFormat;
}

/**
 * Primary → worker: one chunk of exposition text for scrape `id`; `done` on
 * the last, `error` when rendering failed.
 *
 * @example
 * ```ts
 * const message: TextChunk = { lookout: 'cluster:text', id: 7, text: '', done: true };
 * ```
 */
export interface TextChunk {
  readonly lookout: 'cluster:text';
  readonly id: number;
  readonly text: string;
  readonly done: boolean;
  readonly error?: string;
}

/**
 * Any lookout cluster message.
 *
 * @example
 * ```ts
 * function handle(message: ClusterMessage) { if (message.lookout === 'cluster:collect') ... }
 * ```
 */
export type ClusterMessage = CollectRequest | SnapshotChunk | ScrapeRequest | TextChunk;

/**
 * True for a message of this protocol.
 *
 * @example
 * ```ts
 * process.on('message', (message) => { if (isClusterMessage(message)) ... });
 * ```
 */
export function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === 'object' && message !== null && typeof (message as { lookout?: unknown }).lookout === 'string'
    && (message as { lookout: string }).lookout.startsWith('cluster:') && typeof (message as { id?: unknown }).id === 'number';
}
