/**
 * Issue 23, node:http and node:http2 (compat API): one listener, wrapped with
 * `instrument()`, must get the same answers and exact counts on each protocol.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { describe, it } from 'vitest';
import type { Registry } from '../core/registry.js';
import { checkConformance, selfSignedCertificate, serverTarget, UNMATCHED, type Build, type Call } from './conformance.test-support.js';
import { instrument } from './node.js';

type Listener = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void;

/** A listener as node's documentation writes one: no router, a switch on the URL. */
const listener: Listener = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname.startsWith('/users/')) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: url.pathname.slice('/users/'.length) }));
  } else if (req.method === 'POST' && url.pathname === '/echo') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => res.writeHead(201, { 'content-type': 'text/plain', 'x-echo': 'yes' }).end(body));
  } else if (url.pathname === '/health') {
    res.end('ok');
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
};

const ROUTES = ['/users/:id', '/echo', '/health'];
const NODE_CALLS: readonly Call[] = [
  { method: 'GET', path: '/users/7?full=1', route: '/users/:id' },
  { method: 'POST', path: '/echo', headers: { 'content-type': 'text/plain' }, body: 'hello', route: '/echo' },
  { method: 'GET', path: '/health', route: '/health' },
  { method: 'GET', path: '/no/such/page', route: UNMATCHED },
];

/** The listener, wrapped by lookout when there is a registry. */
const handlerFor = (registry: Registry | undefined): Listener => (registry === undefined ? listener : (instrument(listener as never, { registry, routes: ROUTES }) as Listener));

const certificate = selfSignedCertificate();

describe('node:http and node:http2, documented servers', () => {
  const http1: Build = async (registry) => serverTarget(http.createServer(handlerFor(registry) as never), 'http1.1');
  const h2c: Build = async (registry) => serverTarget(http2.createServer(handlerFor(registry) as never), 'h2c');

  it('http.createServer(instrument(listener))', async () => {
    await checkConformance(http1, NODE_CALLS);
  });

  it('http2.createServer(instrument(listener)) (compat API, cleartext HTTP/2)', async () => {
    await checkConformance(h2c, NODE_CALLS);
  });

  describe.skipIf(certificate === undefined).each(['h2', 'https1.1'] as const)('http2.createSecureServer({ allowHTTP1: true }, instrument(listener)), client speaking %s', (protocol) => {
    it('same answers, exact counts, nothing left in flight', async () => {
      await checkConformance(async (registry) => serverTarget(http2.createSecureServer({ ...certificate, allowHTTP1: true }, handlerFor(registry) as never), protocol), NODE_CALLS);
    });
  });

  it('issue 23 #3: http2.createServer(instrument(handler)) counts requests and leaves nothing in flight', async () => {
    await checkConformance(h2c, [{ method: 'GET', path: '/users/1', route: '/users/:id' }]);
  });
});
