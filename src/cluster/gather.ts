/**
 * The primary's side of a scrape: ask every connected worker for a snapshot,
 * wait until all answered, exited, or the deadline passed, and keep what a
 * missing or exited worker last said so cluster totals never go backwards.
 */
import type { Worker } from 'node:cluster';
import { mergeSources, type Source } from './merge.js';
import type { ResolvedPrimaryOptions } from './options.js';
import type { CollectRequest, SnapshotChunk } from './protocol.js';
import { encodeAll, type FamilyWire } from './wire.js';

/**
 * What one gather found.
 *
 * @example
 * ```ts
 * const { sources, asked, missing } = await gatherer.gather(workers);
 * ```
 */
export interface GatherResult {
  /** Fresh answers, then stale ones (missing workers' last answers, exited workers' totals). */
  readonly sources: Source[];
  readonly asked: number;
  /** Workers asked that did not answer in time or exited first. */
  readonly missing: number;
  readonly timedOut: boolean;
}

interface PendingGather {
  readonly id: number;
  readonly waiting: Set<number>;
  readonly answers: Map<number, FamilyWire[]>;
  /** Stops waiting for a worker (answered, exited, or unreachable). */
  settle(workerId: number): void;
}

/** How many newer requests a partial answer may lag behind before it is dropped. */
const MAX_LAG = 4;

/** A worker that has not answered after this long no longer holds a concurrency slot. */
const STALL_MS = 100;

/**
 * Collects worker snapshots for the primary.
 *
 * @example
 * ```ts
 * const gatherer = new Gatherer(resolvePrimaryOptions({}), (name) => conflicts.labels({ metric: name }).inc());
 * cluster.on('message', (worker, message) => gatherer.onSnapshot(worker.id, message));
 * ```
 */
export class Gatherer {
  private readonly options: ResolvedPrimaryOptions;
  private readonly onConflict: (family: string) => void;
  private nextId = 0;
  private pending: PendingGather | undefined;
  /** Answers being received, by `workerId:requestId`. */
  private readonly incoming = new Map<string, { readonly id: number; readonly families: FamilyWire[] }>();
  /** Each worker's last complete answer. */
  private readonly lastAnswers = new Map<number, FamilyWire[]>();
  /** Exited workers' counters, histograms and summary sums/counts, merged. */
  private retired: FamilyWire[] = [];
  /** Workers whose last answer is already in `retired` (their fresh answer would count twice). */
  private readonly retiredWorkers = new Set<number>();
  private retiring: Promise<void> = Promise.resolve();

  constructor(options: ResolvedPrimaryOptions, onConflict: (family: string) => void) {
    this.options = options;
    this.onConflict = onConflict;
  }

  /** Handles a snapshot chunk from worker `workerId`. */
  onSnapshot(workerId: number, chunk: SnapshotChunk): void {
    const key = `${workerId}:${chunk.id}`;
    let answer = this.incoming.get(key);
    if (answer === undefined) this.incoming.set(key, (answer = { id: chunk.id, families: [] }));
    for (const family of chunk.families) answer.families.push(family);
    if (!chunk.done) return;
    this.incoming.delete(key);
    // A late answer still updates what the worker last said.
    if (!this.retiredWorkers.has(workerId)) this.lastAnswers.set(workerId, answer.families);
    const pending = this.pending;
    if (pending !== undefined && pending.id === chunk.id && pending.waiting.has(workerId)) {
      pending.answers.set(workerId, answer.families);
      pending.settle(workerId);
    }
  }

  /** Handles a worker's exit: stop waiting for it, and keep its totals. */
  onExit(workerId: number): void {
    for (const key of this.incoming.keys()) if (key.startsWith(`${workerId}:`)) this.incoming.delete(key);
    const pending = this.pending;
    pending?.settle(workerId);
    const last = this.lastAnswers.get(workerId);
    if (last === undefined) return;
    if (!this.options.retainExited) {
      this.lastAnswers.delete(workerId);
      return;
    }
    this.retiring = this.retiring.then(() => this.retire(workerId, last)).catch(() => undefined);
  }

  /**
   * Asks `workers` for snapshots and waits for them (at most `timeoutMs`).
   * At most `concurrency` workers encode at the same time, so a scrape does
   * not make every worker compete for the CPU at once; a worker slower than
   * 100 ms stops holding its slot. Calls never overlap: the caller shares one
   * gather between concurrent scrapes.
   */
  async gather(workers: readonly Worker[]): Promise<GatherResult> {
    const id = ++this.nextId;
    for (const [key, answer] of this.incoming) if (answer.id < id - MAX_LAG) this.incoming.delete(key);
    this.retiredWorkers.clear();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const done = new Promise<void>((resolve) => {
      const queue = [...workers];
      const slots = new Map<number, NodeJS.Timeout>();
      const request: CollectRequest = { lookout: 'cluster:collect', id };
      const release = (workerId: number): void => {
        const stall = slots.get(workerId);
        if (stall === undefined) return;
        clearTimeout(stall);
        slots.delete(workerId);
        askMore();
      };
      const askMore = (): void => {
        while (slots.size < this.options.concurrency && queue.length > 0) {
          const worker = queue.shift()!;
          const stall = setTimeout(() => release(worker.id), STALL_MS);
          stall.unref();
          slots.set(worker.id, stall);
          // A worker whose channel just closed is settled here (or by its exit event).
          worker.send(request, (error) => error !== null && pending.settle(worker.id));
        }
      };
      const pending: PendingGather = {
        id,
        waiting: new Set(workers.map((worker) => worker.id)),
        answers: new Map(),
        settle: (workerId) => {
          if (!pending.waiting.delete(workerId)) return;
          release(workerId);
          if (pending.waiting.size === 0) resolve();
        },
      };
      this.pending = pending;
      if (workers.length === 0) resolve();
      timer = setTimeout(() => {
        timedOut = true;
        for (const stall of slots.values()) clearTimeout(stall);
        queue.length = 0;
        resolve();
      }, this.options.timeoutMs);
      timer.unref();
      askMore();
    });
    await done;
    clearTimeout(timer);
    const pending = this.pending!;
    this.pending = undefined;
    // Exits seen so far must be in `retired` before anything is counted.
    let retiring: Promise<void> | undefined;
    while (retiring !== this.retiring) await (retiring = this.retiring);
    const sources: Source[] = [];
    const stale: Source[] = [];
    let missing = 0;
    for (const worker of workers) {
      const answer = pending.answers.get(worker.id);
      if (answer !== undefined && !this.retiredWorkers.has(worker.id)) {
        sources.push({ worker: String(worker.id), stale: false, families: answer });
        continue;
      }
      missing++;
      const last = this.lastAnswers.get(worker.id);
      if (last !== undefined) stale.push({ worker: String(worker.id), stale: true, families: last });
    }
    if (this.retired.length > 0) stale.push({ worker: 'exited', stale: true, families: this.retired });
    return { sources: [...sources, ...stale], asked: workers.length, missing, timedOut: timedOut && pending.waiting.size > 0 };
  }

  private async retire(workerId: number, last: FamilyWire[]): Promise<void> {
    const merged = await mergeSources(
      [{ worker: 'exited', stale: true, families: this.retired }, { worker: String(workerId), stale: true, families: last }],
      { gaugeMode: this.options.gaugeMode, workerLabel: this.options.workerLabel, onConflict: this.onConflict },
    );
    const retired = await encodeAll([merged]);
    // Swapped in one step: no scrape sees the worker both retired and alive, or neither.
    this.retired = retired;
    this.retiredWorkers.add(workerId);
    this.lastAnswers.delete(workerId);
  }
}
