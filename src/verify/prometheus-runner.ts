import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LookoutError } from '../core/errors.js';
import { renderYaml } from '../provision/yaml.js';
import { PrometheusClient } from './prometheus-client.js';

/**
 * How to start a throw-away Prometheus.
 *
 * @example
 * ```ts
 * const options: PrometheusRunnerOptions = { config: prometheusConfig(resolved, { targets: ['127.0.0.1:3000'] }) };
 * ```
 */
export interface PrometheusRunnerOptions {
  /** The `prometheus.yml` document (rule file paths must be absolute). */
  readonly config: unknown;
  /** Path of the `prometheus` binary (default: `prometheus` on PATH). */
  readonly binary?: string;
  /** Give up waiting for `/-/ready` after this long (default 30 s). */
  readonly readyTimeoutMs?: number;
}

/**
 * A running Prometheus: its URL, an API client, and `stop()`, which also deletes its data.
 *
 * @example
 * ```ts
 * const prometheus = await startPrometheus({ config });
 * try { await prometheus.waitForTargets(); } finally { await prometheus.stop(); }
 * ```
 */
export interface RunningPrometheus {
  readonly url: string;
  readonly client: PrometheusClient;
  /** The folder holding `prometheus.yml` and the TSDB (removed by `stop`). */
  readonly dir: string;
  /** Resolves once every active target has been scraped successfully `scrapes` times in a row (default 2). */
  waitForTargets(options?: { readonly timeoutMs?: number; readonly scrapes?: number }): Promise<void>;
  /** Resolves once the instant query returns at least one series. */
  waitForQuery(query: string, timeoutMs?: number): Promise<void>;
  /** The last lines Prometheus logged (for error messages). */
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * Starts `prometheus` on a free 127.0.0.1 port with a temporary data folder and waits until it is ready.
 * Throws `LOOKOUT_E_VERIFY_PROMETHEUS` with Prometheus's own log when it cannot start.
 *
 * @example
 * ```ts
 * const prometheus = await startPrometheus({ config: { global: { scrape_interval: '1s' }, scrape_configs: [...] } });
 * ```
 */
export async function startPrometheus(options: PrometheusRunnerOptions): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, renderYaml(options.config));
  let lastError: unknown;
  // A free port can be taken between probing and binding: retry on a new one.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch(options, dir, configFile, port);
    } catch (error) {
      lastError = error;
      if (!/address already in use/i.test((error as Error).message)) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

async function launch(options: PrometheusRunnerOptions, dir: string, configFile: string, port: number): Promise<RunningPrometheus> {
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  const child = spawn(
    options.binary ?? 'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, `data-${port}`)}`, `--web.listen-address=127.0.0.1:${port}`, '--storage.tsdb.retention.time=1d'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const remember = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
    if (log.length > 60) log.splice(0, log.length - 60);
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.once('error', (error) => log.push(`spawn error: ${error.message}`));
  const client = new PrometheusClient(url);
  const logTail = () => log.slice(-15).join('\n');
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || log.some((line) => line.startsWith('spawn error'))) {
      throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `prometheus exited before it was ready:\n${logTail()}`);
    }
    if (await ready(url)) break;
    if (Date.now() > deadline) {
      await terminate(child, exited);
      throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `prometheus was not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${logTail()}`);
    }
    await sleep(100);
  }
  let stopped = false;
  return {
    url,
    client,
    dir,
    logTail,
    waitForTargets: (wait = {}) => waitForTargets(client, wait.timeoutMs ?? 30_000, wait.scrapes ?? 2, logTail),
    waitForQuery: (query, timeoutMs = 30_000) => waitForQuery(client, query, timeoutMs),
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForTargets(client: PrometheusClient, timeoutMs: number, scrapes: number, logTail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, Set<string>>();
  for (;;) {
    const targets = await client.targets();
    for (const target of targets) {
      if (target.health !== 'up') seen.delete(target.instance);
      else seen.set(target.instance, (seen.get(target.instance) ?? new Set()).add(target.lastScrape));
    }
    if (targets.length > 0 && targets.every((target) => (seen.get(target.instance)?.size ?? 0) >= scrapes)) return;
    if (Date.now() > deadline) {
      const states = targets.map((target) => `${target.job} ${target.instance}: ${target.health}${target.lastError === '' ? '' : ` (${target.lastError})`}`);
      throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `targets not scraped ${scrapes} times within ${timeoutMs} ms: ${states.join('; ') || 'no targets'}\n${logTail()}`);
    }
    await sleep(200);
  }
}

async function waitForQuery(client: PrometheusClient, query: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await client.query(query, Date.now() / 1000);
    if (result.series.length > 0) return;
    if (Date.now() > deadline) throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `no series for ${query} within ${timeoutMs} ms`);
    await sleep(250);
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
