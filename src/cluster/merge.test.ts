import { describe, expect, it } from 'vitest';
import type { CounterSeries } from '../core/counter.js';
import type { GaugeSeries } from '../core/gauge.js';
import type { HistogramSeries } from '../core/histogram.js';
import { NativeBuckets } from '../core/native.js';
import { SlidingQuantiles } from '../core/quantiles.js';
import { seededRandom } from '../../test/support/random.js';
import { Registry, type RegistryOptions } from '../core/registry.js';
import type { StateSetSeries } from '../core/stateset.js';
import type { SummarySeries } from '../core/summary.js';
import { mergeSources, type GaugeMode, type Source } from './merge.js';
import { resolvePrimaryOptions } from './options.js';
import { encodeAll } from './wire.js';

async function sourcesOf(registries: readonly Registry[], stale: readonly boolean[] = []): Promise<Source[]> {
  return Promise.all(registries.map(async (registry, index) => ({ worker: String(index + 1), stale: stale[index] ?? false, families: await encodeAll([registry]) })));
}

function merge(sources: readonly Source[], mode: GaugeMode | ((name: string) => GaugeMode) = 'sum', conflicts: string[] = []): Promise<Registry> {
  return mergeSources(sources, { gaugeMode: typeof mode === 'function' ? mode : () => mode, workerLabel: 'worker', onConflict: (name) => conflicts.push(name) });
}

function seriesOf<S>(registry: Registry, name: string, labels: Record<string, string> = {}): S {
  const metric = registry.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const before = metric.seriesCount;
  const series = metric.labels(labels) as S;
  if (metric.seriesCount !== before) throw new Error(`${name} had no series ${JSON.stringify(labels)}`);
  return series;
}

function workers(count: number, options: RegistryOptions = {}): Registry[] {
  return Array.from({ length: count }, () => new Registry(options));
}

describe('mergeSources', () => {
  it('sums counters per label set and unites label sets', async () => {
    const registries = workers(3);
    registries.forEach((registry, index) => {
      const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs.', labelNames: ['queue'] });
      jobs.labels({ queue: 'mail' }).inc(index + 1);
      if (index === 2) jobs.labels({ queue: 'sms' }).inc(7);
      registry.counter({ name: 'ticks', help: 'Ticks.' }).inc(10 * (index + 1));
    });
    const merged = await merge(await sourcesOf(registries));
    expect(seriesOf<CounterSeries>(merged, 'jobs', { queue: 'mail' }).value).toBe(6);
    expect(seriesOf<CounterSeries>(merged, 'jobs', { queue: 'sms' }).value).toBe(7);
    expect(seriesOf<CounterSeries>(merged, 'ticks').value).toBe(60);
    const text = await merged.metrics();
    expect(text).toContain('jobs_total{queue="mail"} 6\n');
    expect(text).toContain('ticks_total 60\n');
  });

  it.each([
    ['sum', 3 + 5 + 1],
    ['max', 5],
    ['min', 1],
  ] as const)('merges gauges by %s', async (mode, expected) => {
    const registries = workers(3);
    [3, 5, 1].forEach((value, index) => registries[index]!.gauge({ name: 'in_flight', help: 'In flight.', labelNames: ['method'] }).labels({ method: 'GET' }).set(value));
    const merged = await merge(await sourcesOf(registries), mode);
    expect(seriesOf<GaugeSeries>(merged, 'in_flight', { method: 'GET' }).value).toBe(expected);
  });

  it('keeps each worker\'s gauge apart with a worker label in worker mode, and min/max see negative values', async () => {
    const registries = workers(3);
    [-3, -5, -1].forEach((value, index) => registries[index]!.gauge({ name: 'temperature', help: 'T.' }).set(value));
    const perWorker = await merge(await sourcesOf(registries), 'worker');
    expect([1, 2, 3].map((worker) => seriesOf<GaugeSeries>(perWorker, 'temperature', { worker: String(worker) }).value)).toEqual([-3, -5, -1]);
    expect(await perWorker.metrics()).toContain('temperature{worker="2"} -5\n');
    expect(seriesOf<GaugeSeries>(await merge(await sourcesOf(registries), 'max'), 'temperature').value).toBe(-1);
    expect(seriesOf<GaugeSeries>(await merge(await sourcesOf(registries), 'min'), 'temperature').value).toBe(-5);
  });

  it('resolves gauge modes per family over the built-in ones and the default', () => {
    const resolved = resolvePrimaryOptions({ gauges: 'worker', gaugeModes: { queue_depth: 'max', nodejs_eventloop_lag_seconds: 'sum' } });
    expect(resolved.gaugeMode('queue_depth')).toBe('max');
    expect(resolved.gaugeMode('process_start_time_seconds')).toBe('min');
    expect(resolved.gaugeMode('nodejs_eventloop_lag_seconds')).toBe('sum');
    expect(resolved.gaugeMode('anything_else')).toBe('worker');
    expect(() => resolvePrimaryOptions({ gauges: 'avg' as GaugeMode })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_OPTION' }));
    expect(() => resolvePrimaryOptions({ timeoutMs: 0 })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_OPTION' }));
    expect(() => resolvePrimaryOptions({ workerLabel: '__w' })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_OPTION' }));
  });

  it('sums histogram buckets, sums and counts', async () => {
    const registries = workers(2);
    registries.forEach((registry, index) => {
      const latency = registry.histogram({ name: 'latency_seconds', help: 'L.', unit: 'seconds', labelNames: ['route'], buckets: [0.1, 1] });
      for (let count = 0; count <= index; count++) latency.labels({ route: '/a' }).observe(0.05);
      latency.labels({ route: '/a' }).observe(5);
    });
    const merged = await merge(await sourcesOf(registries));
    const series = seriesOf<HistogramSeries>(merged, 'latency_seconds', { route: '/a' });
    expect([...series.counts]).toEqual([3, 0, 2]);
    expect(series.count).toBe(5);
    expect(series.sum).toBeCloseTo(10.15, 10);
    expect(await merged.metrics()).toContain('latency_seconds_bucket{route="/a",le="+Inf"} 5\n');
  });

  it('merges summary windows as sketches: the quantiles equal one sketch fed every value', async () => {
    const registries = workers(4);
    const all = new SlidingQuantiles({ maxAgeSeconds: 600, ageBuckets: 5, relativeError: 0.01 });
    let sum = 0;
    registries.forEach((registry, worker) => {
      const sizes = registry.summary({ name: 'payload_bytes', help: 'P.', percentiles: [0.01, 0.5, 0.9, 0.99], labelNames: ['model'] });
      for (let index = 0; index < 500; index++) {
        // Each worker sees another range, so no single worker's quantiles are the cluster's.
        const value = (worker - 1.5) * 1000 + ((index * 7919) % 1000) + (index % 50 === 0 ? 0 : 0.5);
        sizes.labels({ model: 'mlp' }).observe(value);
        all.observe(value);
        sum += value;
      }
    });
    const merged = await merge(await sourcesOf(registries));
    const series = seriesOf<SummarySeries>(merged, 'payload_bytes', { model: 'mlp' });
    expect(series.count).toBe(2000);
    expect(series.sum).toBeCloseTo(sum, 6);
    expect(series.window.quantiles([0.01, 0.5, 0.9, 0.99])).toEqual(all.quantiles([0.01, 0.5, 0.9, 0.99]));
    expect(await merged.metrics()).toMatch(/payload_bytes\{model="mlp",quantile="0\.5"\} -?\d/);
  });

  it('unites info label sets and ORs state sets', async () => {
    const registries = workers(2);
    registries.forEach((registry, index) => {
      registry.info({ name: 'model_info', help: 'Model.', labelNames: ['version'] }).set({ version: String(index + 1) });
      const state = registry.stateSet({ name: 'model_state', help: 'State.', states: ['loading', 'serving'], labelNames: ['model'] });
      state.labels({ model: 'mlp' }).set(index === 0 ? 'loading' : 'serving');
      state.labels({ model: 'cnn' }).set('serving');
    });
    const merged = await merge(await sourcesOf(registries));
    const text = await merged.metrics('openmetrics');
    expect(text).toContain('model_info{version="1"} 1\n');
    expect(text).toContain('model_info{version="2"} 1\n');
    expect([...seriesOf<StateSetSeries>(merged, 'model_state', { model: 'mlp' }).enabled]).toEqual([1, 1]);
    expect([...seriesOf<StateSetSeries>(merged, 'model_state', { model: 'cnn' }).enabled]).toEqual([0, 1]);
  });

  it('turns default labels into labels and fills a label a process lacks with ""', async () => {
    const [withApp, without] = [new Registry({ defaultLabels: { app: 'api' } }), new Registry()];
    withApp.counter({ name: 'hits', help: 'H.', labelNames: ['route'] }).labels({ route: '/a' }).inc(2);
    without.counter({ name: 'hits', help: 'H.', labelNames: ['route'] }).labels({ route: '/a' }).inc(3);
    const merged = await merge(await sourcesOf([withApp, without]));
    const text = await merged.metrics();
    expect(text).toContain('hits_total{app="api",route="/a"} 2\n');
    expect(text).toContain('hits_total{app="",route="/a"} 3\n');
  });

  it('leaves out a family declared differently, and reports it once', async () => {
    const registries = workers(3);
    registries.forEach((registry, index) => registry.histogram({ name: 'size_bytes', help: 'S.', buckets: index === 1 ? [1, 2] : [1, 10] }).observe(1));
    registries[2]!.gauge({ name: 'jobs', help: 'as a gauge' }).set(1);
    registries[0]!.counter({ name: 'jobs', help: 'as a counter' }).inc(4);
    const conflicts: string[] = [];
    const merged = await merge(await sourcesOf(registries), 'sum', conflicts);
    expect(seriesOf<HistogramSeries>(merged, 'size_bytes').count).toBe(2);
    expect(seriesOf<CounterSeries>(merged, 'jobs').value).toBe(4);
    expect(conflicts.sort()).toEqual(['jobs', 'size_bytes']);
  });

  it('takes only counters, histograms and summary totals from a stale source', async () => {
    const registries = workers(2);
    registries.forEach((registry) => {
      registry.counter({ name: 'done_total', help: 'D.' }).inc(5);
      registry.gauge({ name: 'depth', help: 'D.' }).set(9);
      registry.summary({ name: 'wait_seconds', help: 'W.', percentiles: [0.5] }).observe(100);
      registry.info({ name: 'build', help: 'B.', labelNames: ['v'] }).set({ v: '1' });
    });
    registries[0]!.get('wait_seconds')!.labels({}).observe(1);
    const merged = await merge(await sourcesOf(registries, [false, true]));
    expect(seriesOf<CounterSeries>(merged, 'done').value).toBe(10);
    expect(seriesOf<GaugeSeries>(merged, 'depth').value).toBe(9);
    const wait = seriesOf<SummarySeries>(merged, 'wait_seconds');
    expect([wait.count, wait.sum]).toEqual([3, 201]);
    // The stale worker's window is not in the quantiles: the fresh one saw 1 and 100.
    expect(wait.window.quantiles([0, 1])).toEqual([1, 100]);
  });

  it('keeps non-finite values through JSON (node IPC\'s default serialization)', async () => {
    const registry = new Registry();
    registry.gauge({ name: 'limit', help: 'L.', labelNames: ['kind'] }).labels({ kind: 'up' }).set(Infinity);
    registry.gauge({ name: 'limit2', help: 'L.', labelNames: ['kind'] }).labels({ kind: 'nan' }).set(Number.NaN);
    const families = JSON.parse(JSON.stringify(await encodeAll([registry]))) as Source['families'];
    const text = await (await merge([{ worker: '1', stale: false, families }])).metrics();
    expect(text).toContain('limit{kind="up"} +Inf\n');
    expect(text).toContain('limit2{kind="nan"} NaN\n');
  });

  describe('native histograms', () => {
    /** Buckets brought to `schema` (which must not be finer than theirs), as sorted (index, count) pairs per sign. */
    function at(buckets: NativeBuckets, schema: number): { zero: number; positive: number[]; negative: number[]; infinities: number[] } {
      const copy = new NativeBuckets({ schema, zeroThreshold: buckets.zeroThreshold, maxBuckets: Number.MAX_SAFE_INTEGER });
      copy.absorb(buckets.toNumbers(), 0);
      expect(copy.schema).toBe(schema);
      return { zero: copy.zeroCount, positive: copy.positive.pairs(), negative: copy.negative.pairs(), infinities: [copy.positiveInfinity, copy.negativeInfinity] };
    }

    it('adds the sparse buckets of workers at different resolutions exactly, at the coarser schema', async () => {
      const random = seededRandom(17);
      const native = { schema: 5, maxBuckets: 40, zeroThreshold: 1e-6 };
      const registries = workers(3);
      const reference = new NativeBuckets({ schema: 5, zeroThreshold: 1e-6, maxBuckets: Number.MAX_SAFE_INTEGER });
      let count = 0;
      let sum = 0;
      registries.forEach((registry, worker) => {
        const histogram = registry.histogram({ name: 'rpc_seconds', help: 'RPC time.', labelNames: ['route'], native });
        // Worker 1 sees a narrow range (stays fine), worker 2 a wide one (its limit lowers its schema), worker 3 zeros, negatives and infinities too.
        for (let index = 0; index < 2_000; index++) {
          const value = worker === 0 ? 0.05 + random() * 0.01 : worker === 1 ? Math.exp(random() * 20 - 12) : [0, -random(), Infinity, -Infinity, random()][index % 5]!;
          histogram.labels({ route: '/a' }).observe(value);
          reference.observe(value);
          count++;
          sum += value;
        }
      });
      const schemas = registries.map((registry) => (registry.get('rpc_seconds')!.labels({ route: '/a' }) as HistogramSeries).native!.schema);
      expect(new Set(schemas).size).toBeGreaterThan(1);
      const merged = await merge(await sourcesOf(registries));
      const series = seriesOf<HistogramSeries>(merged, 'rpc_seconds', { route: '/a' });
      expect(series.count).toBe(count);
      expect(series.sum).toBeNaN(); // +Inf and -Inf observed: Prometheus's sum is NaN then, as here
      expect(Number.isNaN(sum)).toBe(true);
      const mergedNative = series.native!;
      expect(mergedNative.schema).toBeLessThanOrEqual(Math.min(...schemas));
      expect(mergedNative.positive.populated + mergedNative.negative.populated).toBeLessThanOrEqual(native.maxBuckets);
      // The same as one histogram that saw every value, at the merged resolution.
      expect(at(mergedNative, mergedNative.schema)).toEqual(at(reference, mergedNative.schema));
      // And the protobuf exposition carries it: the merged registry renders as any other.
      expect(await merged.metrics()).toContain('rpc_seconds_count{route="/a"} 6000');
    });

    it('leaves out a native family whose zero bucket differs between workers, and reports it', async () => {
      const registries = workers(2);
      registries.forEach((registry, worker) => registry.histogram({ name: 'rpc_seconds', help: 'RPC time.', native: { zeroThreshold: worker === 0 ? 1e-6 : 1e-3 } }).observe(0.5));
      const conflicts: string[] = [];
      const merged = await merge(await sourcesOf(registries), 'sum', conflicts);
      expect(conflicts).toEqual(['rpc_seconds']);
      expect(seriesOf<HistogramSeries>(merged, 'rpc_seconds').count).toBe(1);
    });
  });
});
