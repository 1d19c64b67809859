import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KPI_ERRORS, kpiError } from './errors.js';
import { readStoreAddress, storeOwner, STORE_LOG_FILE, type StoreAddress } from './store-host.js';

/**
 * Options of `joinStore`.
 *
 * @example
 * ```ts
 * const options: JoinStoreOptions = { dataDir: '.lookout/pglite', startTimeoutMs: 60_000, idleTimeoutMs: 60_000 };
 * ```
 */
export interface JoinStoreOptions {
  readonly dataDir: string;
  /** Give up when no store process answers within this long (default 60,000 ms: a fresh folder's initdb takes seconds). */
  readonly startTimeoutMs?: number;
  /** A store process started here stops once no client has been connected for this long (default 60,000 ms). */
  readonly idleTimeoutMs?: number;
  /** A store process started here listens on this port of 127.0.0.1 (default 0: any free one). One already running keeps its own. */
  readonly port?: number;
}

const LOCKED = 3;

/**
 * Joins the store process serving `dataDir`, or starts one (detached, so that it outlives
 * this process while others use it) and waits until it listens. Every process that joins the
 * same folder gets the same address. Rejects with `LOOKOUT_E_KPI_STORE_START` (the store's
 * own message in it) when the store cannot start, or when none answers in `startTimeoutMs`.
 *
 * @example
 * ```ts
 * const { connectionString } = await joinStore({ dataDir: '.lookout/pglite' });
 * ```
 */
export async function joinStore(options: JoinStoreOptions): Promise<StoreAddress> {
  const { dataDir } = options;
  const deadline = performance.now() + (options.startTimeoutMs ?? 60_000);
  let child: ChildProcess | undefined;
  let exit: { code: number | null } | undefined;
  for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
    const address = readStoreAddress(dataDir);
    if (address !== undefined && (await reachable(address))) return address;
    if (exit !== undefined && exit.code !== LOCKED && storeOwner(dataDir) === undefined) {
      throw kpiError(KPI_ERRORS.storeStart, `the embedded KPI store process for ${dataDir} exited with code ${String(exit.code)}: ${logTail(dataDir)}`);
    }
    if ((child === undefined || exit !== undefined) && storeOwner(dataDir) === undefined) {
      exit = undefined;
      child = startStoreProcess(dataDir, options.idleTimeoutMs ?? 60_000, options.port ?? 0);
      const started = child;
      started.once('exit', (code) => {
        if (child === started) exit = { code };
      });
      started.once('error', () => {
        if (child === started) exit = { code: null };
      });
    }
    if (performance.now() > deadline) {
      throw kpiError(KPI_ERRORS.storeStart, `no embedded KPI store process answered for ${dataDir} within ${options.startTimeoutMs ?? 60_000} ms${storeOwner(dataDir) === undefined ? '' : ` (process ${storeOwner(dataDir)!} holds its lock)`}: ${logTail(dataDir)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/**
 * Starts a store process for `dataDir`, detached, its output appended to
 * `lookout-store.log` in the folder. From the sources (`.ts`), it runs through tsx.
 *
 * @example
 * ```ts
 * const child = startStoreProcess('.lookout/pglite', 60_000);
 * ```
 */
export function startStoreProcess(dataDir: string, idleTimeoutMs: number, port = 0): ChildProcess {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw kpiError(KPI_ERRORS.storeStart, `cannot create the embedded store's data folder ${dataDir}: ${(error as Error).message}`, error);
  }
  if (!statSync(dataDir).isDirectory()) throw kpiError(KPI_ERRORS.storeStart, `the embedded store's data folder ${dataDir} is not a folder`);
  const fromSources = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(fromSources ? './store-main.ts' : './store-main.js', import.meta.url));
  const loader = fromSources ? ['--import', import.meta.resolve('tsx')] : [];
  const log = openSync(join(dataDir, STORE_LOG_FILE), 'a');
  try {
    const child = spawn(process.execPath, [...loader, entry, '--data-dir', dataDir, '--idle-ms', String(idleTimeoutMs), '--port', String(port)], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

function reachable(address: StoreAddress): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(address.port, address.host);
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function logTail(dataDir: string): string {
  try {
    const lines = readFileSync(join(dataDir, STORE_LOG_FILE), 'utf8').trim().split('\n');
    return lines.slice(-3).join(' | ') || '(its log is empty)';
  } catch {
    return '(no log)';
  }
}
