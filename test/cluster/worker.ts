/**
 * A node:cluster worker for the cluster-mode tests. Its numbers depend on its
 * worker id, so the merged answer is known exactly. FIXTURE_ROLE:
 *   normal  record, answer the primary, serve the cluster's /metrics on the shared port;
 *   silent  record but never answer the primary (clusterWorker is not called);
 *   crash   exit as soon as the primary asks for a snapshot.
 * Messages from the test: { fixture: 'kpi', event, times } records KPI-like
 * events; { fixture: 'own' } answers with this worker's own exposition.
 * native_latency_seconds is a native histogram whose workers end at different
 * schemas (see nativeValues).
 */
import cluster from 'node:cluster';
import { Registry, registerRuntimeMetrics, serveMetrics } from '../../src/index.js';
import { clusterPrimary, clusterWorker } from '../../src/cluster/index.js';
import { nativeValues } from './native-values.js';

const id = cluster.worker!.id;
const role = process.env['FIXTURE_ROLE'] ?? 'normal';
const registry = new Registry();

const requests = registry.counter({ name: 'http_requests_total', help: 'Requests.', labelNames: ['route', 'status'] });
requests.labels({ route: '/a', status: '200' }).inc(10 * id);
requests.labels({ route: '/b', status: '500' }).inc(id);
if (id % 2 === 0) requests.labels({ route: '/even', status: '200' }).inc(100);
const kpi = registry.counter({ name: 'kpi_events_total', help: 'KPI events.', labelNames: ['event'] });
registry.gauge({ name: 'http_requests_in_flight', help: 'In flight.', labelNames: ['method'] }).labels({ method: 'GET' }).set(id);
const duration = registry.histogram({ name: 'http_request_duration_seconds', help: 'Duration.', unit: 'seconds', labelNames: ['route'], buckets: [0.1, 1] });
for (let index = 0; index < id; index++) duration.labels({ route: '/a' }).observe(0.05);
duration.labels({ route: '/a' }).observe(2);
// Native: worker 1 sees a narrow range (keeps schema 5), the others a range wide enough that 24 buckets force a coarser schema.
const nativeLatency = registry.histogram({ name: 'native_latency_seconds', help: 'Native latency.', unit: 'seconds', native: { schema: 5, maxBuckets: 24 } });
for (const value of nativeValues(id)) nativeLatency.observe(value);
const sizes = registry.summary({ name: 'payload_bytes', help: 'Payload sizes.', percentiles: [0.5, 0.99] });
for (let index = 1; index <= 100; index++) sizes.observe(id * 1000 + index);
registry.info({ name: 'build_info', help: 'Build.', labelNames: ['version'] }).set({ version: id === 1 ? '1.0.0' : '1.1.0' });
registerRuntimeMetrics(registry);
// Label values that need escaping in both formats.
registry.counter({ name: 'tricky_total', help: 'Tricky "label" values\\.', labelNames: ['value'] }).labels({ value: 'q"uote\\ new\nline \u00fc \u2028' }).inc(id);
registry.stateSet({ name: 'model_state', help: 'Model state.', states: ['loading', 'serving'] }).set(id === 1 ? 'loading' : 'serving');

process.on('message', (message: { fixture?: string; event?: string; times?: number; lookout?: string }) => {
  if (role === 'crash' && message.lookout === 'cluster:collect') process.exit(1);
  if (message.fixture === 'kpi') {
    const series = kpi.labels({ event: message.event ?? 'none' });
    for (let index = 0; index < (message.times ?? 1); index++) series.inc();
    process.send!({ fixture: 'kpi-done' });
  }
  if (message.fixture === 'own') void registry.metrics().then((text) => process.send!({ fixture: 'own', text }));
});

/** The error code `start` throws ('' when it does not). */
function codeOf(start: () => unknown): string {
  try {
    start();
    return '';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

let url = '';
const errors: Record<string, string> = { primaryInWorker: codeOf(() => clusterPrimary()) };
if (role !== 'silent') {
  const worker = clusterWorker(registry, { timeoutMs: 10_000 });
  errors['secondWorker'] = codeOf(() => clusterWorker(registry));
  if (process.env['FIXTURE_PORT'] !== undefined) {
    url = (await serveMetrics({ registry: worker.registry, port: Number(process.env['FIXTURE_PORT']) })).url;
  }
}
process.send!({ fixture: 'ready', id, url, errors });
