/**
 * Run by conformance-abort.test.ts in a child process started with `--expose-gc`:
 * `node --expose-gc --import tsx conformance-abort.fixture.ts <node|hono> <lookout|plain> [end|leave]`.
 * With `end` the node:http handler still calls `res.end()` once the client is gone (a
 * Hono handler always returns its response); with `leave` it never does.
 * A client sends a request and destroys its socket while the handler holds the
 * response open; with no scrape, the request object must then be collectable.
 * Prints one JSON line: `{ "cleared": boolean, "aborted": number | null, "inFlight": number | null }`
 * (null without lookout).
 */
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from '../core/registry.js';
import { listen, sumOf } from '../../test/support/http.js';
import { metrics } from './hono.js';
import { instrument } from './node.js';

const [kind, mode, afterClose] = process.argv.slice(2);
const registry = mode === 'lookout' ? new Registry() : undefined;
const collect = (globalThis as { gc?: () => void }).gc;
if (collect === undefined) throw new Error('run with --expose-gc');

let requestRef: WeakRef<object> | undefined;
/** A promise and its resolve function (Node 20 has no `Promise.withResolvers`). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
const entered = signal();
const closed = signal();

/** Holds the response open until the client has gone away. */
function hold(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  requestRef = new WeakRef(req);
  entered.resolve();
  return new Promise((resolve) => res.once('close', () => {
    closed.resolve();
    resolve();
  }));
}

function build(): http.Server {
  if (kind === 'hono') {
    const app = new Hono<{ Bindings: HttpBindings }>();
    if (registry !== undefined) app.use(metrics({ registry }));
    app.get('/hold', async (c) => {
      await hold(c.env.incoming, c.env.outgoing);
      return c.text('too late');
    });
    return createAdaptorServer({ fetch: app.fetch }) as http.Server;
  }
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => void hold(req, res).then(() => (afterClose === 'end' ? res.end() : undefined));
  return http.createServer(registry === undefined ? listener : instrument(listener, { registry, routes: ['/hold'] }));
}

const bounded = <T>(promise: Promise<T>, what: string) =>
  Promise.race([promise, sleep(5000).then(() => Promise.reject(new Error(`${what}: not within 5 s`)))]);

const server = build();
const port = Number(new URL(await listen(server)).port);
const client = net.connect(port, '127.0.0.1');
client.on('error', () => undefined);
client.write('GET /hold HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
await bounded(entered.promise, 'the handler started');
client.destroy();
await bounded(closed.promise, 'the server saw the client go');

let cleared = false;
for (let attempt = 0; attempt < 10 && !cleared; attempt++) {
  await sleep(20);
  collect();
  cleared = requestRef?.deref() === undefined;
}
// Only now a scrape (which sweeps): the abort must be counted by then at the latest.
const text = registry === undefined ? undefined : await registry.metrics();
const counted = (name: string) => (text === undefined ? null : sumOf(text, name));
console.log(JSON.stringify({ cleared, aborted: counted('http_requests_aborted_total'), inFlight: counted('http_requests_in_flight') }));
server.closeAllConnections();
server.close();
