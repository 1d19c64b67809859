import type { CounterSeries } from '../core/counter.js';
import { LookoutError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import { Dispatcher, type DropPolicy } from './dispatcher.js';
import { KPI_ERRORS, integerOption, type KpiErrorCode } from './errors.js';
import { checkText, serializeArgs, type FieldVerdict, type KpiFields } from './fields.js';
import { expressMiddleware, fastifyPlugin, honoMiddleware, type KpiExpressMiddleware, type KpiFastifyPlugin, type KpiHonoMiddleware } from './frameworks.js';
import { DROP_REASONS, registerKpiMetrics, type DropReason, type KpiMetrics } from './metrics.js';
import { defaultStore } from './default-store.js';
import { installSignalHandlers, type SignalOptions } from './signals.js';
import type { KpiStore } from './store.js';

/**
 * Options of `createKpi`. Only `registry` and `events` are required.
 *
 * @example
 * ```ts
 * const options: KpiOptions<'good_inference' | 'bad_inference'> = {
 *   registry, events: ['good_inference', 'bad_inference'], store: pgStore(), handleSignals: true,
 * };
 * ```
 */
export interface KpiOptions<E extends string> {
  /** Where `kpi_events_total` and the `lookout_kpi_*` self-metrics are registered. */
  readonly registry: Registry;
  /** The event names `record` accepts; others are dropped (`unknown_event`). */
  readonly events: readonly E[];
  /** Default: `pgStore()` when `DATABASE_URL` is set, else `embeddedStore()` in `.lookout/pglite`. */
  readonly store?: KpiStore;
  /** Events held in memory at most, the batch being written included (default 100,000). */
  readonly bufferSize?: number;
  /** Events per write, and the size that triggers a flush (default: the store's, 20,000 for PostgreSQL, 2,000 for PGlite). */
  readonly batchSize?: number;
  /** Pending events are written at least this often (default 1000 ms). */
  readonly flushIntervalMs?: number;
  /** When the buffer is full: refuse the new event (default) or drop the oldest pending one. */
  readonly dropPolicy?: DropPolicy;
  /** Largest `args` as UTF-8 JSON (default 8192 bytes). */
  readonly maxArgsBytes?: number;
  /** Longest `user` / `model` (default 1024 characters). */
  readonly maxFieldLength?: number;
  /** Backoff between failed writes: doubles from `minDelayMs` (100) up to `maxDelayMs` (10,000), with jitter. */
  readonly retry?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
  /** Flush on SIGTERM/SIGINT, then re-raise the signal (see `SignalOptions`). Off by default. */
  readonly handleSignals?: boolean | SignalOptions;
  /** Told about refused events and store failures. Never called twice for one overflow episode. */
  readonly onError?: (error: LookoutError) => void;
}

/**
 * Counts of everything `record` saw, as the metrics expose them.
 * `recorded = written + pending + sum(dropped)`, exactly.
 *
 * @example
 * ```ts
 * const { written, dropped, pending } = kpi.stats();
 * ```
 */
export interface KpiStats {
  readonly recorded: number;
  readonly written: number;
  readonly pending: number;
  readonly dropped: Readonly<Record<DropReason, number>>;
}

const REASON_CODES: Readonly<Record<'unknown_event' | 'closed' | 'invalid' | 'too_large', KpiErrorCode>> = {
  unknown_event: KPI_ERRORS.unknownEvent,
  closed: KPI_ERRORS.closed,
  invalid: KPI_ERRORS.invalid,
  too_large: KPI_ERRORS.tooLarge,
};

/**
 * Records KPI events: `kpi_events_total{event}` at once, and a row in the
 * store through a bounded buffer and a background writer.
 *
 * @example
 * ```ts
 * kpi.record('good_inference', { user: 'u-42', model: 'resnet-50', args: { label: 'cat' } });
 * await kpi.close();
 * ```
 */
export class Kpi<E extends string = string> {
  /** The store rows go to. */
  readonly store: KpiStore;
  private readonly metrics: KpiMetrics;
  private readonly dispatcher: Dispatcher;
  private readonly eventSeries: ReadonlyMap<string, CounterSeries>;
  private readonly maxArgsBytes: number;
  private readonly maxFieldLength: number;
  private readonly onError: ((error: LookoutError) => void) | undefined;
  private readonly verdict: FieldVerdict = { problem: undefined, detail: '' };
  private readonly removeSignalHandlers: () => void;
  private recorded = 0;
  private closing: Promise<boolean> | undefined;

  constructor(options: KpiOptions<E>) {
    if (options === undefined || options === null || typeof options.registry?.counter !== 'function') {
      throw new LookoutError(KPI_ERRORS.option, 'createKpi: options.registry is required (pass `new Registry()` from lookout)');
    }
    const events = checkEventNames(options.events);
    this.store = options.store ?? defaultStore();
    this.maxArgsBytes = integerOption('maxArgsBytes', options.maxArgsBytes, 8192, 2);
    this.maxFieldLength = integerOption('maxFieldLength', options.maxFieldLength, 1024, 1);
    const bufferSize = integerOption('bufferSize', options.bufferSize, 100_000, 1, 10_000_000);
    const batchSize = integerOption('batchSize', options.batchSize, Math.min(this.store.preferredBatchSize ?? 10_000, bufferSize), 1, bufferSize);
    const flushIntervalMs = integerOption('flushIntervalMs', options.flushIntervalMs, 1000, 1, 2 ** 31 - 1);
    const minRetryDelayMs = integerOption('retry.minDelayMs', options.retry?.minDelayMs, 100, 1, 2 ** 31 - 1);
    const maxRetryDelayMs = integerOption('retry.maxDelayMs', options.retry?.maxDelayMs, 10_000, minRetryDelayMs, 2 ** 31 - 1);
    const dropPolicy = options.dropPolicy ?? 'drop-newest';
    if (dropPolicy !== 'drop-newest' && dropPolicy !== 'drop-oldest') {
      throw new LookoutError(KPI_ERRORS.option, `dropPolicy must be 'drop-newest' or 'drop-oldest', got ${String(dropPolicy)}`);
    }
    const userOnError = options.onError;
    this.onError = userOnError === undefined ? undefined : (error) => {
      try {
        userOnError(error);
      } catch {
        // A throwing callback must not reach the request path or the writer.
      }
    };
    this.metrics = registerKpiMetrics(options.registry, events, () => this.dispatcher.depth);
    this.eventSeries = this.metrics.events;
    this.store.instrument?.(options.registry);
    this.dispatcher = new Dispatcher(this.store, this.metrics, {
      bufferSize, batchSize, flushIntervalMs, dropPolicy, minRetryDelayMs, maxRetryDelayMs,
      report: (error) => this.onError?.(error),
    });
    this.removeSignalHandlers = options.handleSignals ? installSignalHandlers(this, options.handleSignals === true ? {} : options.handleSignals) : () => {};
  }

  /**
   * Counts the event and queues its row. Synchronous: never awaits, never
   * throws. Returns false when the event was refused (undeclared name, bad or
   * oversized fields, full buffer, closed); each refusal is counted in
   * `lookout_kpi_dropped_total{reason}` and passed to `onError`.
   *
   * @example
   * ```ts
   * kpi.record('bad_inference', { user: request.user.id, model: 'v2', args: { label: 'dog' } });
   * ```
   */
  record(event: E, fields?: KpiFields): boolean {
    this.recorded++;
    const series = this.eventSeries.get(event);
    if (series === undefined) return this.refuse('unknown_event', `event ${JSON.stringify(String(event)).slice(0, 200)} was not declared in createKpi({ events })`);
    series.inc();
    if (this.closing !== undefined) return this.refuse('closed', `record('${event}') after close()`);
    if (fields === undefined || fields === null) return this.dispatcher.enqueue(event, Date.now(), null, null, null, null);
    const verdict = this.verdict;
    verdict.problem = undefined;
    let user: string | null;
    let model: string | null;
    let args: string | null;
    let value: unknown;
    try {
      user = checkText('user', fields.user, this.maxFieldLength, true, verdict);
      model = checkText('model', fields.model, this.maxFieldLength, false, verdict);
      const rawArgs = fields.args;
      args = rawArgs === undefined || rawArgs === null ? null : serializeArgs(rawArgs, this.maxArgsBytes, verdict);
      value = fields.value ?? null;
    } catch (error) {
      // A getter that throws, a Proxy...: the request path still does not throw.
      return this.refuse('invalid', `${event}: reading the fields threw: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (value !== null && typeof value !== 'number') return this.refuse('invalid', `value must be a number, got ${typeof value}`);
    if (verdict.problem !== undefined) return this.refuse(verdict.problem, `${event}: ${verdict.detail}`);
    return this.dispatcher.enqueue(event, Date.now(), user, model, args, value);
  }

  /**
   * Resolves true once the store is open and migrated, false when `deadlineMs`
   * (default 30 s) passed first (the store keeps retrying in the background).
   * Recording does not need to wait for it.
   *
   * @example
   * ```ts
   * if (!(await kpi.ready({ deadlineMs: 5000 }))) console.warn('KPI store not reachable yet');
   * ```
   */
  ready(options: { readonly deadlineMs?: number } = {}): Promise<boolean> {
    return this.dispatcher.ready(options.deadlineMs ?? 30_000);
  }

  /**
   * Writes every event recorded so far. Resolves true when they are all
   * written (or dropped), false when `deadlineMs` (default 30 s) passed first.
   * Never rejects.
   *
   * @example
   * ```ts
   * await kpi.flush({ deadlineMs: 2000 });
   * ```
   */
  flush(options: { readonly deadlineMs?: number } = {}): Promise<boolean> {
    return this.dispatcher.flush(options.deadlineMs ?? 30_000);
  }

  /**
   * Stops accepting events, flushes within `deadlineMs` (default 5 s) and
   * closes the store. Events still unwritten at the deadline are counted as
   * dropped (`close_timeout`); a write aborted at the deadline counts there
   * too, even in the rare case where its commit had reached the server just
   * before. Resolves true when nothing was lost; safe to call twice.
   *
   * @example
   * ```ts
   * app.addHook('onClose', () => kpi.close({ deadlineMs: 3000 }));
   * ```
   */
  close(options: { readonly deadlineMs?: number } = {}): Promise<boolean> {
    if (this.closing === undefined) {
      this.removeSignalHandlers();
      this.closing = this.dispatcher.close(options.deadlineMs ?? 5000);
    }
    return this.closing;
  }

  /**
   * Counts so far; `recorded = written + pending + sum(dropped)`.
   *
   * @example
   * ```ts
   * expect(kpi.stats().dropped.buffer_full).toBe(0);
   * ```
   */
  stats(): KpiStats {
    const dropped = Object.fromEntries(DROP_REASONS.map((reason) => [reason, this.metrics.dropped[reason].value])) as Record<DropReason, number>;
    return { recorded: this.recorded, written: this.metrics.written.value, pending: this.dispatcher.depth, dropped };
  }

  /** A Fastify plugin: `app.kpi`, `request.kpi`. @example await app.register(kpi.fastify()); */
  fastify(): KpiFastifyPlugin {
    return fastifyPlugin(this);
  }

  /** An Express middleware: `req.kpi`. @example app.use(kpi.express()); */
  express(): KpiExpressMiddleware {
    return expressMiddleware(this);
  }

  /** A Hono middleware: `c.get('kpi')`. @example app.use(kpi.hono()); */
  hono(): KpiHonoMiddleware {
    return honoMiddleware(this);
  }

  private refuse(reason: 'unknown_event' | 'closed' | 'invalid' | 'too_large', detail: string): false {
    this.metrics.dropped[reason].inc();
    this.onError?.(new LookoutError(REASON_CODES[reason], detail));
    return false;
  }
}

/**
 * Creates a KPI recorder. See `KpiOptions` for the settings.
 *
 * @example
 * ```ts
 * const kpi = createKpi({ registry, events: ['good_inference', 'bad_inference'] });
 * kpi.record('good_inference', { user: 'u-42', model: 'resnet-50', args: { label: 'cat' } });
 * ```
 */
export function createKpi<const E extends string>(options: KpiOptions<E>): Kpi<E> {
  return new Kpi(options);
}

function checkEventNames<E extends string>(events: readonly E[] | undefined): readonly E[] {
  if (!Array.isArray(events) || events.length === 0) {
    throw new LookoutError(KPI_ERRORS.option, 'createKpi: options.events must list the event names, e.g. [\'good_inference\', \'bad_inference\']');
  }
  const seen = new Set<string>();
  for (const name of events) {
    if (typeof name !== 'string' || name === '' || name.length > 200 || name.includes('\0')) {
      throw new LookoutError(KPI_ERRORS.option, `createKpi: event names must be non-empty strings of at most 200 characters without NUL, got ${JSON.stringify(name)}`);
    }
    if (seen.has(name)) throw new LookoutError(KPI_ERRORS.option, `createKpi: event ${name} is listed twice`);
    seen.add(name);
  }
  return events;
}
