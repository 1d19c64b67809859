/**
 * The in-process job queue the API runs inferences and trainings on: bounded (a full queue
 * refuses new jobs with `QueueFullError`, the API answers 503), at most `concurrency` jobs
 * running at once, finished jobs kept until fetched-and-expired or pushed out by newer ones, so
 * memory stays bounded however many ids clients never come back for.
 *
 * @example
 * ```ts
 * const queue = new JobQueue({ concurrency: 2, capacity: 100 });
 * const job = queue.submit('inference', async () => ({ label: 'jade' }));
 * await queue.settled(job.id);
 * queue.get(job.id)?.state; // 'done'
 * ```
 */
import { randomUUID } from 'node:crypto';

/**
 * Where a job is: waiting, running, or finished (`done` with a result, `failed` with an error).
 *
 * @example
 * ```ts
 * const state: JobState = 'running';
 * ```
 */
export type JobState = 'queued' | 'running' | 'done' | 'failed';

/**
 * A job and its outcome.
 *
 * @example
 * ```ts
 * const job: Job<number> = queue.submit('train', async () => 0.97);
 * ```
 */
export interface Job<T = unknown> {
  readonly id: string;
  readonly kind: string;
  state: JobState;
  readonly createdAt: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  result: T | undefined;
  error: Error | undefined;
  /** Free for the caller (e.g. "results fetched", the inputs). */
  readonly meta: Record<string, unknown>;
}

/**
 * Options of `JobQueue`.
 *
 * @example
 * ```ts
 * const options: JobQueueOptions = { concurrency: 2, capacity: 64, retainMs: 600_000, maxFinished: 5000 };
 * ```
 */
export interface JobQueueOptions {
  /** Jobs running at once (default 2). */
  readonly concurrency?: number;
  /** Jobs waiting at most; more are refused (default 100). */
  readonly capacity?: number;
  /** Finished jobs are forgotten this long after they finished (default 10 min). */
  readonly retainMs?: number;
  /** Finished jobs kept at most; the oldest go first (default 10,000). */
  readonly maxFinished?: number;
  /** Called when a finished job is forgotten (expired or pushed out), e.g. to fix a gauge. */
  readonly onForget?: (job: Job) => void;
  /** Called when a job starts and when it finishes. */
  readonly onTransition?: (job: Job) => void;
}

/**
 * Thrown by `submit` when `capacity` jobs are already waiting.
 *
 * @example
 * ```ts
 * try { queue.submit('inference', run); } catch (error) { if (error instanceof QueueFullError) reply.code(503); }
 * ```
 */
export class QueueFullError extends Error {
  readonly statusCode = 503;
  constructor(capacity: number) {
    super(`the job queue is full (${capacity} waiting); retry later`);
    this.name = 'QueueFullError';
  }
}

/**
 * A bounded FIFO of async jobs with a concurrency limit. See the module comment.
 *
 * @example
 * ```ts
 * const queue = new JobQueue({ concurrency: 1 });
 * queue.submit('train', (signal) => trainModel(data, { signal }));
 * ```
 */
export class JobQueue {
  readonly concurrency: number;
  readonly capacity: number;
  private readonly retainMs: number;
  private readonly maxFinished: number;
  private readonly onForget: ((job: Job) => void) | undefined;
  private readonly onTransition: ((job: Job) => void) | undefined;
  private readonly jobs = new Map<string, Job>();
  private readonly work = new Map<string, (signal: AbortSignal) => Promise<unknown>>();
  private readonly waiting: string[] = [];
  /** Finished job ids in finishing order (the oldest first). */
  private readonly finished = new Set<string>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly abort = new AbortController();
  private running = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: JobQueueOptions = {}) {
    this.concurrency = positive('concurrency', options.concurrency ?? 2);
    this.capacity = positive('capacity', options.capacity ?? 100);
    this.retainMs = positive('retainMs', options.retainMs ?? 600_000);
    this.maxFinished = positive('maxFinished', options.maxFinished ?? 10_000);
    this.onForget = options.onForget;
    this.onTransition = options.onTransition;
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.min(this.retainMs, 30_000));
    this.sweeper.unref();
  }

  /** Jobs waiting to run. @example queue.depth; */
  get depth(): number {
    return this.waiting.length;
  }

  /** Jobs running now. @example queue.active; */
  get active(): number {
    return this.running;
  }

  /**
   * Queues `run`; throws `QueueFullError` when `capacity` jobs are waiting, or an Error after `close()`.
   *
   * @example
   * ```ts
   * const { id } = queue.submit('inference', async (signal) => infer(points, signal), { points: 3 });
   * ```
   */
  submit<T>(kind: string, run: (signal: AbortSignal) => Promise<T>, meta: Record<string, unknown> = {}): Job<T> {
    if (this.abort.signal.aborted) throw new Error('the job queue is closed');
    if (this.waiting.length >= this.capacity) throw new QueueFullError(this.capacity);
    const job: Job<T> = { id: randomUUID(), kind, state: 'queued', createdAt: Date.now(), startedAt: undefined, finishedAt: undefined, result: undefined, error: undefined, meta };
    this.jobs.set(job.id, job as Job);
    this.work.set(job.id, run);
    this.waiting.push(job.id);
    this.pump();
    return job;
  }

  /**
   * The job with this id, while it is remembered.
   *
   * @example
   * ```ts
   * queue.get(id)?.state;
   * ```
   */
  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /**
   * Resolves once the job has finished (at once when it has, or is unknown).
   *
   * @example
   * ```ts
   * await queue.settled(job.id);
   * ```
   */
  settled(id: string): Promise<void> {
    const job = this.jobs.get(id);
    if (job === undefined || job.state === 'done' || job.state === 'failed') return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
  }

  /**
   * Forgets finished jobs older than `retainMs` at `now` (runs on its own every 30 s).
   *
   * @example
   * ```ts
   * queue.sweep(Date.now());
   * ```
   */
  sweep(now: number): void {
    for (const id of this.finished) {
      const job = this.jobs.get(id)!;
      if (now - job.finishedAt! < this.retainMs) break;
      this.forget(id);
    }
  }

  /**
   * Refuses new jobs, fails the waiting ones, signals the running ones to stop, and waits for them.
   *
   * @example
   * ```ts
   * await queue.close();
   * ```
   */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.abort.abort(new Error('the job queue is closing'));
    for (const id of this.waiting.splice(0)) this.finish(this.jobs.get(id)!, undefined, new Error('the job queue closed before this job ran'));
    const running = [...this.jobs.values()].filter((job) => job.state === 'running').map((job) => this.settled(job.id));
    await Promise.all(running);
  }

  private pump(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const job = this.jobs.get(id)!;
      const run = this.work.get(id)!;
      this.work.delete(id);
      this.running++;
      job.state = 'running';
      job.startedAt = Date.now();
      this.onTransition?.(job);
      // Each job starts on a later turn, so submit() returns before any of its work runs.
      setImmediate(() => {
        run(this.abort.signal).then(
          (result) => this.finish(job, result, undefined),
          (error: unknown) => this.finish(job, undefined, error instanceof Error ? error : new Error(String(error))),
        );
      });
    }
  }

  private finish(job: Job, result: unknown, error: Error | undefined): void {
    if (job.state === 'running') this.running--;
    job.state = error === undefined ? 'done' : 'failed';
    job.result = result;
    job.error = error;
    job.finishedAt = Date.now();
    this.work.delete(job.id);
    this.finished.add(job.id);
    this.onTransition?.(job);
    for (const resolve of this.waiters.get(job.id) ?? []) resolve();
    this.waiters.delete(job.id);
    while (this.finished.size > this.maxFinished) this.forget(this.finished.values().next().value!);
    this.pump();
  }

  private forget(id: string): void {
    const job = this.jobs.get(id);
    this.finished.delete(id);
    this.jobs.delete(id);
    if (job !== undefined) this.onForget?.(job);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`JobQueue: ${name} must be a positive integer, got ${value}`);
  return value;
}
