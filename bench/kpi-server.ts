/**
 * Fastify hello-world `/users/:id` for the KPI benchmark:
 *   tsx bench/kpi-server.ts bare
 *   tsx bench/kpi-server.ts idle    <postgres-url> <schema> <application_name>
 *   tsx bench/kpi-server.ts discard
 *   tsx bench/kpi-server.ts kpi     <postgres-url> <schema> <application_name>
 * - bare: nothing else;
 * - idle: a PostgreSQL KPI recorder is created but the handler records nothing
 *   (the same process footprint as `kpi`: buffers, timers, pool);
 * - discard: one `kpi.record` per request into a store that drops every batch
 *   (it takes rows encoded as `pgStore` does, so the recorder does the same work);
 * - kpi: one `kpi.record` per request into PostgreSQL.
 * Every variant has the same two routes. Prints `READY <port>`; `GET /__kpi`
 * flushes and answers the recorder's stats. Runs until killed.
 */
import Fastify from 'fastify';
import { Registry } from '../src/index.js';
import { createKpi, pgStore, type Kpi, type KpiStore } from '../src/kpi/index.js';

const [variant, pgUrl, schema, applicationName] = process.argv.slice(2);
const discard: KpiStore = { kind: 'discard', rowEncoding: 'pg-copy-binary', open: async () => undefined, write: async () => undefined, close: async () => undefined };
const app = Fastify({ logger: false });
let kpi: Kpi<'good_inference'> | undefined;

if (variant !== 'bare') {
  const store = variant === 'discard' ? discard : pgStore({ connectionString: pgUrl!, schema: schema!, applicationName: applicationName! });
  kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store });
  if (!(await kpi.ready({ deadlineMs: 10_000 }))) throw new Error('KPI store did not open');
}

const recorder = variant === 'discard' || variant === 'kpi' ? kpi : undefined;
if (recorder !== undefined) {
  app.get('/users/:id', async (request) => {
    const { id } = request.params as { id: string };
    recorder.record('good_inference', { user: id, model: 'resnet-50', args: { id, label: 'cat' } });
    return { id, name: 'Ada' };
  });
} else {
  app.get('/users/:id', async (request) => {
    const { id } = request.params as { id: string };
    return { id, name: 'Ada' };
  });
}
app.get('/__kpi', async () => {
  if (kpi === undefined) return {};
  await kpi.flush({ deadlineMs: 30_000 });
  return kpi.stats();
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
console.log(`READY ${typeof address === 'object' && address !== null ? address.port : 0}`);
process.once('SIGTERM', () => {
  void (async () => {
    await kpi?.close({ deadlineMs: 5000 });
    await app.close();
    process.exit(0);
  })();
});
