import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { rawHeader, ScannedHeaders, scanRequestHeaders } from './headers.js';
import { traceIdFromTraceparent, traceIdOfTraceparent } from './options.js';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER_PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function request(rawHeaders: string[]): IncomingMessage {
  return { rawHeaders } as unknown as IncomingMessage;
}

/** What the two separate lookups the walk replaces give for the same request. */
function expected(req: IncomingMessage): { contentLength: number; traceparent: string | undefined } {
  const length = rawHeader(req, 'content-length');
  const bytes = length === undefined ? 0 : Number(length);
  return { contentLength: bytes >= 0 ? bytes : 0, traceparent: rawHeader(req, 'traceparent') };
}

describe('scanRequestHeaders', () => {
  const cases: [string, string[]][] = [
    ['no headers', []],
    ['neither header', ['Host', 'localhost', 'Connection', 'keep-alive']],
    ['a content-length', ['Host', 'x', 'Content-Length', '1234']],
    ['lower-case names', ['content-length', '7', 'traceparent', PARENT]],
    ['mixed-case traceparent', ['TraceParent', PARENT, 'Content-Length', '0']],
    ['two content-lengths (joined: no number)', ['Content-Length', '5', 'content-length', '5']],
    ['a negative content-length', ['Content-Length', '-3']],
    ['a content-length that is no number', ['Content-Length', 'abc']],
    ['two traceparents (joined as rawHeader joins them)', ['traceparent', PARENT, 'traceparent', OTHER_PARENT]],
    ['names of the same lengths that are other headers', ['x-forwarded-by', 'a', 'x-requestid', 'b', 'Content-Length', '12']],
  ];
  for (const [name, headers] of cases) {
    it(`gives what rawHeader gives: ${name}`, () => {
      const req = request(headers);
      const scanned = new ScannedHeaders();
      scanRequestHeaders(req, true, scanned);
      expect({ contentLength: scanned.contentLength, traceparent: scanned.traceparent }).toEqual(expected(req));
      expect(traceIdOfTraceparent(scanned.traceparent)).toBe(traceIdFromTraceparent(req));
    });
  }

  it('reads the declared size and the trace id of a request', () => {
    const scanned = new ScannedHeaders();
    scanRequestHeaders(request(['Content-Length', '42', 'traceparent', PARENT]), true, scanned);
    expect(scanned.contentLength).toBe(42);
    expect(traceIdOfTraceparent(scanned.traceparent)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('leaves traceparent out when not asked for it, and forgets the previous request', () => {
    const scanned = new ScannedHeaders();
    scanRequestHeaders(request(['Content-Length', '42', 'traceparent', PARENT]), true, scanned);
    scanRequestHeaders(request(['traceparent', PARENT]), false, scanned);
    expect(scanned.contentLength).toBe(0);
    expect(scanned.traceparent).toBeUndefined();
  });

  it('reads a headers object when the request has no rawHeaders', () => {
    const scanned = new ScannedHeaders();
    scanRequestHeaders({ headers: { 'content-length': '99', traceparent: [PARENT, OTHER_PARENT] } } as unknown as IncomingMessage, true, scanned);
    expect(scanned.contentLength).toBe(99);
    expect(scanned.traceparent).toBe(`${PARENT}, ${OTHER_PARENT}`);
  });
});
