import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { close, listen, sumOf, waitFor } from '../../test/support/http.js';
import lookoutFastify from './fastify.js';
import { instrument } from './node.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const REQUESTS = 100_000;
const CONCURRENCY = 64;
// Non-standard methods that Node's parser accepts (it answers 400 itself to unknown ones).
const METHODS = ['GET', 'POST', 'PROPFIND', 'MKCOL', 'PURGE', 'DELETE', 'SEARCH', 'UNLOCK'];

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** Sends `count` requests to distinct random URLs with random methods, `CONCURRENCY` at a time over keep-alive. */
async function junkTraffic(base: string, count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const worker = async (): Promise<void> => {
    while (sent < count) {
      const index = sent++;
      const path = `/${randomBytes(6).toString('hex')}/${index}?q=${randomBytes(4).toString('hex')}`;
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${base}${path}`, { agent, method: METHODS[index % METHODS.length] }, (res) => {
          res.resume();
          res.on('end', resolve).on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
}

function seriesCount(registry: Registry): number {
  return registry.list().reduce((total, metric) => total + metric.seriesCount, 0);
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe.each(['node', 'fastify'] as const)('%s: 100,000 requests to random unknown URLs', (framework) => {
  it('leave the series count constant and the heap flat', async () => {
    const registry = new Registry();
    let server: http.Server;
    if (framework === 'node') {
      server = http.createServer(instrument((_req: http.IncomingMessage, res: http.ServerResponse) => {
        res.statusCode = 404;
        res.end();
      }, { registry, routes: ['/users/:id'] }));
    } else {
      const app = Fastify();
      await app.register(lookoutFastify, { registry });
      app.get('/users/:id', async () => 'ok');
      await app.ready();
      server = app.server;
    }
    servers.push(server);
    const base = await listen(server);
    // Warm up: every series the junk can create exists after this.
    await junkTraffic(base, 2_000);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 2_000);
    const seriesBefore = seriesCount(registry);
    const heapBefore = heapUsed();
    await junkTraffic(base, REQUESTS);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') === 2_000 + REQUESTS, 10_000);
    const heapGrowth = heapUsed() - heapBefore;
    const text = await registry.metrics();
    console.log(`${framework}: ${REQUESTS} junk requests, series ${seriesBefore} -> ${seriesCount(registry)}, heap growth ${(heapGrowth / 1e6).toFixed(2)} MB`);
    expect(seriesCount(registry)).toBe(seriesBefore);
    expect(heapGrowth).toBeLessThan(5e6);
    expect(sumOf(text, 'http_requests_total', 'route="__unmatched__"')).toBe(2_000 + REQUESTS);
    expect(text).not.toMatch(/route="\/[0-9a-f]{12}/);
  }, 120_000);
});
