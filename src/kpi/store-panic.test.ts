import { describe, expect, it } from 'vitest';
import { BackendPanicWatch } from './store-panic.js';

/** A backend message: type byte, length, body. */
function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function errorResponse(severity: string, code: string, text: string): Buffer {
  return message('E', Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${text}\0\0`, 'utf8'));
}

const ready = message('Z', Buffer.from('I'));
const row = message('D', Buffer.from('\0\x01\0\0\0\x0aVPANIC\0xyz', 'latin1')); // a data row that looks like a severity field

describe('BackendPanicWatch', () => {
  it('finds a PANIC ErrorResponse however the reply is cut into chunks', () => {
    const reply = Buffer.concat([row, errorResponse('PANIC', '53100', 'could not write to file "pg_wal/xlogtemp.42": No space left on device'), ready]);
    for (const size of [1, 3, 7, reply.length]) {
      const watch = new BackendPanicWatch();
      for (let at = 0; at < reply.length; at += size) watch.feed(reply.subarray(at, at + size));
      expect(watch.fatal).toBe('PANIC: could not write to file "pg_wal/xlogtemp.42": No space left on device (53100)');
    }
  });

  it('ignores an ERROR, a notice and data rows (the backend is still usable)', () => {
    const watch = new BackendPanicWatch();
    watch.feed(Buffer.concat([row, errorResponse('ERROR', '53100', 'could not extend file "base/5/16395": No space left on device'), message('N', Buffer.from('SWARNING\0VWARNING\0Mx\0\0')), ready]));
    expect(watch.fatal).toBeUndefined();
  });

  it('reports FATAL too', () => {
    const watch = new BackendPanicWatch();
    watch.feed(errorResponse('FATAL', '57P01', 'terminating connection'));
    expect(watch.fatal).toBe('FATAL: terminating connection (57P01)');
  });
});
