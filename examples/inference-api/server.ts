/**
 * Runs the reference inference API as a service (what deploy/compose.yaml starts):
 * `node --import tsx examples/inference-api/server.ts`.
 *
 * Environment: `PORT` (default 8000); `HOST` (default 127.0.0.1, or 0.0.0.0 inside a
 * container so Prometheus can reach it); `DATABASE_URL` (KPI events to PostgreSQL; without it,
 * embedded PGlite in `LOOKOUT_DATA_DIR`, default `.lookout/pglite`); `LOOKOUT_KPI_SCHEMA` (the schema
 * of the events table, default the store's own); `LOOKOUT_FAULTS=1` (fault
 * injection at /faults, loopback only: ./faults.ts); `LOOKOUT_METRICS_TOKEN` or `LOOKOUT_METRICS_TOKEN_FILE`
 * (bearer token required on /metrics). SIGTERM / SIGINT flush the KPI events and exit.
 *
 * @example
 * ```sh
 * PORT=3000 node --import tsx examples/inference-api/server.ts
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { startInferenceApi } from './app.js';

const env = process.env;
const port = Number(env['PORT'] ?? 8000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`inference-api: PORT must be a TCP port, got ${JSON.stringify(env['PORT'])}`);
  process.exit(2);
}
const inContainer = existsSync('/.dockerenv') || existsSync('/run/.containerenv');
const tokenFile = env['LOOKOUT_METRICS_TOKEN_FILE'];
const token = tokenFile !== undefined && tokenFile !== '' ? readFileSync(tokenFile, 'utf8').trim() : env['LOOKOUT_METRICS_TOKEN'];

const api = await startInferenceApi({
  port,
  host: env['HOST'] ?? (inContainer ? '0.0.0.0' : '127.0.0.1'),
  ...(env['LOOKOUT_DATA_DIR'] !== undefined && env['LOOKOUT_DATA_DIR'] !== '' && { dataDir: env['LOOKOUT_DATA_DIR'] }),
  ...(env['LOOKOUT_KPI_SCHEMA'] !== undefined && env['LOOKOUT_KPI_SCHEMA'] !== '' && { schema: env['LOOKOUT_KPI_SCHEMA'] }),
  ...(token !== undefined && token !== '' && { token }),
});
console.log(`inference-api listening on ${api.url} (KPI events: ${api.storeDescription}${token ? '; /metrics needs the bearer token' : ''}${api.faults === undefined ? '' : '; fault injection at /faults'})`);

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return;
  stopping = true;
  console.log(`inference-api: ${signal}, flushing KPI events`);
  api.close().then(
    () => {
      const { written, pending } = api.kpi.stats();
      console.log(`inference-api: stopped (${written} KPI events written, ${pending} unwritten)`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error('inference-api: close failed', error);
      process.exit(1);
    },
  );
};
// `on`, not `once`: under `tsx file.ts` a Ctrl-C arrives twice (from the terminal and relayed by tsx),
// and the copy must not kill the process while it flushes.
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
