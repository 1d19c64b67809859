import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { sumOf } from '../../test/support/http.js';
import { serveMetrics } from './serve.js';

// 20,000 histogram series are ~15 MB of text: more than loopback socket buffers hold.
const SERIES = 20_000;

/** Largest gap between the ticks of a 1 ms timer while `work` runs. */
async function longestBlock(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return longest;
}

describe('a slow client on /metrics', () => {
  it('holds neither the event loop nor the other scrapers: its answer waits on backpressure', async () => {
    const registry = new Registry({ maxSeriesPerMetric: SERIES });
    const latency = registry.histogram({ name: 'job_duration_seconds', help: 'Job time.', labelNames: ['id'] });
    for (let index = 0; index < SERIES; index++) latency.labels({ id: `job-${index}` }).observe(index % 7);
    const metricsServer = await serveMetrics({ registry, port: 0 });
    const { port } = new URL(metricsServer.url);
    // A client that asks for 50k series and then reads nothing (a stalled scraper or an attacker).
    const slow = connect(Number(port), '127.0.0.1');
    slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n');
    slow.pause();
    // Waiting for 'drain' once per chunk must not pile listeners on the response.
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    let received = 0;
    let tail = Buffer.alloc(0);
    try {
      const block = await longestBlock(async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Another scraper is served in full meanwhile (counted as bytes: decoding
        // 15 MB in this same process would itself block the loop being measured).
        const response = await fetch(metricsServer.url, { headers: { 'accept-encoding': 'identity' } });
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          received += chunk.byteLength;
          tail = Buffer.concat([tail, Buffer.from(chunk)]).subarray(-200);
        }
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      console.log(`longest event-loop block with a stalled 20k-histogram-series scrape in progress: ${block.toFixed(1)} ms`);
      expect(received).toBeGreaterThan(10e6);
      expect(tail.toString()).toMatch(/lookout_scrape_errors_total \d+\n$/);
      expect(block).toBeLessThan(100);
      // The stalled answer is suspended by backpressure: only the full one has completed.
      expect(sumOf(await registry.metrics(), 'lookout_render_duration_seconds_count')).toBe(1);
      // And that full answer had every series.
      expect(sumOf(await (await fetch(metricsServer.url)).text(), 'job_duration_seconds_count')).toBe(SERIES);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      slow.destroy();
      await metricsServer.close();
    }
  }, 30_000);
});
