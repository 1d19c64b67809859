import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { recorders, removeRecorder, type HttpRecorder } from './recorder.js';

/**
 * Node's own HTTP diagnostics channels carry the request lifecycle to the
 * recorder: measured on a Fastify hello-world they cost about 1 % of
 * throughput, where a pair of framework hooks costs 6-12 % (DESIGN.md).
 * Both channels are process-wide, so start events are filtered by server and
 * finish events by the recorder that tracks the request.
 */
interface ChannelMessage {
  request: IncomingMessage;
  response: ServerResponse;
  server: Server;
}

const START = 'http.server.request.start';
const FINISH = 'http.server.response.finish';
/** Published by Node 22 and later as an HTTP/2 server stream closes; never by Node 20. */
const STREAM_CLOSE = 'http2.server.stream.close';

const servers = new Map<Server, HttpRecorder>();
let finishSubscribed = false;
let startSubscribed = false;

function onStart(message: unknown): void {
  const { server, request, response } = message as ChannelMessage;
  const recorder = servers.get(server);
  if (recorder === undefined) return;
  try {
    // One start event per request: no need for start()'s already-tracked check.
    if (!recorder.skips(request.url)) recorder.track(request, response, undefined);
  } catch {
    // Metrics never break a request; a subscriber error would become an uncaught exception.
    recorder.internalError();
  }
}

function onFinish(message: unknown): void {
  const { request, response } = message as ChannelMessage;
  const all = recorders;
  for (let index = 0; index < all.length; index++) {
    const recorder = all[index]!;
    try {
      if (recorder.finish(request, response)) return;
    } catch {
      recorder.internalError();
      return;
    }
  }
}

/**
 * Subscribes to response-finish events (once per process). Adapters that
 * mark requests themselves (Express, Hono, node:http) need only this.
 *
 * @example
 * ```ts
 * listenForFinish();
 * ```
 */
export function listenForFinish(): void {
  if (finishSubscribed) return;
  diagnosticsChannel.subscribe(FINISH, onFinish);
  diagnosticsChannel.subscribe(STREAM_CLOSE, onStreamClose);
  finishSubscribed = true;
}

function onStreamClose(message: unknown): void {
  const stream = (message as { stream?: unknown }).stream;
  if (typeof stream !== 'object' || stream === null) return;
  const all = recorders;
  for (let index = 0; index < all.length; index++) {
    const recorder = all[index]!;
    try {
      if (recorder.streamClosed(stream)) return;
    } catch {
      recorder.internalError();
      return;
    }
  }
}

/**
 * Tracks every request of `server` from its start event (used by Fastify,
 * where a hook would cost more than the metrics). Returns a detach function.
 *
 * @example
 * ```ts
 * const detach = trackServer(fastify.server, recorder);
 * fastify.addHook('onClose', (_, done) => { detach(); done(); });
 * ```
 */
export function trackServer(server: Server, recorder: HttpRecorder): () => void {
  listenForFinish();
  // The usual case, one request listener: wrap it. Cheaper than the start
  // channel, whose every event is an object built and passed to a lookup by server.
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (listeners.length === 1) {
    const listener = listeners[0]!;
    const tracked = function lookoutTracked(this: Server, req: IncomingMessage, res: ServerResponse): void {
      try {
        if (!recorder.skips(req.url)) recorder.track(req, res, undefined);
      } catch {
        recorder.internalError();
      }
      listener.call(this, req, res);
    };
    server.removeListener('request', listener);
    server.on('request', tracked);
    return () => {
      if (server.listeners('request').includes(tracked)) {
        server.removeListener('request', tracked);
        server.on('request', listener);
      }
      removeRecorder(recorder);
    };
  }
  if (!startSubscribed) {
    diagnosticsChannel.subscribe(START, onStart);
    startSubscribed = true;
  }
  servers.set(server, recorder);
  return () => {
    if (servers.get(server) === recorder) servers.delete(server);
    // A closed app's recorder no longer takes part in finish events.
    removeRecorder(recorder);
  };
}
