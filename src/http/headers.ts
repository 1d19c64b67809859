import type { IncomingMessage } from 'node:http';

/**
 * Reads one request header from `rawHeaders` without touching `req.headers`:
 * Node builds that object lazily on first access, and on a plain node:http
 * server that never reads it, building it would be most of lookout's cost.
 * Multiple values are joined with ', ' as `req.headers` would.
 *
 * @example
 * ```ts
 * rawHeader(req, 'content-length'); // '1234' or undefined
 * ```
 */
export function rawHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  if (!Array.isArray(raw)) return headerValue(req.headers?.[lowerCaseName]);
  const length = lowerCaseName.length;
  let found: string | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!;
    if (name.length === length && (name === lowerCaseName || name.toLowerCase() === lowerCaseName)) {
      found = found === undefined ? raw[index + 1] : `${found}, ${raw[index + 1]}`;
    }
  }
  return found;
}

/** A header value from a headers object (`req.headers`), arrays joined as node joins them. */
function headerValue(value: string | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  return Array.isArray(value) ? value.join(', ') : undefined;
}
