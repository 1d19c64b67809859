/** Forks fixture workers from a test process (which becomes the cluster primary) and always cleans them up. */
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** The fixture's ready message. */
export interface Ready {
  readonly id: number;
  readonly url: string;
  /** Error codes of misuse tried in the worker (clusterPrimary there, clusterWorker twice). */
  readonly errors: Record<string, string>;
}

/** Forks one fixture worker with `role` and waits until it is ready. */
export async function forkWorker(role: 'normal' | 'silent' | 'crash', port?: number): Promise<{ worker: Worker; ready: Ready }> {
  cluster.setupPrimary({ exec: FIXTURE, execArgv: ['--import', 'tsx'] });
  const worker = cluster.fork({ FIXTURE_ROLE: role, ...(port !== undefined && { FIXTURE_PORT: String(port) }) });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${worker.id} (${role}) did not start within 30 s`)), 30_000);
    worker.on('message', (message: { fixture?: string } & Ready) => {
      if (message.fixture !== 'ready') return;
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker ${worker.id} (${role}) exited with ${code} before it was ready`));
    });
  });
  return { worker, ready };
}

/** Sends a fixture message and waits for the reply named `reply`. */
export async function ask<T>(worker: Worker, message: object, reply: string): Promise<T> {
  const answer = new Promise<T>((resolve) => {
    const listener = (received: { fixture?: string }) => {
      if (received.fixture !== reply) return;
      worker.off('message', listener);
      resolve(received as T);
    };
    worker.on('message', listener);
  });
  worker.send(message);
  return answer;
}

/** Kills every worker still alive and waits for the exits. */
export async function killAll(): Promise<void> {
  const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
  await Promise.all(workers.map(async (worker) => {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return;
    const exited = once(worker, 'exit');
    worker.process.kill('SIGKILL');
    await exited;
  }));
}
