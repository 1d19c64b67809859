import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { instrument } from '../adapters/node.js';
import { sumOf, waitFor } from '../../test/support/http.js';

const servers: http2.Http2Server[] = [];
const clients: http2.ClientHttp2Session[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Node 22 and later publish HTTP/2 server streams on diagnostics channels; Node 20 does not. */
const STREAM_CHANNELS = Number(process.versions.node.split('.')[0]) >= 22;

type Listener = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

async function start(listener: Listener, registry?: Registry): Promise<{ server: http2.Http2Server; client: http2.ClientHttp2Session }> {
  const handler = registry === undefined ? listener : (instrument(listener as never, { registry, routes: ['/users/:id', '/slow', '/stream'] }) as unknown as Listener);
  const server = http2.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  clients.push(client);
  return { server, client };
}

function get(client: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = client.request({ ':path': path });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve(body));
    stream.on('error', reject);
  });
}

describe('HTTP/2 (compatibility API) on node:http2', () => {
  it('records requests, sizes and in-flight as on HTTP/1.1, and a reset stream as aborted', async () => {
    const registry = new Registry();
    const { client } = await start((req, res) => {
      if (req.url === '/slow') return; // never answers: the client resets the stream
      if (req.url === '/stream') {
        res.write('hello ');
        res.end('world');
        return;
      }
      res.setHeader('content-length', '4');
      res.end('user');
    }, registry);
    for (let index = 0; index < 5; index++) expect(await get(client, `/users/${index}`)).toBe('user');
    expect(await get(client, '/stream')).toBe('hello world');
    const slow = client.request({ ':path': '/slow' });
    slow.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    slow.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(async () => sumOf(await registry.metrics(), 'http_requests_aborted_total') === 1);
    const text = await registry.metrics();
    expect(sumOf(text, 'http_requests_total', 'route="/users/:id"', 'status="200"')).toBe(5);
    expect(sumOf(text, 'http_requests_total', 'route="/stream"')).toBe(1);
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/users/:id"')).toBe(20);
    // Without a content-length an HTTP/2 response is sized 0 (its body is not counted: see watch()).
    expect(sumOf(text, 'http_response_size_bytes_sum', 'route="/stream"')).toBe(0);
    expect(sumOf(text, 'http_requests_aborted_total', 'route="/slow"')).toBe(1);
    expect(sumOf(text, 'http_requests_total', 'route="/slow"')).toBe(0);
    expect(sumOf(text, 'http_requests_in_flight')).toBe(0);
  });

  it(`follows each stream through ${STREAM_CHANNELS ? "node's http2.server.stream.close channel, without a listener per response" : 'listeners on each response (this Node has no HTTP/2 stream channels)'}`, async () => {
    const counts = async (registry: Registry | undefined): Promise<number[]> => {
      const seen: number[] = [];
      const { client } = await start((_req, res) => {
        setImmediate(() => {
          seen.push(res.listenerCount('finish') + res.listenerCount('close'));
          res.end('ok');
        });
      }, registry);
      for (let index = 0; index < 3; index++) await get(client, `/users/${index}`);
      return seen;
    };
    const bare = await counts(undefined);
    const withLookout = await counts(new Registry());
    // The first stream of a process may be followed by listeners too, until the channel has been seen to publish.
    if (STREAM_CHANNELS) expect(withLookout.slice(1)).toEqual(bare.slice(1));
    else expect(withLookout.map((count, index) => count - bare[index]!)).toEqual([2, 2, 2]);
  });
});
