/**
 * The app the hostile-load suite attacks: Fastify + lookout, with `extra`
 * additional series registered (a big registry to scrape), and a debug route
 * reporting series count and heap after a full GC.
 *   node --expose-gc --import tsx bench/servers/hostile-app.ts <extraSeries>
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { Registry, registerRuntimeMetrics } from '../../src/index.js';
import lookout from '../../src/adapters/fastify.js';

const extra = Number(process.argv[2] ?? 0);
const registry = new Registry({ maxSeriesPerMetric: Math.max(extra, 5000) });
registerRuntimeMetrics(registry);
if (extra > 0) {
  const jobs = registry.counter({ name: 'background_jobs_total', help: 'Jobs by id.', labelNames: ['job', 'queue'] });
  for (let index = 0; index < extra; index++) jobs.labels({ job: `job-${index}`, queue: `q${index % 20}` }).inc(index);
}

const app = Fastify({ logger: false });
await app.register(lookout, { registry, skipPaths: ['/metrics', '/debug/state'] });
app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id, name: 'Ada' }));
app.get('/debug/state', async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  return {
    series: registry.list().reduce((total, metric) => total + metric.seriesCount, 0),
    heapUsed: process.memoryUsage().heapUsed,
    rss: process.memoryUsage().rss,
  };
});
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`READY ${(app.server.address() as AddressInfo).port}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
