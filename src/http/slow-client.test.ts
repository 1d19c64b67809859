import { connect } from 'node:net';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { sumOf } from '../../test/support/http.js';
import { serveMetrics } from './serve.js';

// 20,000 histogram series are ~15 MB of text: more than loopback socket buffers hold.
const SERIES = 20_000;

/**
 * Largest gap between the ticks of a 1 ms timer while `work` runs, counting of each gap
 * neither the garbage collector's pauses in it (V8's, not lookout's: the other scraper's
 * 15 MB of strings make some) nor time this process spent without a CPU (on a busy machine
 * the scheduler leaves a process off the CPU for 100 ms and more: seen here at load 10-14).
 * Returns that, the longest gap of wall time and the GC pauses in all.
 */
async function longestBlock(work: () => Promise<void>): Promise<{ busy: number; wall: number; gc: number }> {
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const gaps: { from: number; to: number; cpu: number }[] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    gaps.push({ from: last, to: now, cpu: (cpu.user + cpu.system) / 1000 });
    last = now;
    lastCpu = process.cpuUsage();
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  await new Promise((resolve) => setImmediate(resolve)); // gc entries arrive after the fact
  observer.disconnect();
  const gcWithin = (from: number, to: number): number =>
    gcs.reduce((sum, gc) => sum + Math.max(0, Math.min(to, gc.startTime + gc.duration) - Math.max(from, gc.startTime)), 0);
  let busy = 0;
  let wall = 0;
  for (const gap of gaps) {
    const gc = gcWithin(gap.from, gap.to);
    busy = Math.max(busy, Math.min(gap.to - gap.from, gap.cpu) - gc);
    wall = Math.max(wall, gap.to - gap.from);
  }
  return { busy, wall, gc: gcs.reduce((sum, gc) => sum + gc.duration, 0) };
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
      console.log(`longest event-loop block with a stalled 20k-histogram-series scrape in progress: ${block.busy.toFixed(1)} ms on the CPU, GC pauses taken off (${block.wall.toFixed(1)} ms of wall time; GC pauses ${block.gc.toFixed(1)} ms in all)`);
      expect(received).toBeGreaterThan(10e6);
      expect(tail.toString()).toMatch(/lookout_scrape_errors_total \d+\n$/);
      expect(block.busy).toBeLessThan(100);
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
