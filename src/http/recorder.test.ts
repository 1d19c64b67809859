import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { pathOf } from './methods.js';
import { resolveHttpOptions } from './options.js';
import { HttpRecorder, removeRecorder } from './recorder.js';

describe('HttpRecorder.skips', () => {
  it('skips a URL exactly when its path, query string cut off, is a skipped path', () => {
    const recorder = new HttpRecorder(resolveHttpOptions({ registry: new Registry(), skipPaths: ['/metrics', '/health', '/'] }));
    try {
      const urls = [undefined, '/', '/?x=1', '/metrics', '/metrics?', '/metrics?name[]=up', '/metrics/', '/metricsx', '/metric', '/metrics#x',
        '/health?full=1', '/healthz', '/users/7', '/users/7?next=/metrics', '/?/metrics', '', '?'];
      for (const url of urls) expect(recorder.skips(url), String(url)).toBe(recorder.skips(pathOf(url)));
      expect(urls.filter((url) => recorder.skips(url))).toEqual([undefined, '/', '/?x=1', '/metrics', '/metrics?', '/metrics?name[]=up', '/health?full=1', '/?/metrics']);
    } finally {
      removeRecorder(recorder);
    }
  });

  it('agrees with a set of paths for any skip list, one-character, empty and non-ASCII paths included', () => {
    const lists = [['/metrics'], ['/'], [''], ['x'], ['/é', '/metrics'], ['/ü/x', '/a'], ['/metrics', '/lookout', '/lookout/api']];
    const urls = ['', '?', '?a', '/', '/?', '/?q', '/a', '/a?', '/ab', '/é', '/é?x', '/éx', '/ü/x', '/ü/x?y', 'x', 'x?', 'xy', '/metrics', '/metrics?a', '/lookout/api?x', '/lookout/', '/m', '/\u00ff'];
    for (const skipPaths of lists) {
      const recorder = new HttpRecorder(resolveHttpOptions({ registry: new Registry(), skipPaths }));
      try {
        for (const url of urls) expect(recorder.skips(url), `${JSON.stringify(skipPaths)} ${url}`).toBe(skipPaths.includes(pathOf(url)));
      } finally {
        removeRecorder(recorder);
      }
    }
  });
});
