/**
 * A hello-world `/users/:id` server over plain HTTP/2 (h2c) for bench/http2.ts:
 *   tsx bench/servers/hello-h2.ts <node|fastify> <bare|lookout>
 * Prints `READY <port>` once listening. Runs until killed.
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Registry } from '../../src/index.js';

const framework = process.argv[2] as 'node' | 'fastify';
const variant = process.argv[3] as 'bare' | 'lookout';
const body = (id: string): string => JSON.stringify({ id, name: 'Ada' });

async function start(): Promise<AddressInfo> {
  if (framework === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ http2: true, logger: false });
    if (variant === 'lookout') {
      const { default: lookout } = await import('../../src/adapters/fastify.js');
      await app.register(lookout, { registry: new Registry() });
    }
    app.get('/users/:id', async (request) => body((request.params as { id: string }).id));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return app.server.address() as AddressInfo;
  }
  const listener = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    res.setHeader('content-type', 'application/json');
    res.end(body((req.url ?? '').slice(7)));
  };
  const { instrument } = await import('../../src/adapters/node.js');
  const server = http2.createServer(variant === 'lookout' ? (instrument(listener as never, { registry: new Registry(), routes: ['/users/:id'] }) as never) : listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server.address() as AddressInfo;
}

const address = await start();
process.stdout.write(`READY ${address.port}\n`);
