/**
 * `npm run demo`: a small instrumented Fastify API with lookout, some
 * loopback traffic against it, and the /metrics URL to look at.
 * Ctrl-C stops it. `--once` serves a burst of traffic, prints a summary and exits.
 */
import Fastify from 'fastify';
import { Registry, registerRuntimeMetrics } from '../src/index.js';
import lookout from '../src/adapters/fastify.js';

const once = process.argv.includes('--once');
const port = Number(process.env['PORT'] ?? 3000);

const registry = new Registry({ defaultLabels: { service: 'lookout-demo' } });
registerRuntimeMetrics(registry);
const predictions = registry.counter({ name: 'demo_predictions_total', help: 'Predictions served, by outcome.', labelNames: ['outcome'] });

const app = Fastify();
await app.register(lookout, { registry });
app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id, name: 'Ada' }));
app.post('/predict', async () => {
  const score = Math.random();
  await new Promise((resolve) => setTimeout(resolve, score * 50));
  if (score > 0.9) throw new Error('model unavailable');
  predictions.labels({ outcome: score > 0.5 ? 'positive' : 'negative' }).inc();
  return { score };
});

let address: string;
try {
  address = await app.listen({ port, host: '127.0.0.1' });
} catch {
  address = await app.listen({ port: 0, host: '127.0.0.1' });
}

/** Bounded loopback traffic: a few requests per tick, for at most `seconds`. */
async function traffic(seconds: number): Promise<number> {
  const until = Date.now() + seconds * 1000;
  let sent = 0;
  while (Date.now() < until) {
    const calls = [
      fetch(`${address}/users/${Math.floor(Math.random() * 100)}`),
      fetch(`${address}/predict`, { method: 'POST' }),
      fetch(`${address}/scanner/${Math.random().toString(36).slice(2)}`),
    ];
    await Promise.all(calls.map((call) => call.then((response) => response.arrayBuffer()).catch(() => undefined)));
    sent += calls.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sent;
}

console.log(`lookout demo API on ${address}`);
console.log(`metrics:  ${address}/metrics   (try: curl -s ${address}/metrics | grep http_requests_total)`);
if (once) {
  const sent = await traffic(2);
  const text = await (await fetch(`${address}/metrics`)).text();
  console.log(`sent ${sent} requests; http_requests_total series:`);
  console.log(text.split('\n').filter((line) => line.startsWith('http_requests_total')).join('\n'));
  await app.close();
} else {
  console.log('sending a little traffic every few seconds; Ctrl-C to stop');
  const loop = setInterval(() => void traffic(1), 5000);
  void traffic(1);
  const stop = async (): Promise<void> => {
    clearInterval(loop);
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
