import { mkdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as PgliteModule from '@electric-sql/pglite';
import { importOptional } from '../core/optional.js';
import { KPI_ERRORS, kpiError } from './errors.js';
import { readerRoleStatements, storeConnectionString, STORE_USERS } from './store-roles.js';
import { serveWire, type PgliteWireLike, type WireServer } from './store-server.js';

/** The lock file in the data folder: the pid of the store process serving it. */
export const STORE_LOCK_FILE = 'lookout-store.pid';
/** Where the store process says how to reach it (`StoreAddress` as JSON), once it listens. */
export const STORE_PORT_FILE = 'lookout-store.json';
const FIRST_CLIENT_GRACE_MS = 10_000;
/** Below this, a failed start is put down to a full disk (PostgreSQL's next WAL segment needs 16 MiB). */
const LOW_SPACE_BYTES = 32 * 2 ** 20;

/** The store process's own output (start-up errors included). */
export const STORE_LOG_FILE = 'lookout-store.log';

/**
 * How to reach a running store process, as its port file holds it.
 *
 * @example
 * ```ts
 * const address: StoreAddress = {
 *   pid: 4242, host: '127.0.0.1', port: 54012,
 *   connectionString: 'postgresql://postgres@127.0.0.1:54012/postgres',
 *   readerConnectionString: 'postgresql://lookout_reader@127.0.0.1:54012/postgres',
 * };
 * ```
 */
export interface StoreAddress {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** As `postgres`, who may do everything (the API's writer). */
  readonly connectionString: string;
  /** As the read-only role `lookout_reader`: SELECT only (Grafana, psql). Absent in a port file of an older version. */
  readonly readerConnectionString?: string;
}

/**
 * Options of `hostStore`.
 *
 * @example
 * ```ts
 * const options: HostStoreOptions = { dataDir: '.lookout/pglite', idleTimeoutMs: 60_000 };
 * ```
 */
export interface HostStoreOptions {
  readonly dataDir: string;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0: any free port (written to the port file). */
  readonly port?: number;
  /** Stop once no client has been connected for this long (0, the default: never). */
  readonly idleTimeoutMs?: number;
}

/**
 * A store process's server (see `hostStore`).
 *
 * @example
 * ```ts
 * const store = await hostStore({ dataDir });
 * console.log(store.address.connectionString);
 * await store.stopped;
 * ```
 */
export interface HostedStore {
  readonly address: StoreAddress;
  /** Resolves once the store has stopped (idle timeout, `stop()`, or a broken backend: then `reason` says so). */
  readonly stopped: Promise<{ readonly reason: 'idle' | 'stopped' | 'fatal' }>;
  /** Milliseconds from the call to listening (PGlite start-up included). */
  readonly startupMs: number;
  stop(): Promise<void>;
}

/**
 * Thrown by `hostStore` when another live process holds the folder's lock: join it instead.
 *
 * @example
 * ```ts
 * try { await hostStore({ dataDir }); } catch (error) { if (error instanceof StoreLockedError) console.log(error.pid); }
 * ```
 */
export class StoreLockedError extends Error {
  constructor(readonly pid: number, dataDir: string) {
    super(`${dataDir} is served by store process ${pid}`);
  }
}

/**
 * Serves a PGlite data folder over the PostgreSQL wire protocol, for the embedded KPI store:
 * takes the folder's lock (`lookout-store.pid`; a lock whose process is gone is taken over),
 * opens PGlite, listens on loopback, then writes the port file (`lookout-store.json`) that
 * clients join through. On stop, both files are removed and PGlite is closed.
 *
 * @example
 * ```ts
 * const store = await hostStore({ dataDir: '.lookout/pglite', idleTimeoutMs: 60_000 });
 * console.log(store.address.connectionString);
 * ```
 */
export async function hostStore(options: HostStoreOptions): Promise<HostedStore> {
  const started = performance.now();
  const { dataDir } = options;
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw kpiError(KPI_ERRORS.storeStart, `cannot create the embedded store's data folder ${dataDir}: ${(error as Error).message}`, error);
  }
  if (!statSync(dataDir).isDirectory()) throw kpiError(KPI_ERRORS.storeStart, `the embedded store's data folder ${dataDir} is not a folder`);
  const unlock = claimLock(dataDir);
  let db: PgliteWireLike | undefined;
  let server: WireServer | undefined;
  try {
    const { PGlite } = await importOptional<typeof PgliteModule>('embeddedStore', '@electric-sql/pglite');
    try {
      db = (await PGlite.create({ dataDir })) as unknown as PgliteWireLike;
    } catch (error) {
      const free = freeBytes(dataDir);
      const why = free !== undefined && free < LOW_SPACE_BYTES
        ? `its disk is full (${Math.round(free / 1024)} KiB free): free space there and it starts again`
        : 'a folder written by another PostgreSQL or PGlite version, or not a data folder?';
      throw kpiError(KPI_ERRORS.storeStart, `PGlite could not open ${dataDir} (${why}): ${(error as Error).message}`, error);
    }
    try {
      await db.exec(readerRoleStatements(STORE_USERS.reader).join(';\n'));
    } catch (error) {
      throw kpiError(KPI_ERRORS.storeStart, `could not set up the read-only role ${STORE_USERS.reader} in ${dataDir}: ${(error as Error).message}`, error);
    }
    let finish: (reason: 'idle' | 'stopped' | 'fatal') => void = () => {};
    const stopped = new Promise<{ reason: 'idle' | 'stopped' | 'fatal' }>((resolve) => {
      finish = (reason) => resolve({ reason });
    });
    let stopping: Promise<void> | undefined;
    const stop = (reason: 'idle' | 'stopped' | 'fatal'): Promise<void> => {
      stopping ??= (async () => {
        clearTimeout(idle);
        rmSync(join(dataDir, STORE_PORT_FILE), { force: true });
        await server?.close();
        // A broken backend is not closed: PGlite's close runs a checkpoint on it, which would
        // spin. The folder is left as after a crash; the next store process recovers it.
        if (reason !== 'fatal') await db?.close().catch(() => undefined);
        unlock();
        finish(reason);
      })();
      return stopping;
    };
    server = await serveWire(db, {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      onFatal: (error) => {
        console.error(`${new Date().toISOString()} lookout store ${process.pid}: PGlite's backend broke (${error instanceof Error ? error.message : String(error)}); stopping, the next client starts a new store process`);
        void stop('fatal');
      },
    });
    const idleTimeoutMs = options.idleTimeoutMs ?? 0;
    let idle: NodeJS.Timeout | undefined;
    // The client that started it probes the port, then connects: on a loaded machine that takes
    // longer than a short idle timeout, so it never stops in its first 10 s.
    const graceUntil = performance.now() + FIRST_CLIENT_GRACE_MS;
    const watch = (count: number): void => {
      clearTimeout(idle);
      if (count === 0 && idleTimeoutMs > 0) idle = setTimeout(() => void stop('idle'), Math.max(idleTimeoutMs, graceUntil - performance.now()));
    };
    server.onConnections = watch;
    watch(0);
    const address: StoreAddress = {
      pid: process.pid,
      host: server.host,
      port: server.port,
      connectionString: storeConnectionString(server.host, server.port, STORE_USERS.owner),
      readerConnectionString: storeConnectionString(server.host, server.port, STORE_USERS.reader),
    };
    const portFile = join(dataDir, STORE_PORT_FILE);
    writeFileSync(`${portFile}.${process.pid}`, `${JSON.stringify(address)}\n`);
    renameSync(`${portFile}.${process.pid}`, portFile);
    return { address, stopped, startupMs: performance.now() - started, stop: () => stop('stopped') };
  } catch (error) {
    await server?.close();
    await db?.close().catch(() => undefined);
    unlock();
    throw error;
  }
}

/**
 * The pid of the live store process holding `dataDir`'s lock, if any. A pid that is gone,
 * or (where /proc tells) belongs to another program, does not count: its lock is stale.
 *
 * @example
 * ```ts
 * if (storeOwner(dataDir) === undefined) startOne();
 * ```
 */
export function storeOwner(dataDir: string): number | undefined {
  const pid = readPid(join(dataDir, STORE_LOCK_FILE));
  return pid !== undefined && isStoreProcess(pid) ? pid : undefined;
}

/**
 * The port file's address if its process is a live store process.
 *
 * @example
 * ```ts
 * const address = readStoreAddress('.lookout/pglite');
 * ```
 */
export function readStoreAddress(dataDir: string): StoreAddress | undefined {
  try {
    const address = JSON.parse(readFileSync(join(dataDir, STORE_PORT_FILE), 'utf8')) as StoreAddress;
    return Number.isInteger(address.pid) && Number.isInteger(address.port) && isStoreProcess(address.pid) ? address : undefined;
  } catch {
    return undefined;
  }
}

function claimLock(dataDir: string): () => void {
  const lockFile = join(dataDir, STORE_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        if (readPid(lockFile) === process.pid) rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw kpiError(KPI_ERRORS.storeStart, `cannot write the lock file ${lockFile}: ${(error as Error).message}`, error);
      const owner = readPid(lockFile);
      if (owner !== undefined && owner !== process.pid && isStoreProcess(owner)) throw new StoreLockedError(owner, dataDir);
      // Left by a store process that is gone (killed, machine restarted): taken over.
      rmSync(lockFile, { force: true });
      rmSync(join(dataDir, STORE_PORT_FILE), { force: true });
    }
  }
  throw kpiError(KPI_ERRORS.storeStart, `could not take the lock file ${lockFile}`);
}

function freeBytes(dataDir: string): number | undefined {
  try {
    const stats = statfsSync(dataDir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive, and (where /proc exists) a store process: a reused pid of another program is not one. */
function isStoreProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return pid === process.pid || args.includes('store') || args.some((arg) => /store-main\.[jt]s$/.test(arg));
  } catch {
    return true; // no /proc (macOS): alive is all we can tell
  }
}
