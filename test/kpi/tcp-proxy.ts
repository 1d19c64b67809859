/**
 * A TCP proxy for fault tests: it forwards to PostgreSQL until told to
 * refuse connections (the port stops listening: ECONNREFUSED), to reset
 * them (accept, then RST) or to stall them (bytes are held, as on a network
 * that drops packets), so the shared server stays up.
 *
 * @example
 * ```ts
 * const proxy = await TcpProxy.start('127.0.0.1', 5432);
 * await proxy.refuse(); ... await proxy.pass();
 * ```
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'reset' | 'stall';

export class TcpProxy {
  mode: ProxyMode = 'pass';
  /** Connections accepted while passing. */
  accepted = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly targetHost: string, private readonly targetPort: number, public port = 0) {
    this.server = this.createServer();
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await proxy.listen();
    return proxy;
  }

  /** Stop listening (new connections get ECONNREFUSED) and reset every open connection. */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.resetAll();
    await closed;
  }

  /** Keep listening but reset every connection, old and new. */
  async reset(): Promise<void> {
    if (this.mode === 'refuse') await this.listen();
    this.mode = 'reset';
    this.resetAll();
  }

  /** Hold every byte of old and new connections; nothing is closed. */
  async stall(): Promise<void> {
    if (this.mode === 'refuse') await this.listen();
    this.mode = 'stall';
    for (const socket of this.sockets) {
      socket.unpipe();
      socket.pause();
    }
  }

  /** Forward again (listening on the same port); stalled connections are reset. */
  async pass(): Promise<void> {
    if (this.mode === 'refuse') await this.listen();
    if (this.mode === 'stall') this.resetAll();
    this.mode = 'pass';
  }

  async stop(): Promise<void> {
    this.resetAll();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private createServer(): Server {
    return createServer((client) => {
      if (this.mode === 'stall') {
        this.sockets.add(client);
        client.on('error', () => undefined);
        client.pause();
        return;
      }
      if (this.mode !== 'pass') {
        client.resetAndDestroy();
        return;
      }
      this.accepted++;
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  private async listen(): Promise<void> {
    this.server = this.createServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    if (typeof address === 'object' && address !== null) this.port = address.port;
  }

  private resetAll(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }
}
