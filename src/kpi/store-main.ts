/**
 * Entry point of the embedded KPI store process, started detached by `embeddedStore` (see
 * `startStoreProcess`): `node store-main.js --data-dir <dir> --idle-ms <ms> [--port <n>]`. Exit codes: 0 once
 * stopped (idle or SIGTERM/SIGINT), 3 when another store process already serves the folder,
 * 1 on a start-up failure (its message on stderr, which goes to `lookout-store.log`), 70 when
 * PGlite broke while serving (clients start a new one).
 *
 * @example
 * ```ts
 * // node dist/kpi/store-main.js --data-dir .lookout/pglite --idle-ms 60000
 * ```
 */
import { parseArgs } from 'node:util';
import { hostStore, StoreLockedError } from './store-host.js';

const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, 'idle-ms': { type: 'string' }, port: { type: 'string' } }, strict: true });
const dataDir = values['data-dir'];
if (dataDir === undefined) {
  console.error('store-main: --data-dir is required');
  process.exit(2);
}
try {
  const store = await hostStore({ dataDir, idleTimeoutMs: Number(values['idle-ms'] ?? 60_000), port: Number(values.port ?? 0) });
  console.error(`${new Date().toISOString()} lookout store ${process.pid} serving ${dataDir} at ${store.address.connectionString} (ready in ${Math.round(store.startupMs)} ms)`);
  const stop = (): void => void store.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const { reason } = await store.stopped;
  console.error(`${new Date().toISOString()} lookout store ${process.pid} stopped (${reason})`);
  process.exit(reason === 'fatal' ? 70 : 0);
} catch (error) {
  if (error instanceof StoreLockedError) process.exit(3);
  console.error(`${new Date().toISOString()} lookout store ${process.pid} failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
