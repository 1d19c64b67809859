import { createServer, request, Agent } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { trackConnections, trackPool } from './connections.js';

function gaugeLine(text: string, name: string): string | undefined {
  return text.split('\n').find((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));
}

describe('trackConnections', () => {
  it('follows the open TCP connections of a node:http server', async () => {
    const registry = new Registry();
    const server = createServer((_request, response) => response.end('ok'));
    trackConnections(server, registry);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ keepAlive: true, maxSockets: 3 });
    const get = (): Promise<void> => new Promise((resolve, reject) => {
      request({ host: '127.0.0.1', port, agent }, (response) => { response.resume(); response.on('end', resolve); }).on('error', reject).end();
    });
    await Promise.all([get(), get(), get()]);
    expect(gaugeLine(await registry.metrics(), 'http_server_connections_open')).toBe('http_server_connections_open 3');
    agent.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gaugeLine(await registry.metrics(), 'http_server_connections_open')).toBe('http_server_connections_open 0');
    await new Promise((resolve) => server.close(resolve));
  });

  it('adds up several servers on one registry', () => {
    const registry = new Registry();
    const first = createNetServer();
    const second = createNetServer();
    trackConnections(first, registry);
    const stop = trackConnections(second, registry);
    const socket = { once: (_event: 'close', listener: () => void) => { closeSocket = listener; } };
    let closeSocket = (): void => undefined;
    first.emit('connection', socket);
    second.emit('connection', socket);
    expect((registry.get('http_server_connections_open') as unknown as { value: number }).value).toBe(2);
    closeSocket();
    stop();
    second.emit('connection', socket);
    expect((registry.get('http_server_connections_open') as unknown as { value: number }).value).toBe(1);
  });
});

describe('trackPool', () => {
  it('exposes db_pool_connections{state} read at scrape time, summed over pools', async () => {
    const registry = new Registry();
    const pool = { totalCount: 3, idleCount: 1, waitingCount: 0 };
    trackPool(pool, registry);
    trackPool({ totalCount: 2, idleCount: 2, waitingCount: 1 }, registry);
    pool.waitingCount = 4;
    const text = await registry.metrics();
    expect(text).toContain('db_pool_connections{state="total"} 5');
    expect(text).toContain('db_pool_connections{state="idle"} 3');
    expect(text).toContain('db_pool_connections{state="waiting"} 5');
  });
});
