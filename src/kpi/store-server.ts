import { createServer, type Server, type Socket } from 'node:net';
import type { PgliteLike } from './pglite-store.js';
import { BackendPanicWatch } from './store-panic.js';
import { errorResponse, readerRefusal, readyForQuery, sessionSwitchSql, startupParameters, STORE_DATABASE, STORE_USERS } from './store-roles.js';

/**
 * The PGlite calls the wire server makes (PGlite 0.5: `execProtocolRawStream` runs
 * frontend protocol bytes through its one backend and streams the reply).
 *
 * @example
 * ```ts
 * const db = (await PGlite.create({ dataDir })) as unknown as PgliteWireLike;
 * ```
 */
export interface PgliteWireLike extends PgliteLike {
  execProtocolRawStream(message: Uint8Array, options: { onRawData: (data: Uint8Array) => void }): Promise<void>;
  isInTransaction(): boolean;
  exec(sql: string): Promise<unknown>;
}

/**
 * A running wire server (see `serveWire`).
 *
 * @example
 * ```ts
 * const server = await serveWire(db, { port: 0 });
 * console.log(server.port, server.connections);
 * await server.close();
 * ```
 */
export interface WireServer {
  readonly host: string;
  readonly port: number;
  /** Client connections open now. */
  readonly connections: number;
  /** Called whenever `connections` changes. */
  onConnections?: (count: number) => void;
  close(): Promise<void>;
}

/**
 * Options of `serveWire`.
 *
 * @example
 * ```ts
 * const options: WireOptions = { host: '127.0.0.1', port: 0, onFatal: () => process.exit(70) };
 * ```
 */
export interface WireOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** PGlite threw while running a message, or answered one with PANIC or FATAL: its one backend is broken (the caller should restart; nothing more runs on it). */
  readonly onFatal?: (error: unknown) => void;
  /** The read-only role's name (default `lookout_reader`; see `readerRoleStatements`). */
  readonly readerRole?: string;
}

// PGlite's backend cannot read COPY data sent in later messages: a `COPY ... FROM STDIN`
// leaves it broken ("protocol synchronization was lost", then no reply to anything). The
// server answers it with feature_not_supported instead, and the connection stays usable.
const COPY_FROM_STDIN = /^\s*copy\b[\s\S]*\bfrom\s+stdin\b/i;

/** ErrorResponse 0A000 then ReadyForQuery, as PostgreSQL would answer a refused statement. */
function refuseCopy(inTransaction: boolean): Buffer {
  const fields = Buffer.from('SERROR\0VERROR\0C0A000\0MCOPY FROM STDIN is not supported by the embedded store (PGlite); use INSERT\0\0', 'utf8');
  const error = Buffer.alloc(5);
  error.write('E', 0);
  error.writeInt32BE(4 + fields.length, 1);
  const ready = Buffer.from([0x5a, 0, 0, 0, 5, inTransaction ? 0x45 : 0x49]);
  return Buffer.concat([error, fields, ready]);
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;

/**
 * Serves one PGlite instance over the PostgreSQL wire protocol on a TCP port (loopback by
 * default). PGlite has one backend, so one connection at a time owns it: from its first
 * message until the backend's ReadyForQuery says "idle" (outside a transaction, COPY or an
 * extended-protocol sequence); the others queue. A connection that goes away while owning it
 * has its transaction rolled back. Modelled on `@electric-sql/pglite-socket` (Apache-2.0),
 * which pins one exact PGlite version as its peer; this keeps the one lookout already uses,
 * and hands the backend over only at ReadyForQuery (pglite-socket hands it over between the
 * messages of an extended-protocol sequence when no transaction is open). The startup
 * message's user picks the session's identity: `postgres` (everything) or the read-only role
 * (`SET SESSION AUTHORIZATION` when the backend passes to it); any other user, or a database
 * other than `postgres`, is refused with PostgreSQL's FATAL error, and the others go on.
 *
 * @example
 * ```ts
 * const server = await serveWire(db, { host: '127.0.0.1', port: 0 });
 * // psql "postgresql://postgres@127.0.0.1:${server.port}/postgres"
 * ```
 */
export async function serveWire(db: PgliteWireLike, options: WireOptions = {}): Promise<WireServer> {
  const host = options.host ?? '127.0.0.1';
  // A backend that threw is not trusted again: the owner of the server restarts it.
  let broken = false;
  const fatal = (work: Promise<void>): Promise<void> => work.catch((error: unknown) => {
    broken = true;
    options.onFatal?.(error);
    throw error;
  });
  const reader = options.readerRole ?? STORE_USERS.reader;
  const sockets = new Set<Socket>();
  let owner: Connection | undefined;
  /** Whose identity PGlite's one session has now (undefined: not known, set it before the next message). */
  let sessionUser: 'owner' | 'reader' | undefined;
  const waiting: Connection[] = [];

  const grant = (): void => {
    while (owner === undefined && waiting.length > 0) {
      const next = waiting.shift()!;
      owner = next; // a closed connection releases it at once (see run)
      next.wake?.();
    }
  };
  const acquire = (connection: Connection): Promise<void> => {
    if (owner === connection) return Promise.resolve();
    return new Promise((resolve) => {
      connection.wake = () => {
        connection.wake = undefined;
        resolve();
      };
      waiting.push(connection);
      grant();
    });
  };
  const release = (connection: Connection): void => {
    if (owner !== connection) return;
    owner = undefined;
    grant();
  };

  class Connection {
    closed = false;
    started = false;
    user: 'owner' | 'reader' | undefined;
    /** A refused Parse: the rest of the extended-protocol sequence is dropped until its Sync. */
    private skipUntilSync = false;
    wake: (() => void) | undefined;
    private pending: Buffer = Buffer.alloc(0);
    private chain: Promise<void> = Promise.resolve();

    constructor(private readonly socket: Socket) {}

    push(data: Buffer): void {
      this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
      const messages: Buffer[] = [];
      for (;;) {
        const message = this.next();
        if (message === undefined) break;
        messages.push(message);
      }
      if (messages.length > 0) this.chain = this.chain.then(() => this.run(messages)).catch(() => {
        this.socket.destroy();
      });
    }

    /** Cuts the next whole message off the input, or undefined. */
    private next(): Buffer | undefined {
      const buffer = this.pending;
      if (!this.started) {
        if (buffer.length < 8) return undefined;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return undefined;
        const code = buffer.readInt32BE(4);
        this.pending = buffer.subarray(length);
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          this.socket.write('N');
          return this.next();
        }
        if (code === CANCEL_REQUEST) {
          this.socket.end();
          return undefined;
        }
        this.started = true;
        return buffer.subarray(0, length);
      }
      if (buffer.length < 5) return undefined;
      const length = 1 + buffer.readInt32BE(1);
      if (buffer.length < length) return undefined;
      this.pending = buffer.subarray(length);
      return buffer.subarray(0, length);
    }

    private async run(messages: Buffer[]): Promise<void> {
      for (const message of messages) {
        if (this.closed) return;
        if (message[0] === 0x58) { // Terminate: the backend is shared, only this socket ends
          this.socket.end();
          return;
        }
        const startup = this.user === undefined;
        if (startup) {
          if (!this.admit(message)) return;
        } else if (this.user === 'reader' && !this.allowed(message)) continue;
        await acquire(this);
        if (this.closed || broken) {
          release(this);
          return;
        }
        if (sessionUser !== this.user && !(await this.switchSession(this.user!))) return;
        if (message[0] === 0x51 && COPY_FROM_STDIN.test(message.toString('utf8', 5, Math.min(message.length, 4096)))) {
          this.socket.write(refuseCopy(db.isInTransaction()));
          if (!db.isInTransaction()) release(this);
          continue;
        }
        let tail: Buffer = Buffer.alloc(0);
        const watch = new BackendPanicWatch();
        await fatal(db.execProtocolRawStream(new Uint8Array(message.buffer, message.byteOffset, message.length), {
          onRawData: (data) => {
            if (data.length === 0) return;
            watch.feed(data);
            const bytes = Buffer.from(data);
            if (!this.closed) this.socket.write(bytes);
            tail = bytes.length >= 6 ? bytes : Buffer.concat([tail, bytes]).subarray(-6);
          },
        }));
        if (watch.fatal !== undefined) {
          // Kept by this connection: nothing else runs on the broken backend until the restart.
          broken = true;
          options.onFatal?.(new Error(`PGlite's backend answered ${watch.fatal}`));
          this.socket.destroy();
          return;
        }
        // ReadyForQuery 'I' (idle) ends the message sequence: the backend can serve another client.
        if (tail.length >= 6 && tail[tail.length - 6] === 0x5a && tail.readInt32BE(tail.length - 5) === 5 && tail[tail.length - 1] === 0x49) release(this);
        if (startup) sessionUser = undefined; // PGlite may have reset its session for the startup message
      }
    }

    /** The startup message: a known user and database go on, anything else gets FATAL and the socket ends. */
    private admit(startup: Buffer): boolean {
      const { user = '', database = user } = startupParameters(startup);
      let refusal: Buffer | undefined;
      if (user === STORE_USERS.owner) this.user = 'owner';
      else if (user === reader) this.user = 'reader';
      else refusal = errorResponse('FATAL', '28000', `role "${user}" does not exist (the embedded store's users are ${STORE_USERS.owner} and ${reader})`);
      if (refusal === undefined && database !== STORE_DATABASE) refusal = errorResponse('FATAL', '3D000', `database "${database}" does not exist (the embedded store has one: ${STORE_DATABASE})`);
      if (refusal === undefined) return true;
      this.user = undefined;
      this.closed = true;
      this.socket.end(refusal);
      return false;
    }

    /** Gives PGlite's session this connection's identity; on failure, FATAL to this client only. */
    private async switchSession(user: 'owner' | 'reader'): Promise<boolean> {
      try {
        await db.exec(sessionSwitchSql(user, reader));
        sessionUser = user;
        return true;
      } catch (error) {
        sessionUser = undefined;
        this.socket.end(errorResponse('FATAL', '28000', `cannot take the identity of ${user === 'reader' ? reader : STORE_USERS.owner}: ${(error as Error).message}`));
        release(this);
        this.closed = true;
        return false;
      }
    }

    /** The read-only role's messages: a refused one is answered here and never reaches PGlite. */
    private allowed(message: Buffer): boolean {
      if (this.skipUntilSync) {
        if (message[0] !== 0x53) return false;
        this.skipUntilSync = false;
        return true; // the Sync goes to the backend, whose ReadyForQuery ends the sequence
      }
      const refusal = readerRefusal(message);
      if (refusal === undefined) return true;
      const inTransaction = owner === this && db.isInTransaction();
      this.socket.write(errorResponse('ERROR', '42501', refusal));
      if (message[0] === 0x50) this.skipUntilSync = true;
      else this.socket.write(readyForQuery(inTransaction ? 'E' : 'I'));
      return false;
    }

    async closeConnection(): Promise<void> {
      if (this.closed) return;
      this.closed = true;
      await this.chain;
      if (owner === this) {
        // Left mid-transaction (or mid-COPY): roll back so the next client starts clean.
        try {
          if (!broken && db.isInTransaction()) await db.exec('ROLLBACK');
        } catch {
          // The backend is reset by the next client's statements anyway.
        }
        release(this);
      }
    }
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const connection = new Connection(socket);
    result.onConnections?.(sockets.size);
    socket.on('data', (data) => connection.push(data));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      void connection.closeConnection().finally(() => result.onConnections?.(sockets.size));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const result: WireServer = {
    host,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    get connections() {
      return sockets.size;
    },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
  return result;
}
