import type { ExpositionFormat } from './metric.js';

/** Content-Type of the Prometheus text format 0.0.4. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content-Type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * The Content-Type header for a format.
 *
 * @example
 * ```ts
 * contentType('openmetrics'); // 'application/openmetrics-text; version=1.0.0; charset=utf-8'
 * ```
 */
export function contentType(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
}

interface MediaRange {
  type: string;
  version: string | undefined;
  q: number;
}

/**
 * Picks the format from an Accept header by q-value: OpenMetrics when asked
 * for (version 1.0.0, 0.0.1 or none), otherwise the text format. Malformed
 * headers fall back to text, never to an error.
 *
 * @example
 * ```ts
 * negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'); // 'openmetrics'
 * ```
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || !/openmetrics/i.test(accept)) return 'text';
  let best: ExpositionFormat = 'text';
  let bestQ = -1;
  for (const range of parseAccept(accept)) {
    let candidate: ExpositionFormat | undefined;
    if (range.type === 'application/openmetrics-text' && (range.version === undefined || range.version === '1.0.0' || range.version === '0.0.1')) {
      candidate = 'openmetrics';
    } else if (range.type === 'text/plain' || range.type === '*/*' || range.type === 'text/*') {
      candidate = 'text';
    }
    // Ties go to OpenMetrics only when it was listed first (the client's order).
    if (candidate !== undefined && range.q > bestQ) {
      best = candidate;
      bestQ = range.q;
    }
  }
  return bestQ > 0 ? best : 'text';
}

/**
 * True when the Accept-Encoding header allows gzip (q > 0).
 *
 * @example
 * ```ts
 * acceptsGzip('gzip, deflate'); // true
 * ```
 */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined || !/gzip/i.test(acceptEncoding)) return false;
  for (const range of parseAccept(acceptEncoding)) {
    if (range.type === 'gzip' || range.type === 'x-gzip') return range.q > 0;
  }
  return false;
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of header.slice(0, 4096).split(',')) {
    const [typePart, ...params] = part.split(';');
    const type = (typePart ?? '').trim().toLowerCase();
    if (type === '') continue;
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      // Media types, codings and parameter names are case-insensitive; values may be quoted (RFC 9110).
      const [name = '', rawValue] = param.split('=').map((piece) => piece.trim());
      const key = name.toLowerCase();
      const value = rawValue?.replace(/^"(.*)"$/, '$1');
      if (key === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      } else if (key === 'version') {
        version = value;
      }
    }
    ranges.push({ type, version, q });
  }
  return ranges;
}
