/**
 * Runs a real Alertmanager (Debian's `prometheus-alertmanager`, or upstream's `alertmanager`) for
 * the demo and the end-to-end tests: temporary config and storage, a free 127.0.0.1 port,
 * clustering off; `stop()` ends it and removes the folder.
 *
 * @example
 * ```ts
 * const binary = alertmanagerBinary();
 * const am = binary === undefined ? undefined : await startAlertmanager(renderYaml(alertmanagerConfig(alerting)));
 * await am?.stop();
 * ```
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/**
 * A running Alertmanager.
 *
 * @example
 * ```ts
 * const am: RunningAlertmanager = await startAlertmanager(config);
 * console.log(am.url);
 * ```
 */
export interface RunningAlertmanager {
  readonly url: string;
  /** `127.0.0.1:<port>`, for Prometheus' `alerting:` block. */
  readonly target: string;
  stop(): Promise<void>;
}

/**
 * The Alertmanager binary on PATH: Debian names it `prometheus-alertmanager`, upstream
 * `alertmanager`; undefined when neither runs.
 *
 * @example
 * ```ts
 * if (alertmanagerBinary() === undefined) console.log('apt-get install prometheus-alertmanager');
 * ```
 */
export function alertmanagerBinary(): string | undefined {
  for (const binary of ['prometheus-alertmanager', 'alertmanager']) {
    const result = spawnSync(binary, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    if (result.error === undefined && result.status === 0) return binary;
  }
  return undefined;
}

/**
 * Starts Alertmanager with `config` (YAML text) and waits until it is ready (30 s at most).
 *
 * @example
 * ```ts
 * const am = await startAlertmanager(renderYaml(alertmanagerConfig(alerting)));
 * ```
 */
export async function startAlertmanager(config: string, binary = alertmanagerBinary() ?? 'prometheus-alertmanager'): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-am-'));
  await writeFile(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`alertmanager exited with ${child.exitCode}: ${stderr}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`alertmanager not ready in 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    target: `127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
