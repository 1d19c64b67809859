/**
 * The conformance suite of issue 23: each framework's app is built the way its
 * own documentation builds it, twice (with and without lookout), the same
 * requests go to both, and the answers and the metrics are compared.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Registry } from '../core/registry.js';
import { close, samples, sumOf, waitFor } from '../../test/support/http.js';

/** One request of the traffic, and the route label lookout must give it. */
export interface Call {
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** The route template of the app that answers it, or `__unmatched__` for a real 404. */
  readonly route: string;
}

/** What a client saw: status, the headers the app set, body. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** An app being served (or injected into), and how to send it a request. */
export interface Target {
  send(call: Call): Promise<Answer>;
  close(): Promise<void>;
}

/** Builds the app with lookout attached to `registry`, or without lookout when it is undefined. */
export type Build = (registry: Registry | undefined) => Promise<Target>;

export const UNMATCHED = '__unmatched__';

/** Headers that differ between two runs of the same app whatever lookout does. */
const IGNORED_HEADERS = new Set(['date', 'connection', 'keep-alive']);

/** The headers of an answer without the ignored ones, names lowercased, repeated values joined. */
export function appHeaders(headers: Iterable<[string, string | string[] | number | undefined]>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (IGNORED_HEADERS.has(key) || key.startsWith(':') || value === undefined) continue;
    kept[key] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return kept;
}

/** A fetch-API Response as an Answer (Hono's `app.request()` and `app.fetch()`). */
export async function answerOf(response: Response): Promise<Answer> {
  return { status: response.status, headers: appHeaders(response.headers.entries()), body: await response.text() };
}

/** A fetch-API Request for a call (what Hono's `app.fetch()` takes). */
export function requestOf(call: Call): Request {
  return new Request(`http://localhost${call.path}`, { method: call.method, headers: { ...call.headers }, ...(call.body !== undefined && { body: call.body }) });
}

/** Sends `call` through node's HTTP/1.1 client (`https` for a TLS server, certificate not checked). */
function sendHttp1(base: string, call: Call): Promise<Answer> {
  const client = base.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(`${base}${call.path}`, { method: call.method, headers: { ...call.headers }, agent: false, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: appHeaders(Object.entries(res.headers)), body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${call.method} ${call.path}: no answer within 5 s`)));
    request.on('error', reject);
    request.end(call.body);
  });
}

/** Sends `call` as one stream of an HTTP/2 session. */
function sendHttp2(session: http2.ClientHttp2Session, call: Call): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': call.method, ':path': call.path, ...call.headers });
    stream.setTimeout(5000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    let status = 0;
    let headers: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (received) => {
      status = Number(received[':status']);
      headers = appHeaders(Object.entries(received));
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString() }));
    stream.on('close', () => {
      if (status === 0) reject(new Error(`${call.method} ${call.path}: HTTP/2 stream closed without an answer`));
    });
    stream.on('error', reject);
    stream.end(call.body);
  });
}

/** Listens on an ephemeral loopback port (any node server: http, https, http2). */
export async function listenAny(server: NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

type AnyServer = http.Server | https.Server | http2.Http2Server | http2.Http2SecureServer;

/**
 * How the client speaks to a server: `http1.1` plain, `https1.1` HTTP/1.1 over TLS
 * (to an HTTP/2 server with `allowHTTP1`), `h2c` cleartext HTTP/2, `h2` HTTP/2 over TLS.
 */
export type Protocol = 'http1.1' | 'https1.1' | 'h2c' | 'h2';

/** A target that sends to `port` over `protocol`; `closeServer` runs (bounded to 3 s) after the client is gone. */
export function clientTarget(port: number, protocol: Protocol, closeServer: () => Promise<unknown>): Target {
  const closeBounded = () => Promise.race([closeServer(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]).then(() => undefined);
  if (protocol === 'http1.1' || protocol === 'https1.1') {
    const base = `${protocol === 'http1.1' ? 'http' : 'https'}://127.0.0.1:${port}`;
    return { send: (call) => sendHttp1(base, call), close: closeBounded };
  }
  const client = http2.connect(`${protocol === 'h2' ? 'https' : 'http'}://127.0.0.1:${port}`, { rejectUnauthorized: false });
  client.on('error', () => undefined);
  return {
    send: (call) => sendHttp2(client, call),
    close: () => {
      client.destroy();
      return closeBounded();
    },
  };
}

/** A node server (http, or http2 with its compat API) listening on loopback, as a target. */
export async function serverTarget(server: AnyServer, protocol: Protocol): Promise<Target> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  const port = await listenAny(server);
  return clientTarget(port, protocol, () => {
    for (const session of sessions) session.destroy();
    if (server instanceof http.Server) return close(server);
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** A throwaway self-signed certificate for 127.0.0.1 (openssl), or undefined when openssl is missing. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const folder = mkdtempSync(join(tmpdir(), 'lookout-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', join(folder, 'key.pem'), '-out', join(folder, 'cert.pem')], { stdio: 'ignore', timeout: 10_000 });
    return { key: readFileSync(join(folder, 'key.pem')), cert: readFileSync(join(folder, 'cert.pem')) };
  } catch (error) {
    console.warn(`SKIPPING the TLS (HTTP/2 with allowHTTP1) conformance tests: openssl could not make a certificate (${String(error)})`);
    return undefined;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** `method route status` → count, from the `http_requests_total` samples of a scrape. */
export function requestCounts(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [series, value] of samples(text)) {
    if (!series.startsWith('http_requests_total{') || value === 0) continue;
    const label = (name: string) => new RegExp(`[{,]${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(series)?.[1] ?? '';
    const key = `${label('method')} ${label('route')} ${label('status')}`;
    counts[key] = (counts[key] ?? 0) + value;
  }
  return counts;
}

/** Metrics text once `expected` requests are counted, or after `timeoutMs` (whatever was counted by then). */
export async function settled(registry: Registry, expected: number, timeoutMs = 2000): Promise<string> {
  await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_total') >= expected, timeoutMs).catch(() => undefined);
  return registry.metrics();
}

/**
 * Sends `calls` in turn to the app built without lookout and with it, then checks:
 * the answers are the same; each request is counted once, under its route
 * template (`__unmatched__` only for real 404s); nothing stays in flight.
 */
export async function checkConformance(build: Build, calls: readonly Call[]): Promise<void> {
  const registry = new Registry();
  const plain = await build(undefined);
  const instrumented = await build(registry).catch(async (error: unknown) => {
    await plain.close();
    throw error;
  });
  try {
    const without: (Answer & { call: string })[] = [];
    const withLookout: (Answer & { call: string })[] = [];
    const expected: Record<string, number> = {};
    for (const call of calls) {
      const name = `${call.method} ${call.path}`;
      without.push({ call: name, ...(await plain.send(call)) });
      const answer = await instrumented.send(call);
      withLookout.push({ call: name, ...answer });
      const key = `${call.method} ${call.route} ${answer.status}`;
      expected[key] = (expected[key] ?? 0) + 1;
    }
    expect.soft(withLookout, 'answers with lookout = answers without').toEqual(without);
    const text = await settled(registry, calls.length);
    expect.soft(requestCounts(text), 'http_requests_total by "method route status"').toEqual(expected);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_in_flight') === 0, 1000).catch(() => undefined);
    expect.soft(sumOf(await registry.metrics(), 'http_requests_in_flight'), 'http_requests_in_flight after the requests ended').toBe(0);
  } finally {
    await Promise.all([plain.close(), instrumented.close()]);
  }
}
