/**
 * Watches the bytes PGlite's backend sends for an ErrorResponse of severity PANIC or FATAL.
 * PostgreSQL answers those by ending the backend (PANIC: every backend, then crash recovery);
 * PGlite's one backend keeps running but is broken: after `could not write to file
 * "pg_wal/xlogtemp.N": No space left on device` (PANIC, a full disk), its next statement
 * spins in WebAssembly and never returns, holding the store process's event loop. So the wire
 * server runs nothing more on a backend once this has seen one, and the store process exits.
 *
 * @example
 * ```ts
 * const watch = new BackendPanicWatch();
 * await db.execProtocolRawStream(message, { onRawData: (data) => watch.feed(data) });
 * if (watch.fatal !== undefined) restart(watch.fatal);
 * ```
 */
export class BackendPanicWatch {
  /** `PANIC: <message> (<SQLSTATE>)` once one was seen, else undefined. */
  fatal: string | undefined;
  private header = Buffer.alloc(0);
  private type = 0;
  /** Bytes of the current message's body still to come (-1: reading a header). */
  private left = -1;
  private body: Buffer[] = [];
  private kept = 0;

  /** Feeds the next bytes of the backend's reply (messages may span calls). */
  feed(data: Uint8Array): void {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.length);
    let offset = 0;
    while (offset < bytes.length) {
      if (this.left < 0) {
        const take = Math.min(5 - this.header.length, bytes.length - offset);
        this.header = Buffer.concat([this.header, bytes.subarray(offset, offset + take)]);
        offset += take;
        if (this.header.length < 5) return;
        this.type = this.header[0]!;
        this.left = this.header.readInt32BE(1) - 4;
        this.header = Buffer.alloc(0);
        if (this.left <= 0) this.end();
        continue;
      }
      const take = Math.min(this.left, bytes.length - offset);
      // An ErrorResponse's severity comes first; 2 KiB hold it and the message.
      if (this.type === 0x45 && this.kept < 2048) {
        this.body.push(Buffer.from(bytes.subarray(offset, offset + take)));
        this.kept += take;
      }
      offset += take;
      this.left -= take;
      if (this.left === 0) this.end();
    }
  }

  private end(): void {
    if (this.type === 0x45 && this.fatal === undefined) {
      const fields = new Map<string, string>();
      const body = Buffer.concat(this.body);
      for (let at = 0; at < body.length && body[at] !== 0;) {
        const zero = body.indexOf(0, at + 1);
        if (zero < 0) break;
        fields.set(String.fromCharCode(body[at]!), body.toString('utf8', at + 1, zero));
        at = zero + 1;
      }
      const severity = fields.get('V') ?? fields.get('S');
      if (severity === 'PANIC' || severity === 'FATAL') this.fatal = `${severity}: ${fields.get('M') ?? '(no message)'} (${fields.get('C') ?? '?'})`;
    }
    this.body = [];
    this.kept = 0;
    this.left = -1;
  }
}
