import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once, type EventEmitter } from 'node:events';
import { pipeline, type Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { LookoutError } from '../core/errors.js';
import { acceptsGzip, contentType, negotiateScrapeFormat } from '../core/exposition.js';
import type { Counter } from '../core/counter.js';
import type { Histogram } from '../core/histogram.js';
import type { Registry } from '../core/registry.js';
import { pathOf } from './methods.js';

/**
 * Options of the `/metrics` endpoint.
 *
 * @example
 * ```ts
 * const options: MetricsEndpointOptions = { registry, token: process.env.METRICS_TOKEN };
 * ```
 */
export interface MetricsEndpointOptions {
  readonly registry: Registry;
  /** When set, requests need `Authorization: Bearer <token>` (401 otherwise). */
  readonly token?: string | undefined;
  /** Compress when the scraper accepts gzip (default true). */
  readonly gzip?: boolean;
}

interface ScrapeMetrics {
  duration: Histogram<'format'>;
  errors: Counter;
}

const scrapeMetrics = new WeakMap<Registry, ScrapeMetrics>();

function scrapeMetricsOf(registry: Registry): ScrapeMetrics {
  let metrics = scrapeMetrics.get(registry);
  if (metrics === undefined) {
    metrics = {
      duration: registry.histogram({
        name: 'lookout_render_duration_seconds',
        help: 'Time to render and send one /metrics answer, in seconds.',
        unit: 'seconds',
        labelNames: ['format'],
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      }),
      errors: registry.counter({ name: 'lookout_scrape_errors_total', help: '/metrics answers that failed while rendering or sending.' }),
    };
    scrapeMetrics.set(registry, metrics);
  }
  return metrics;
}

/**
 * A constant-time bearer-token check (the token's length is not leaked either:
 * both sides are hashed first).
 *
 * @example
 * ```ts
 * const allowed = bearerChecker('s3cret');
 * allowed('Bearer s3cret'); // true
 * ```
 */
export function bearerChecker(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  if (typeof token !== 'string' || token === '') throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'token must be a non-empty string');
  const expected = createHash('sha256').update(`Bearer ${token}`).digest();
  return (authorization) => {
    const given = createHash('sha256').update(authorization ?? '').digest();
    return timingSafeEqual(given, expected);
  };
}

/** What a scrape request carries that matters to the answer. */
export interface MetricsRequest {
  readonly method: string | undefined;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
  readonly acceptEncoding: string | undefined;
}

/** The answer to a scrape: status, headers, and an uncompressed body to stream. */
export interface MetricsAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Chunks of exposition text or protobuf bytes (compress them when `gzip`), or a short fixed text. */
  readonly body: AsyncIterable<string | Uint8Array> | string;
  readonly gzip: boolean;
}

/**
 * The framework-neutral part of the endpoint: bearer check, method check,
 * content negotiation. Each adapter writes the answer its own way.
 *
 * @example
 * ```ts
 * const respond = createMetricsResponder({ registry });
 * const answer = respond({ method: 'GET', authorization: undefined, accept: undefined, acceptEncoding: undefined });
 * ```
 */
export function createMetricsResponder(options: MetricsEndpointOptions): (request: MetricsRequest) => MetricsAnswer {
  const { registry } = options;
  const authorized = bearerChecker(options.token);
  const gzipAllowed = options.gzip ?? true;
  const self = scrapeMetricsOf(registry);
  const plain = { 'content-type': 'text/plain; charset=utf-8' };
  return (request) => {
    if (!authorized(request.authorization)) {
      return { status: 401, headers: { ...plain, 'www-authenticate': 'Bearer realm="metrics"' }, body: 'unauthorized\n', gzip: false };
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { ...plain, allow: 'GET, HEAD' }, body: 'method not allowed\n', gzip: false };
    }
    const format = negotiateScrapeFormat(request.accept, registry.protobufCapable);
    const gzip = gzipAllowed && acceptsGzip(request.acceptEncoding);
    const headers: Record<string, string> = { 'content-type': contentType(format), vary: 'Accept, Accept-Encoding', 'cache-control': 'no-store' };
    if (gzip) headers['content-encoding'] = 'gzip';
    const chunks: AsyncGenerator<string | Uint8Array> = format === 'protobuf' ? registry.renderProtobuf() : registry.render(format);
    const body = request.method === 'HEAD' ? '' : timed(chunks, (seconds) => self.duration.labels({ format }).observe(seconds), () => self.errors.inc());
    return { status: 200, headers, body, gzip: gzip && request.method !== 'HEAD' };
  };
}

async function* timed<T>(chunks: AsyncGenerator<T>, onDone: (seconds: number) => void, onError: () => void): AsyncGenerator<T> {
  const started = performance.now();
  try {
    yield* chunks;
    onDone((performance.now() - started) / 1000);
  } catch (error) {
    onError();
    throw error;
  }
}

/**
 * A node `(req, res)` handler that serves the registry: content negotiation
 * (text 0.0.4, OpenMetrics 1.0.0 or protobuf), gzip, bearer token, streaming with
 * backpressure so a slow scraper holds neither memory nor the event loop.
 *
 * @example
 * ```ts
 * const handler = createMetricsHandler({ registry });
 * http.createServer((req, res) => req.url === '/metrics' ? handler(req, res) : app(req, res));
 * ```
 */
export function createMetricsHandler(options: MetricsEndpointOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const respond = createMetricsResponder(options);
  return async (req, res) => {
    const answer = respond({
      method: req.method,
      authorization: req.headers.authorization,
      accept: req.headers.accept,
      acceptEncoding: headerText(req.headers['accept-encoding']),
    });
    try {
      await writeAnswer(answer, res);
    } catch {
      // Already counted in lookout_scrape_errors_total; the scraper sees a 500 or a cut answer.
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics rendering failed\n');
      } else {
        res.destroy();
      }
    }
  };
}

async function writeAnswer(answer: MetricsAnswer, res: ServerResponse): Promise<void> {
  if (typeof answer.body === 'string') {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
    return;
  }
  const iterator = answer.body[Symbol.asyncIterator]();
  // Render the first chunk before the status line, so a failure can still be a 500.
  let next = await iterator.next();
  res.writeHead(answer.status, answer.headers);
  let sink: Writable = res;
  if (answer.gzip) {
    const gzip = createGzip();
    // pipeline destroys both sides on error (a client gone mid-answer), never throws.
    pipeline(gzip, res, () => undefined);
    sink = gzip;
  }
  while (next.done !== true) {
    if (res.destroyed) {
      await iterator.return?.();
      return;
    }
    if (!sink.write(next.value)) await firstOf([sink, 'drain'], [res, 'close']);
    next = await iterator.next();
  }
  sink.end();
  if (!res.writableFinished && !res.destroyed) await firstOf([res, 'finish'], [res, 'close']);
}

/** Resolves on the first of several events and removes every listener it added. */
function firstOf(...events: [EventEmitter, string][]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      for (const [emitter, name] of events) emitter.off(name, done);
      resolve();
    };
    for (const [emitter, name] of events) emitter.once(name, done);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Options of a dedicated metrics server.
 *
 * @example
 * ```ts
 * await serveMetrics({ registry, port: 9464, token: process.env.METRICS_TOKEN });
 * ```
 */
export interface MetricsServerOptions extends MetricsEndpointOptions {
  /** Port (0 for an ephemeral one; default 9464). */
  readonly port?: number;
  /** Interface to bind (default 127.0.0.1: exposing metrics is an explicit choice). */
  readonly host?: string;
  /** Path of the endpoint (default `/metrics`). */
  readonly path?: string;
}

/** A running metrics server. */
export interface MetricsServer {
  readonly server: Server;
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` on its own port, apart from the app.
 *
 * @example
 * ```ts
 * const metricsServer = await serveMetrics({ registry, port: 9464 });
 * console.log(metricsServer.url);
 * await metricsServer.close();
 * ```
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const path = options.path ?? '/metrics';
  const port = options.port ?? 9464;
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LookoutError('LOOKOUT_E_INVALID_OPTION', `port must be an integer 0-65535, got ${port}`);
  const handler = createMetricsHandler(options);
  const server = createServer((req, res) => {
    if (pathOf(req.url) === path) {
      void handler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shownHost}:${address.port}${path}`,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }),
  };
}
