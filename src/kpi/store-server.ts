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
  /**
   * What `query(sql, params, { blob })` does around its statement (PGlite 0.5): the bytes that a
   * `COPY ... FROM '/dev/blob'` reads. Without these two, the server refuses COPY FROM STDIN.
   */
  _handleBlob?(blob?: Blob): Promise<void>;
  _cleanupBlob?(): Promise<void>;
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
  /** The most bytes one `COPY ... FROM STDIN` may send (default 128 MiB); past it the COPY fails with 54000. */
  readonly maxCopyBytes?: number;
}

/** Default of `WireOptions.maxCopyBytes`. */
const MAX_COPY_BYTES = 128 * 2 ** 20;

/**
 * A simple-Query `COPY ... FROM STDIN`: PGlite's backend cannot read COPY data that arrives in
 * later messages (it loses protocol synchronisation, then answers nothing), so the server
 * takes the CopyData itself and runs the statement `FROM '/dev/blob'` with the bytes as
 * PGlite's blob. Group 1 is `FROM STDIN`.
 */
const COPY_FROM_STDIN = /^\s*copy\b[\s\S]*?\b(from\s+stdin)\b/i;
const COPY_START = /^\s*copy\b/i;
const QUOTED = /'(?:[^']|'')*'|"(?:[^"]|"")*"/g;

/** A COPY FROM STDIN in progress: the statement PGlite runs, and the data so far. */
interface CopyIn {
  readonly statement: string;
  readonly chunks: Buffer[];
  bytes: number;
}

/**
 * The statement PGlite runs for a `COPY ... FROM STDIN` query (`FROM '/dev/blob'`), with the
 * CopyInResponse that answers it; or a reason to refuse it (another statement in the same
 * query string: PGlite would run that one without the client's data).
 */
function copyFromBlob(sql: string): { statement: string; response: Buffer } | { refusal: string } | undefined {
  const match = COPY_FROM_STDIN.exec(sql);
  if (match === null) return undefined;
  const at = match.index + match[0].length - match[1]!.length;
  const head = sql.slice(0, at);
  const tail = sql.slice(at + match[1]!.length);
  if (/;\s*\S/.test(tail.replace(QUOTED, "''"))) return { refusal: 'COPY FROM STDIN must be the only statement of its query in the embedded store' };
  const binary = /^\s*copy\s+binary\b/i.test(head) || /\bbinary\b/i.test(tail.replace(QUOTED, (quoted) => (/^(['"])binary\1$/i.test(quoted) ? 'binary' : "''")));
  // The columns' count: of the column list when there is one, else 0 (clients of COPY FROM read only the format).
  const list = /\(([^()]*)\)\s*$/.exec(head.replace(QUOTED, '""'));
  const columns = list === null || list[1]!.trim() === '' ? 0 : list[1]!.split(',').length;
  const response = Buffer.alloc(8 + 2 * columns);
  response.write('G', 0);
  response.writeInt32BE(7 + 2 * columns, 1);
  response[5] = binary ? 1 : 0;
  response.writeInt16BE(columns, 6);
  for (let column = 0; column < columns; column++) response.writeInt16BE(binary ? 1 : 0, 8 + 2 * column);
  return { statement: `${head}FROM '/dev/blob'${tail}`, response };
}

/** A simple-Query message. */
function queryMessage(sql: string): Buffer {
  const length = Buffer.byteLength(sql);
  const message = Buffer.alloc(6 + length);
  message.write('Q', 0);
  message.writeInt32BE(5 + length, 1);
  message.write(sql, 5);
  return message;
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
 * `COPY ... FROM STDIN` (simple query) is taken by the server: it answers CopyInResponse,
 * collects the CopyData (at most `maxCopyBytes`) while it owns the backend, and on CopyDone
 * runs the statement `FROM '/dev/blob'` with the bytes as PGlite's blob.
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
  /** The status of the backend's last ReadyForQuery: `I`, `T` or `E` (a failed transaction). */
  let backendStatus = 0x49;
  const maxCopyBytes = options.maxCopyBytes ?? MAX_COPY_BYTES;
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
    /** A COPY FROM STDIN in progress (this connection owns the backend meanwhile). */
    private copy: CopyIn | undefined;
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
        if (this.copy !== undefined) { // this connection owns the backend until the COPY ends
          if (!(await this.copyMessage(this.copy, message))) return;
          continue;
        }
        // CopyData, CopyDone or CopyFail out of a COPY (after a failed one): dropped, as PostgreSQL does.
        if (message[0] === 0x64 || message[0] === 0x63 || message[0] === 0x66) continue;
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
        const copy = message[0] === 0x51 && COPY_START.test(message.toString('latin1', 5, 69)) ? copyFromBlob(message.toString('utf8', 5, message.length - 1)) : undefined;
        if (copy !== undefined) {
          if (!(await this.startCopy(copy))) return;
          continue;
        }
        if (!(await this.forward(message))) return;
        if (startup) sessionUser = undefined; // PGlite may have reset its session for the startup message
      }
    }

    /**
     * Runs one message through PGlite's backend and streams the reply to the client. False when
     * the backend broke (kept by this connection until the restart; the socket is destroyed).
     */
    private async forward(message: Buffer): Promise<boolean> {
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
        return false;
      }
      // ReadyForQuery 'I' (idle) ends the message sequence: the backend can serve another client.
      if (tail.length >= 6 && tail[tail.length - 6] === 0x5a && tail.readInt32BE(tail.length - 5) === 5) {
        backendStatus = tail[tail.length - 1]!;
        if (backendStatus === 0x49) release(this);
      }
      return true;
    }

    /**
     * A `COPY ... FROM STDIN` query: answered with CopyInResponse here, and the CopyData that
     * follows is collected (see `copyMessage`). Refused for the read-only role, in a failed
     * transaction, for a query string with more statements, and when this PGlite cannot take a blob.
     */
    private async startCopy(copy: NonNullable<ReturnType<typeof copyFromBlob>>): Promise<boolean> {
      if (backendStatus === 0x45) return this.forward(queryMessage('SELECT 1')); // 25P02, as PostgreSQL answers anything there
      if (this.user === 'reader') return this.fail('25006', 'cannot execute COPY FROM in a read-only transaction');
      if ('refusal' in copy) return this.fail('0A000', copy.refusal);
      if (db._handleBlob === undefined || db._cleanupBlob === undefined) return this.fail('0A000', 'COPY FROM STDIN is not supported by this PGlite in the embedded store; use INSERT');
      this.copy = { statement: copy.statement, chunks: [], bytes: 0 };
      this.socket.write(copy.response);
      return true;
    }

    /**
     * Answers a statement with ErrorResponse and ReadyForQuery, as PostgreSQL answers a failed
     * COPY; in a transaction, PGlite's is failed too (by a statement that errors, whose own
     * reply is not sent), so that it takes nothing but ROLLBACK, as PostgreSQL's would.
     */
    private async fail(code: string, text: string): Promise<boolean> {
      const inTransaction = db.isInTransaction();
      if (inTransaction) await fatal(db.execProtocolRawStream(queryMessage('SELECT 1/0'), { onRawData: () => undefined }));
      backendStatus = inTransaction ? 0x45 : 0x49;
      if (!this.closed) this.socket.write(Buffer.concat([errorResponse('ERROR', code, text), readyForQuery(inTransaction ? 'E' : 'I')]));
      if (!inTransaction) release(this);
      return true;
    }

    /** One message of a COPY in progress: CopyData is kept, CopyDone runs the COPY in PGlite, CopyFail (or anything else) fails it. */
    private async copyMessage(copy: CopyIn, message: Buffer): Promise<boolean> {
      switch (message[0]) {
        case 0x64: { // CopyData
          copy.bytes += message.length - 5;
          if (copy.bytes > maxCopyBytes) {
            this.copy = undefined; // the rest of its CopyData, and its CopyDone, are dropped
            return this.fail('54000', `COPY data over the embedded store's limit of ${maxCopyBytes} bytes: send fewer rows per COPY`);
          }
          copy.chunks.push(message.subarray(5));
          return true;
        }
        case 0x63: { // CopyDone
          this.copy = undefined;
          await db._handleBlob!(new Blob(copy.chunks));
          copy.chunks.length = 0;
          try {
            return await this.forward(queryMessage(copy.statement));
          } finally {
            await db._cleanupBlob!();
          }
        }
        case 0x66: { // CopyFail
          this.copy = undefined;
          const text = message.toString('utf8', 5, message.length - 1);
          return this.fail('57014', `COPY from stdin failed: ${text}`);
        }
        case 0x48: // Flush and Sync: ignored during a COPY started by a simple query, as PostgreSQL does
        case 0x53:
          return true;
        default:
          this.copy = undefined;
          return this.fail('08P01', `unexpected message type 0x${message[0]!.toString(16).padStart(2, '0')} during COPY from stdin`);
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
          backendStatus = 0x49;
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
