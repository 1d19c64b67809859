import { resolve } from 'node:path';
import { hostStore, readStoreAddress, StoreLockedError } from '../../kpi/store-host.js';
import { parseFlags, usageError, type CliCommand } from '../command.js';

const usage = `Usage: lookout store [--data-dir <dir>] [--port <n>] [--idle-ms <ms>]

Runs the embedded KPI store in the foreground: PGlite in <dir>, served over the PostgreSQL wire
protocol on 127.0.0.1, and prints two connection strings: postgres (everything; pgStore) and the
read-only role lookout_reader (SELECT only; psql, Grafana). Apps that use the same folder
(embeddedStore, the default without DATABASE_URL) join it instead of starting their own. For
Grafana, give a fixed --port and the same port as datasources.postgres.embeddedStore.port to
lookout provision. Stops on Ctrl-C / SIGTERM.

Options:
  --data-dir <dir>   data folder (default: .lookout/pglite)
  --port <n>         TCP port on 127.0.0.1 (default: any free port)
  --idle-ms <ms>     stop once no client has been connected for this long (default: never)
  -h, --help         show this help

Exit codes: 0 stopped, 1 the store could not start (or another process serves the folder), 2 bad usage.`;

const FLAGS = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'idle-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `lookout store`: the embedded KPI store's process, in the foreground.
 *
 * @example
 * ```sh
 * lookout store --data-dir .lookout/pglite --port 5433
 * # postgresql://postgres@127.0.0.1:5433/postgres
 * # postgresql://lookout_reader@127.0.0.1:5433/postgres
 * ```
 */
export const store: CliCommand = {
  name: 'store',
  summary: 'Serve the embedded KPI store (a PGlite folder) over the PostgreSQL protocol.',
  usage,
  async run(argv, io) {
    const { values } = parseFlags(argv, FLAGS, usage);
    const dataDir = resolve(io.cwd, values['data-dir'] ?? '.lookout/pglite');
    const port = integerFlag('--port', values.port, 0, 65_535);
    const idleTimeoutMs = integerFlag('--idle-ms', values['idle-ms'], 0, 2 ** 31 - 1);
    let hosted;
    try {
      hosted = await hostStore({ dataDir, port, idleTimeoutMs });
    } catch (error) {
      if (!(error instanceof StoreLockedError)) throw error;
      const address = readStoreAddress(dataDir);
      io.err(`lookout store: ${dataDir} is already served by process ${error.pid}${address === undefined ? '' : ` at ${address.connectionString}`}`);
      return 1;
    }
    io.out(hosted.address.connectionString);
    io.out(hosted.address.readerConnectionString!);
    io.err(`lookout store: read-only (psql, Grafana): psql ${hosted.address.readerConnectionString!}; for a Grafana datasource: datasources.postgres.embeddedStore.port: ${hosted.address.port} in lookout.config.yaml${port === 0 ? ' (with --port, so that it stays)' : ''}`);
    io.err(`lookout store: serving ${dataDir} (pid ${process.pid}, ready in ${Math.round(hosted.startupMs)} ms); Ctrl-C stops it`);
    const stop = (): void => void hosted.stop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const { reason } = await hosted.stopped;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    io.err(`lookout store: stopped (${reason})`);
    return reason === 'fatal' ? 1 : 0;
  },
};

function integerFlag(name: string, text: string | undefined, min: number, max: number): number {
  if (text === undefined) return min;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw usageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`, usage);
  return value;
}
