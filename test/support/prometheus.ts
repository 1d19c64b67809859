/**
 * Runs a real `prometheus` for end-to-end tests: temp config and data dir,
 * ephemeral port, stopped and cleaned up by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningPrometheus {
  readonly url: string;
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  api(path: string, params: Record<string, string>): Promise<unknown>;
  stop(): Promise<void>;
}

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts prometheus with `config` (YAML text) and waits until it is ready. `dataDir`: an existing
 * TSDB (backfilled blocks) to open instead of a fresh one; `stop()` leaves it in place.
 */
export async function startPrometheus(config: string, extraArgs: readonly string[] = [], dataDir?: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-prom-'));
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${dataDir ?? join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const api = async (path: string, params: Record<string, string>): Promise<unknown> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    const body = (await response.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${path} failed: ${body.error}`);
    return body.data;
  };
  return {
    url,
    api,
    query: async (promql) => ((await api('/api/v1/query', { query: promql })) as { result: { metric: Record<string, string>; value: [number, string] }[] }).result,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
