import { describe, expect, it } from 'vitest';
import { JobQueue, QueueFullError, type Job } from './queue.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('JobQueue', () => {
  it('runs at most `concurrency` jobs at once, in submission order', async () => {
    const queue = new JobQueue({ concurrency: 2, capacity: 10 });
    const gates = Array.from({ length: 4 }, gate);
    const started: number[] = [];
    const jobs = gates.map((item, index) =>
      queue.submit('inference', async () => {
        started.push(index);
        await item.promise;
        return index;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1]);
    expect([queue.active, queue.depth]).toEqual([2, 2]);
    gates[1]!.open();
    await queue.settled(jobs[1]!.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    for (const item of gates) item.open();
    await Promise.all(jobs.map((job) => queue.settled(job.id)));
    expect(jobs.map((job) => [job.state, job.result])).toEqual([['done', 0], ['done', 1], ['done', 2], ['done', 3]]);
    await queue.close();
  });

  it('refuses a job with QueueFullError (503) when `capacity` jobs wait', async () => {
    const queue = new JobQueue({ concurrency: 1, capacity: 2 });
    const hold = gate();
    queue.submit('x', () => hold.promise);
    queue.submit('x', async () => 1);
    queue.submit('x', async () => 2);
    expect(() => queue.submit('x', async () => 3)).toThrow(QueueFullError);
    expect(new QueueFullError(2).statusCode).toBe(503);
    hold.open();
    await queue.close();
  });

  it('keeps a failed job with its error', async () => {
    const queue = new JobQueue();
    const job = queue.submit('x', async () => {
      throw new RangeError('bad input');
    });
    await queue.settled(job.id);
    expect(job.state).toBe('failed');
    expect(job.error).toBeInstanceOf(RangeError);
    await queue.close();
  });

  it('forgets finished jobs after `retainMs` and beyond `maxFinished`, telling onForget', async () => {
    const forgotten: string[] = [];
    const queue = new JobQueue({ retainMs: 60_000, maxFinished: 2, onForget: (job: Job) => forgotten.push(String(job.meta['name'])) });
    const jobs = ['a', 'b', 'c'].map((name) => queue.submit('x', async () => name, { name }));
    for (const job of jobs) await queue.settled(job.id);
    expect(forgotten).toEqual(['a']);
    expect(queue.get(jobs[0]!.id)).toBeUndefined();
    queue.sweep(Date.now() + 61_000);
    expect(forgotten).toEqual(['a', 'b', 'c']);
    await queue.close();
  });

  it('close() fails the waiting jobs, aborts the running ones and refuses new ones', async () => {
    const queue = new JobQueue({ concurrency: 1 });
    const running = queue.submit('x', (signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))));
    const waiting = queue.submit('x', async () => 1);
    await new Promise((resolve) => setImmediate(resolve));
    await queue.close();
    expect([running.state, waiting.state]).toEqual(['failed', 'failed']);
    expect(waiting.error?.message).toContain('closed before this job ran');
    expect(() => queue.submit('x', async () => 1)).toThrow(/closed/);
  });

  it('rejects nonsense limits', () => {
    expect(() => new JobQueue({ concurrency: 0 })).toThrow(RangeError);
    expect(() => new JobQueue({ capacity: 1.5 })).toThrow(RangeError);
  });
});
