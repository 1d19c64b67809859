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
});
