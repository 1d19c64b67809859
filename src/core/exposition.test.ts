import { describe, expect, it } from 'vitest';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE, acceptsGzip, contentType, negotiateFormat, negotiateScrapeFormat } from './exposition.js';
import { PROTOBUF_CONTENT_TYPE } from './protobuf.js';

/** What Prometheus 2.42 sends when it scrapes. */
const PROMETHEUS_2_42 = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('contentType', () => {
  it('names both formats with version and charset', () => {
    expect(contentType('text')).toBe(TEXT_CONTENT_TYPE);
    expect(TEXT_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(contentType('openmetrics')).toBe(OPENMETRICS_CONTENT_TYPE);
    expect(OPENMETRICS_CONTENT_TYPE).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
  });
});

describe('negotiateFormat', () => {
  it.each([
    [PROMETHEUS_2_42, 'openmetrics'],
    // Prometheus with OpenMetrics scraping turned off.
    ['text/plain;version=0.0.4;q=1,*/*;q=0.1', 'text'],
    ['application/openmetrics-text', 'openmetrics'],
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['application/openmetrics-text;version=0.0.1', 'openmetrics'],
    [' application/openmetrics-text ; version = 1.0.0 ', 'openmetrics'],
    // A version we do not write is not an OpenMetrics request we can honour.
    ['application/openmetrics-text;version=2.0.0', 'text'],
    ['application/openmetrics-text;version=2.0.0,text/plain;q=0.5', 'text'],
  ])('%j -> %s', (accept, format) => {
    expect(negotiateFormat(accept)).toBe(format);
  });

  it('defaults to text for browsers, curl and missing headers', () => {
    for (const accept of [undefined, '', '*/*', 'text/plain', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json']) {
      expect(negotiateFormat(accept)).toBe('text');
    }
  });

  it('follows q-values', () => {
    expect(negotiateFormat('application/openmetrics-text;q=0.3,text/plain;q=0.9')).toBe('text');
    expect(negotiateFormat('text/plain;q=0.2,application/openmetrics-text;q=0.3')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;q=0.001')).toBe('openmetrics');
    // Out-of-range q-values are clamped to [0, 1].
    expect(negotiateFormat('application/openmetrics-text;q=5,text/plain;q=0.9')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;q=-1')).toBe('text');
  });

  it('breaks q-value ties in the client\'s order', () => {
    expect(negotiateFormat('application/openmetrics-text;q=0.5,text/plain;q=0.5')).toBe('openmetrics');
    expect(negotiateFormat('text/plain;q=0.5,application/openmetrics-text;q=0.5')).toBe('text');
    expect(negotiateFormat('*/*,application/openmetrics-text')).toBe('text');
  });

  it('treats media types and parameter names case-insensitively, and unquotes parameter values', () => {
    expect(negotiateFormat('Application/OpenMetrics-Text; Version=1.0.0')).toBe('openmetrics');
    expect(negotiateFormat('APPLICATION/OPENMETRICS-TEXT;Q=0.2,TEXT/PLAIN;Q=0.9')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version="1.0.0"')).toBe('openmetrics');
  });

  it('falls back to text on malformed headers, never throws', () => {
    const malformed = [
      ';;;,,,',
      'application/openmetrics-text;q=abc',
      'application/openmetrics-text;q=',
      'application/openmetrics-text;q',
      'openmetrics',
      ',,application/openmetrics-text;;q=0;;,',
      '\u0000\uFFFF openmetrics \uD800',
      `${'a'.repeat(10_000)},application/openmetrics-text`,
    ];
    for (const accept of malformed) expect(() => negotiateFormat(accept), accept.slice(0, 40)).not.toThrow();
    expect(malformed.map((accept) => negotiateFormat(accept)).slice(0, 7)).toEqual(['text', 'text', 'text', 'text', 'text', 'text', 'text']);
    // Only the first 4 KB of a header are read.
    expect(negotiateFormat(malformed[7])).toBe('text');
    expect(negotiateFormat(',,application/openmetrics-text;version=1.0.0')).toBe('openmetrics');
  });
});

const PROTOBUF = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

describe('negotiateScrapeFormat', () => {
  it.each([
    // Prometheus 2.42 with --enable-feature=native-histograms.
    [`${PROTOBUF},application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`, 'protobuf'],
    // Prometheus 2.42 without it.
    ['application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'openmetrics'],
    [`${PROTOBUF};q=0.5,text/plain;version=0.0.4;q=0.9`, 'text'],
    [`text/plain;q=0.5,${PROTOBUF};q=0.5`, 'text'],
    [`${PROTOBUF};q=0.5,text/plain;q=0.5`, 'protobuf'],
    [`${PROTOBUF};q=0`, 'text'],
    ['application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text', 'text'],
    ['application/vnd.google.protobuf;proto=other.Message;encoding=delimited', 'text'],
    ['Application/Vnd.Google.Protobuf; proto="io.prometheus.client.MetricFamily"; Encoding=Delimited', 'protobuf'],
  ])('%s -> %s', (accept, expected) => {
    expect(negotiateScrapeFormat(accept)).toBe(expected);
  });

  it('never picks protobuf where it is not allowed, and names its content type', () => {
    expect(negotiateScrapeFormat(PROTOBUF, false)).toBe('text');
    expect(negotiateScrapeFormat(`${PROTOBUF},application/openmetrics-text;q=0.5`, false)).toBe('openmetrics');
    expect(negotiateScrapeFormat(undefined)).toBe('text');
    expect(contentType('protobuf')).toBe(PROTOBUF_CONTENT_TYPE);
  });
});

describe('acceptsGzip', () => {
  it.each([
    ['gzip', true],
    ['gzip, deflate, br', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['x-gzip', true],
    ['identity, gzip;q=0.5', true],
    ['GZIP', true],
    ['Gzip;Q=0.5', true],
    ['gzip;q=0', false],
    ['gzip;q=0.0', false],
    ['gzip;q=abc', false],
    ['deflate', false],
    ['br, identity', false],
    ['notgzip', false],
    ['gzipped', false],
    ['', false],
    [';;,,', false],
  ])('%j -> %s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it('does not gzip without a header or for a bare wildcard', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('*')).toBe(false);
  });
});
