import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenForFinish } from '../http/channels.js';
import { methodIndex } from '../http/methods.js';
import { createMetricsResponder, type MetricsAnswer } from '../http/serve.js';
import { createRecorder, type AdapterOptions } from './shared.js';

interface NodeBindings {
  incoming?: IncomingMessage;
  outgoing?: ServerResponse;
}

/**
 * Hono middleware: records every request and serves `/metrics`. On Node
 * (`@hono/node-server`) the duration runs until the response has finished
 * streaming; on other runtimes, until the handler's response is ready.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { serve } from '@hono/node-server';
 * import { Registry } from 'lookout';
 * import { metrics } from 'lookout/hono';
 *
 * const app = new Hono();
 * app.use('*', metrics({ registry: new Registry() }));
 * app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
 * serve(app);
 * ```
 */
export function metrics(options: AdapterOptions): MiddlewareHandler {
  const { recorder, metricsPath, dashboard } = createRecorder(options);
  const respond = metricsPath === undefined ? undefined : createMetricsResponder({ registry: options.registry, token: options.token });
  const unmatched = recorder.options.unmatchedRoute;
  listenForFinish();

  /** The handler's route template, or unmatched when no route below this middleware answered. */
  const templateOf = (c: Context, ownIndex: number): string => (c.req.routeIndex === ownIndex ? unmatched : routePath(c) || unmatched);

  return async function lookoutMetrics(c, next) {
    if (respond !== undefined && c.req.path === metricsPath) {
      return toResponse(respond({ method: c.req.method, authorization: c.req.header('authorization'), accept: c.req.header('accept'), acceptEncoding: c.req.header('accept-encoding') }));
    }
    if (dashboard?.owns(c.req.path) === true) {
      const answer = await dashboard.respond({
        method: c.req.method, url: c.req.url, authorization: c.req.header('authorization'), cookie: c.req.header('cookie'),
        acceptEncoding: c.req.header('accept-encoding'), secure: c.req.url.startsWith('https:'),
      });
      return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
    }
    const bindings = c.env as NodeBindings | undefined;
    const incoming = bindings?.incoming;
    const ownIndex = c.req.routeIndex;
    if (incoming !== undefined && bindings?.outgoing !== undefined) {
      recorder.start(incoming, bindings.outgoing);
      await next();
      recorder.setRoute(incoming, templateOf(c, ownIndex));
      if (c.error !== undefined) recorder.exception(incoming, c.error);
      return;
    }
    // Runtimes without node:http (Bun, Deno, workers): measure around the handler.
    const started = performance.now();
    await next();
    recorder.recordDirect({
      path: c.req.path,
      method: methodIndex(c.req.method),
      route: templateOf(c, ownIndex),
      status: c.res.status,
      elapsedSeconds: (performance.now() - started) / 1000,
      requestBytes: Number(c.req.header('content-length') ?? 0),
      responseBytes: Number(c.res.headers.get('content-length') ?? 0),
      headers: c.req.header(),
      error: c.error,
    });
  };
}

/** Writes a scrape answer as a web Response (gzip through CompressionStream). */
function toResponse(answer: MetricsAnswer): Response {
  if (typeof answer.body === 'string') return new Response(answer.body === '' ? null : answer.body, { status: answer.status, headers: answer.headers });
  const iterator = answer.body[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
  if (answer.gzip) stream = stream.pipeThrough(new CompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>);
  return new Response(stream, { status: answer.status, headers: answer.headers });
}
