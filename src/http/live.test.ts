import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { bytesWritten, LiveRequests, type DispatchingSocket } from './live.js';

const socketA = {};
const socketB = {};
function request(socket: object | null): { req: IncomingMessage; res: ServerResponse } {
  return { req: { socket } as unknown as IncomingMessage, res: {} as ServerResponse };
}

describe('LiveRequests', () => {
  it('finds requests by connection, including pipelined ones in any finish order', () => {
    const live = new LiveRequests();
    const one = request(socketA);
    const two = request(socketA);
    const three = request(socketA);
    const other = request(socketB);
    const states = [one, two, three, other].map(({ req, res }) => live.add(req, res));
    expect(live.size).toBe(4);
    expect(live.find(two.req)).toBe(states[1]);
    live.remove(states[1]!); // the middle of a pipelined chain
    expect(live.find(two.req)).toBeUndefined();
    expect(live.find(three.req)).toBe(states[2]);
    expect(live.find(one.req)).toBe(states[0]);
    expect(live.find(other.req)).toBe(states[3]);
    expect(live.size).toBe(3);
  });

  it('keys a request without a socket by itself', () => {
    const live = new LiveRequests();
    const lone = request(null);
    const state = live.add(lone.req, lone.res);
    expect(live.find(lone.req)).toBe(state);
    live.remove(state);
    expect(live.find(lone.req)).toBeUndefined();
  });

  it('iterates by connection, oldest first, and allows removing the current state', () => {
    const live = new LiveRequests();
    const requests = Array.from({ length: 5 }, () => request({}));
    for (const { req, res } of requests) live.add(req, res);
    const seen: IncomingMessage[] = [];
    for (const state of live.states()) {
      seen.push(state.req!);
      if (seen.length % 2 === 1) live.remove(state);
    }
    expect(seen).toEqual(requests.map(({ req }) => req));
    expect([...live.states()].map((state) => state.req)).toEqual([requests[1]!.req, requests[3]!.req]);
    expect(live.size).toBe(2);
  });

  it('reuses removed states and clears what they referenced', () => {
    const live = new LiveRequests();
    const first = request(socketA);
    const state = live.add(first.req, first.res);
    state.route = '/users/:id';
    state.exception = 'TypeError';
    live.remove(state);
    expect(state.req).toBeUndefined();
    expect(state.res).toBeUndefined();
    const second = request(socketA);
    const reused = live.add(second.req, second.res);
    expect(reused).toBe(state);
    expect(reused.route).toBeUndefined();
    expect(reused.exception).toBeUndefined();
    expect(live.find(second.req)).toBe(reused);
  });
});

describe('LiveRequests, connection by connection', () => {
  it('gives a connection its own state again, and a pipelined request one of its own while it is taken', () => {
    const live = new LiveRequests();
    const socket = {};
    const first = request(socket);
    const own = live.add(first.req, first.res);
    const second = request(socket);
    const extra = live.add(second.req, second.res);
    expect(extra).not.toBe(own);
    live.remove(own); // the first response finished: the pipelined one is now the oldest
    const third = request(socket);
    expect(live.add(third.req, third.res)).toBe(own); // free again, queued behind the extra
    expect([...live.states()].map((state) => state.req)).toEqual([second.req, third.req]);
    expect(live.find(third.req)).toBe(own);
    live.remove(extra);
    live.remove(extra); // a second remove changes nothing
    expect(live.size).toBe(1);
    expect(live.find(third.req)).toBe(own);
  });

  it('leaves a request tracked already as it is when asked to add it once', () => {
    const live = new LiveRequests();
    const socket = {};
    const first = request(socket);
    const second = request(socket);
    const state = live.add(first.req, first.res, true)!;
    expect(live.add(first.req, first.res, true)).toBeUndefined();
    const extra = live.add(second.req, second.res, true)!;
    expect(live.add(second.req, second.res, true)).toBeUndefined(); // found further down the connection's queue
    expect(live.add(first.req, first.res, true)).toBeUndefined();
    expect([state.req, extra.req, live.size]).toEqual([first.req, second.req, 2]);
  });

  it('forgets closed connections with nothing in flight, and asks for a sweep when connections pile up', () => {
    let crowded = 0;
    const live = new LiveRequests(() => crowded++);
    const sockets = Array.from({ length: 300 }, () => ({ destroyed: false }));
    const states = sockets.map((socket) => {
      const { req, res } = request(socket);
      return live.add(req, res);
    });
    expect(crowded).toBe(300 - 256 + 1); // from the 256th connection on, until a prune
    for (const [index, socket] of sockets.entries()) {
      if (index % 3 === 0) socket.destroyed = true; // closed...
      if (index % 2 === 0) live.remove(states[index]!); // ...and finished, or not
    }
    live.prune();
    // Kept: open connections, and closed ones whose request is still live (a sweep counts it aborted).
    expect(live.connections).toBe(sockets.filter((socket, index) => !socket.destroyed || index % 2 === 1).length);
    const before = crowded;
    const { req, res } = request({ destroyed: false });
    live.add(req, res);
    expect(crowded).toBe(before); // the threshold moved up to twice what is kept
  });
});

describe('bytesWritten', () => {
  it('equals socket.bytesWritten when a response finishes, whatever the response looks like', async () => {
    const big = 'x'.repeat(4 << 20); // more than the kernel takes at once: writes stay buffered for a while
    const server = http.createServer((req, res) => {
      if (req.url === '/big') res.end(big);
      else if (req.url === '/chunked') {
        res.write('a');
        setImmediate(() => res.end('b'.repeat(1000)));
      } else if (req.url === '/empty') {
        res.statusCode = 204;
        res.end();
      } else res.end(JSON.stringify({ url: req.url }));
    });
    const pairs: [number | undefined, number][] = [];
    let fast = 0;
    const onFinish = (message: unknown): void => {
      const socket = (message as { response: http.ServerResponse }).response.socket as DispatchingSocket;
      if (socket.writableLength === 0) fast++;
      pairs.push([bytesWritten(socket), socket.bytesWritten]);
    };
    diagnosticsChannel.subscribe('http.server.response.finish', onFinish);
    try {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { port } = server.address() as net.AddressInfo;
      for (const path of ['/json', '/big', '/chunked', '/empty', '/json']) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        await response.arrayBuffer();
      }
      // Pipelined on one connection: every response but the first waits for the one before it.
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(['/json', '/big', '/chunked', '/json'].map((path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
      let received = 0;
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      while (pairs.length < 9) await new Promise((resolve) => setTimeout(resolve, 10));
      socket.destroy();
      expect(received).toBeGreaterThan(0);
    } finally {
      diagnosticsChannel.unsubscribe('http.server.response.finish', onFinish);
      server.closeAllConnections();
      server.close();
    }
    expect(pairs).toHaveLength(9);
    for (const [ours, nodes] of pairs) expect(ours).toBe(nodes);
    expect(fast).toBeGreaterThan(0); // the fast path was taken, the comparison is not vacuous
  });
});

describe('LiveRequests on a connection that closes', () => {
  it('hands every request still live to `closed` at once, in order, and lets go of the socket', async () => {
    const { EventEmitter } = await import('node:events');
    const socket = Object.assign(new EventEmitter(), { destroyed: false });
    const released: IncomingMessage[] = [];
    const live: LiveRequests = new LiveRequests(undefined, (state) => {
      released.push(state.req!);
      live.remove(state);
    });
    const one = request(socket);
    const two = request(socket);
    const done = request(socket);
    live.add(one.req, one.res);
    live.add(two.req, two.res);
    live.remove(live.add(done.req, done.res));
    expect(live.size).toBe(2);
    socket.destroyed = true;
    socket.emit('close');
    expect(released).toEqual([one.req, two.req]);
    expect(live.size).toBe(0);
    expect(live.find(one.req)).toBeUndefined();
    live.prune();
    expect(live.connections).toBe(0);
  });

  it('keys a detached request (an HTTP/2 stream) by itself, not by the socket it shows', () => {
    const live = new LiveRequests();
    const shared = {};
    const a = request(shared);
    const b = request(shared);
    const stateA = live.add(a.req, a.res, false, true);
    const stateB = live.add(b.req, b.res, false, true);
    expect(stateA).not.toBe(stateB);
    expect(live.find(a.req)).toBe(stateA);
    expect(live.find(b.req)).toBe(stateB);
    expect(live.connections).toBe(2);
  });
});
