/**
 * The soak test's API: Fastify + lookout + a KPI event per request into
 * PostgreSQL (through the connection string given), a debug route with the
 * figures the soak watches, and a close route that flushes KPI events.
 *   node --expose-gc --import tsx bench/servers/soak-app.ts <databaseUrl> <schema>
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { Registry, registerRuntimeMetrics } from '../../src/index.js';
import lookout from '../../src/adapters/fastify.js';
import { createKpi, pgStore, trackConnections } from '../../src/kpi/index.js';

const [databaseUrl, schema] = process.argv.slice(2) as [string, string];
const registry = new Registry();
registerRuntimeMetrics(registry);
const kpi = createKpi({
  registry,
  events: ['api_call'],
  store: pgStore({ connectionString: databaseUrl, schema, connectTimeoutMs: 1000 }),
  retry: { minDelayMs: 50, maxDelayMs: 1000 },
  // Sized for the outage: ~16k events/s at full load × several seconds without a database.
  bufferSize: 500_000,
});
const app = Fastify({ logger: false });
await app.register(lookout, { registry, skipPaths: ['/metrics', '/debug/state', '/debug/close'] });
trackConnections(app.server, registry);
let calls = 0;
app.get('/users/:id', async (request) => {
  const id = (request.params as { id: string }).id;
  kpi.record('api_call', { user: `u-${Number(id) % 50}`, model: 'mlp', args: { id, n: ++calls } });
  return { id, name: 'Ada' };
});
app.get('/debug/state', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return {
    series: registry.list().reduce((total, metric) => total + metric.seriesCount, 0),
    seriesByMetric: Object.fromEntries(registry.list().map((metric) => [metric.name, metric.seriesCount])),
    rss: process.memoryUsage().rss,
    heapUsed: process.memoryUsage().heapUsed,
    kpi: kpi.stats(),
  };
});
app.post('/debug/close', async () => ({ flushed: await kpi.close({ deadlineMs: 60_000 }), kpi: kpi.stats() }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`READY ${(app.server.address() as AddressInfo).port}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
