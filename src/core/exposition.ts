import type { ExpositionFormat } from './metric.js';
import { PROTOBUF_CONTENT_TYPE } from './protobuf.js';

/** Every format a scrape can get: the two text formats and protobuf. */
export type ScrapeFormat = ExpositionFormat | 'protobuf';

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
export function contentType(format: ScrapeFormat): string {
  if (format === 'protobuf') return PROTOBUF_CONTENT_TYPE;
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE;
}

interface MediaRange {
  type: string;
  version: string | undefined;
  proto: string | undefined;
  encoding: string | undefined;
  q: number;
}

/**
 * Picks the scrape format from an Accept header by q-value, protobuf
 * included (`application/vnd.google.protobuf` with
 * `proto=io.prometheus.client.MetricFamily; encoding=delimited`, what
 * Prometheus asks for first when native histograms are enabled). Ties go to
 * the range listed first; malformed headers fall back to text.
 *
 * @example
 * ```ts
 * negotiateScrapeFormat('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.8,text/plain;q=0.5'); // 'protobuf'
 * ```
 */
export function negotiateScrapeFormat(accept: string | undefined, protobufAllowed = true): ScrapeFormat {
  if (accept === undefined) return 'text';
  const protobuf = protobufAllowed && /vnd\.google\.protobuf/i.test(accept);
  if (!protobuf && !/openmetrics/i.test(accept)) return 'text';
  let best: ScrapeFormat = 'text';
  let bestQ = -1;
  for (const range of parseAccept(accept)) {
    const candidate = formatOf(range, protobuf);
    // Ties go to the range listed first (the client's order).
    if (candidate !== undefined && range.q > bestQ) {
      best = candidate;
      bestQ = range.q;
    }
  }
  return bestQ > 0 ? best : 'text';
}

/** The format a media range asks for, if lookout serves it. */
function formatOf(range: MediaRange, protobuf: boolean): ScrapeFormat | undefined {
  if (range.type === 'application/vnd.google.protobuf') {
    return protobuf && range.proto === 'io.prometheus.client.MetricFamily' && range.encoding === 'delimited' ? 'protobuf' : undefined;
  }
  if (range.type === 'application/openmetrics-text') {
    return range.version === undefined || range.version === '1.0.0' || range.version === '0.0.1' ? 'openmetrics' : undefined;
  }
  return range.type === 'text/plain' || range.type === '*/*' || range.type === 'text/*' ? 'text' : undefined;
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
  const format = negotiateScrapeFormat(accept, false);
  return format === 'protobuf' ? 'text' : format;
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
    let proto: string | undefined;
    let encoding: string | undefined;
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
      } else if (key === 'proto') {
        proto = value;
      } else if (key === 'encoding') {
        encoding = value?.toLowerCase();
      }
    }
    ranges.push({ type, version, proto, encoding, q });
  }
  return ranges;
}
