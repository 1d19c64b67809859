import type { Worker } from 'node:cluster';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { Gatherer } from './gather.js';
import { mergeSources } from './merge.js';
import { resolvePrimaryOptions, type ClusterPrimaryOptions } from './options.js';
import type { CollectRequest } from './protocol.js';
import { encodeAll, type FamilyWire } from './wire.js';

type Behaviour = 'answer' | 'silent' | 'unreachable';

/** A stand-in for a cluster Worker: answers a collect request through the gatherer, like the IPC handler would. */
function fakeWorker(gatherer: Gatherer, id: number, behaviour: Behaviour, families: () => Promise<FamilyWire[]>, asked: number[]): Worker {
  return {
    id,
    send: (request: CollectRequest, callback: (error: Error | null) => void) => {
      asked.push(id);
      if (behaviour === 'unreachable') {
        setImmediate(() => callback(new Error('channel closed')));
        return false;
      }
      setImmediate(() => callback(null));
      if (behaviour === 'answer') {
        void families().then((answer) => {
          gatherer.onSnapshot(id, { lookout: 'cluster:snapshot', id: request.id, families: answer.slice(0, 1), done: false });
          gatherer.onSnapshot(id, { lookout: 'cluster:snapshot', id: request.id, families: answer.slice(1), done: true });
        });
      }
      return true;
    },
  } as unknown as Worker;
}

function counterRegistry(value: number): Registry {
  const registry = new Registry();
  registry.counter({ name: 'jobs_total', help: 'Jobs.' }).inc(value);
  registry.gauge({ name: 'depth', help: 'Depth.' }).set(value);
  return registry;
}

async function totals(gatherer: Gatherer, workers: Worker[]): Promise<{ jobs: number; depth: number; missing: number; timedOut: boolean; ms: number }> {
  const started = performance.now();
  const result = await gatherer.gather(workers);
  const ms = performance.now() - started;
  const merged = await mergeSources(result.sources, { gaugeMode: () => 'sum', workerLabel: 'worker' });
  const value = (name: string) => (merged.get(name)?.labels({}) as { value: number } | undefined)?.value ?? 0;
  return { jobs: value('jobs'), depth: value('depth'), missing: result.missing, timedOut: result.timedOut, ms };
}

function setup(options: ClusterPrimaryOptions, behaviours: Behaviour[]): { gatherer: Gatherer; workers: Worker[]; asked: number[]; values: number[] } {
  const gatherer = new Gatherer(resolvePrimaryOptions(options), () => undefined);
  const asked: number[] = [];
  const values = behaviours.map((_, index) => (index + 1) * 10);
  const workers = behaviours.map((behaviour, index) => fakeWorker(gatherer, index + 1, behaviour, () => encodeAll([counterRegistry(values[index]!)]), asked));
  return { gatherer, workers, asked, values };
}

describe('Gatherer', () => {
  it('gathers every worker\'s chunks', async () => {
    const { gatherer, workers } = setup({ concurrency: 2 }, ['answer', 'answer', 'answer']);
    expect(await totals(gatherer, workers)).toMatchObject({ jobs: 60, depth: 60, missing: 0, timedOut: false });
  });

  it('with one slot, a silent worker holds it for 100 ms only; the deadline counts it missing', async () => {
    const { gatherer, workers, asked } = setup({ concurrency: 1, timeoutMs: 600 }, ['silent', 'answer', 'answer']);
    const result = await totals(gatherer, workers);
    expect(result).toMatchObject({ jobs: 50, depth: 50, missing: 1, timedOut: true });
    expect(asked).toEqual([1, 2, 3]);
    expect(result.ms).toBeGreaterThanOrEqual(590);
  });

  it('settles an unreachable worker at once, without waiting for the deadline', async () => {
    const { gatherer, workers } = setup({ concurrency: 1, timeoutMs: 30_000 }, ['unreachable', 'answer']);
    const result = await totals(gatherer, workers);
    expect(result).toMatchObject({ jobs: 20, missing: 1, timedOut: false });
    expect(result.ms).toBeLessThan(10_000);
  });

  it('stops waiting for a worker that exits mid-gather', async () => {
    const { gatherer, workers } = setup({ timeoutMs: 30_000 }, ['answer', 'silent']);
    setTimeout(() => gatherer.onExit(2), 50);
    const result = await totals(gatherer, workers);
    expect(result).toMatchObject({ jobs: 10, missing: 1, timedOut: false });
  });

  it('keeps a missing worker\'s last counters (not its gauges), and an exited worker\'s counters for good', async () => {
    const { gatherer, workers } = setup({ timeoutMs: 300 }, ['answer', 'answer']);
    expect(await totals(gatherer, workers)).toMatchObject({ jobs: 30, depth: 30 });
    // Worker 2 stops answering: its last counters stay in, its gauge does not.
    const [first] = workers;
    const silentSecond = fakeWorker(gatherer, 2, 'silent', async () => [], []);
    expect(await totals(gatherer, [first!, silentSecond])).toMatchObject({ jobs: 30, depth: 10, missing: 1, timedOut: true });
    // Then it exits: no longer asked, its counters retained.
    gatherer.onExit(2);
    expect(await totals(gatherer, [first!])).toMatchObject({ jobs: 30, depth: 10, missing: 0 });
    gatherer.onExit(1);
    expect(await totals(gatherer, [])).toMatchObject({ jobs: 30, depth: 0, missing: 0 });
  });

  it('forgets exited workers when told not to retain them', async () => {
    const { gatherer, workers } = setup({ retainExited: false }, ['answer', 'answer']);
    await totals(gatherer, workers);
    gatherer.onExit(2);
    expect(await totals(gatherer, [workers[0]!])).toMatchObject({ jobs: 10 });
  });

  it('validates concurrency', () => {
    expect(() => resolvePrimaryOptions({ concurrency: 0 })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_OPTION' }));
  });
});
