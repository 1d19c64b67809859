/**
 * The snapshot a process sends over IPC: per metric family, its declaration,
 * one flat array of label values and one flat array of numbers. No exposition
 * text is rendered in a worker and none is parsed in the primary.
 */
import type { CounterSeries } from '../core/counter.js';
import type { GaugeSeries } from '../core/gauge.js';
import type { Histogram, HistogramSeries } from '../core/histogram.js';
import type { MetricType } from '../core/metric.js';
import type { NativeConfig } from '../core/native.js';
import type { Registry } from '../core/registry.js';
import type { StateSet, StateSetSeries } from '../core/stateset.js';
import type { Summary, SummarySeries } from '../core/summary.js';

/**
 * A number on the wire. JSON (node's default IPC serialization) turns
 * ±Infinity and NaN into `null`, so those travel as strings.
 *
 * @example
 * ```ts
 * const values: WireNumber[] = [1, '+Inf', 'NaN'];
 * ```
 */
export type WireNumber = number | '+Inf' | '-Inf' | 'NaN';

/**
 * One metric family, or one slice of its series, as plain data.
 *
 * Numbers per series, by type: counter and gauge `value`; histogram the
 * non-cumulative bucket counts (last is +Inf), `sum`, `count`, and when it is
 * native its sparse buckets (`NativeBuckets.toNumbers`); summary `sum`,
 * `count`, then its window: `zero`, `min`, `max`, `n`, n (index, count)
 * pairs of positive buckets, `m`, m pairs of negative buckets; stateset one
 * 0/1 per state; info none.
 *
 * @example
 * ```ts
 * const family: FamilyWire = {
 *   name: 'jobs', type: 'counter', help: 'Jobs.', labelNames: ['queue'],
 *   labelValues: ['mail', 'sms'], numbers: [3, 4],
 * };
 * ```
 */
export interface FamilyWire {
  /** Family name as the registry holds it (counters without `_total`, info without `_info`). */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit?: string;
  /** The registry's default label names first, then the metric's own. */
  readonly labelNames: readonly string[];
  readonly buckets?: readonly number[];
  /** A native histogram's declaration (its series then also carry their sparse buckets). */
  readonly native?: NativeConfig;
  readonly states?: readonly string[];
  readonly percentiles?: readonly number[];
  readonly relativeError?: number;
  /** `labelNames.length` values per series, series after series. */
  readonly labelValues: readonly string[];
  readonly numbers: readonly WireNumber[];
}

/**
 * Encodes a number for the wire.
 *
 * @example
 * ```ts
 * toWire(Infinity); // '+Inf'
 * ```
 */
export function toWire(value: number): WireNumber {
  if (Number.isFinite(value)) return value;
  if (value !== value) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/**
 * Decodes a wire number.
 *
 * @example
 * ```ts
 * fromWire('-Inf'); // -Infinity
 * ```
 */
export function fromWire(value: WireNumber | null | undefined): number {
  if (typeof value === 'number') return value;
  if (value === '+Inf') return Infinity;
  if (value === '-Inf') return -Infinity;
  return Number.NaN;
}

/**
 * Encoder settings.
 *
 * @example
 * ```ts
 * const options: EncodeOptions = { maxNumbers: 20_000, sliceMs: 4 };
 * ```
 */
export interface EncodeOptions {
  /** Chunk size: numbers plus label values per chunk (default 40,000). */
  readonly maxNumbers?: number;
  /** Longest stretch of encoding between two chunks, in ms (default 4). */
  readonly sliceMs?: number;
  /** Family names to leave out. */
  readonly exclude?: ReadonlySet<string>;
}

type AnyMetric = ReturnType<Registry['list']>[number];

/**
 * Encodes registries as chunks of family slices. Each chunk is handed out as
 * soon as it is full or its time slice is spent, and the event loop runs
 * before the next one starts: a big registry never blocks for long. Families
 * already taken by an earlier registry in the list are skipped.
 *
 * @example
 * ```ts
 * for await (const families of encodeRegistries([registry])) process.send!({ families });
 * ```
 */
export async function* encodeRegistries(registries: readonly Registry[], options: EncodeOptions = {}): AsyncGenerator<FamilyWire[], void, undefined> {
  const maxNumbers = options.maxNumbers ?? 40_000;
  const sliceMs = options.sliceMs ?? 4;
  const seen = new Set<string>(options.exclude);
  let chunk: FamilyWire[] = [];
  let size = 0;
  let sliceEnd = performance.now() + sliceMs;
  for (const registry of registries) {
    const constNames = Object.keys(registry.defaultLabels);
    const constValues = Object.values(registry.defaultLabels);
    for (const metric of registry.list() as AnyMetric[]) {
      if (seen.has(metric.name)) continue;
      seen.add(metric.name);
      const declaration = declare(metric, constNames);
      const series = metric.series;
      let start = 0;
      do {
        const labelValues: string[] = [];
        const numbers: WireNumber[] = [];
        let index = start;
        // Series may come and go while the caller sends a chunk: read the live length.
        for (; index < series.length; index++) {
          for (const value of constValues) labelValues.push(value);
          for (const value of series[index].labelValues as readonly string[]) labelValues.push(value);
          encodeSeries(metric, series[index], numbers);
          if (((index - start) & 63) === 63 && (size + labelValues.length + numbers.length >= maxNumbers || performance.now() > sliceEnd)) {
            index++;
            break;
          }
        }
        if (index > start || start === 0) {
          chunk.push({ ...declaration, labelValues, numbers });
          size += labelValues.length + numbers.length + 1;
        }
        start = index;
        if (size >= maxNumbers || performance.now() > sliceEnd) {
          yield chunk;
          chunk = [];
          size = 0;
          // The caller's own awaits may not reach the event loop (an IPC send
          // that fits the pipe calls back on nextTick): yield to it here.
          await new Promise((resolve) => setImmediate(resolve));
          sliceEnd = performance.now() + sliceMs;
        }
      } while (start < series.length);
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Encodes registries into one list of families (for local registries and tests).
 *
 * @example
 * ```ts
 * const families = await encodeAll([registry]);
 * ```
 */
export async function encodeAll(registries: readonly Registry[], options: EncodeOptions = {}): Promise<FamilyWire[]> {
  const families: FamilyWire[] = [];
  for await (const chunk of encodeRegistries(registries, options)) families.push(...chunk);
  return families;
}

function declare(metric: AnyMetric, constNames: readonly string[]): Omit<FamilyWire, 'labelValues' | 'numbers'> {
  const base = {
    name: metric.name,
    type: metric.type,
    help: metric.help,
    labelNames: [...constNames, ...metric.labelNames],
    ...(metric.unit !== undefined && { unit: metric.unit }),
  };
  switch (metric.type) {
    case 'histogram':
    {
      const histogram = metric as unknown as Histogram<string>;
      return { ...base, buckets: histogram.buckets, ...(histogram.native !== undefined && { native: histogram.native }) };
    }
    case 'stateset':
      return { ...base, states: (metric as unknown as StateSet<string>).states };
    case 'summary': {
      const summary = metric as unknown as Summary<string>;
      const first = summary.series[0];
      return { ...base, percentiles: summary.percentiles, ...(first !== undefined && { relativeError: first.window.relativeError }) };
    }
    default:
      return base;
  }
}

function encodeSeries(metric: AnyMetric, series: unknown, numbers: WireNumber[]): void {
  switch (metric.type) {
    case 'counter':
    case 'gauge':
      numbers.push(toWire((series as CounterSeries | GaugeSeries).value));
      return;
    case 'histogram': {
      const histogram = series as HistogramSeries;
      const counts = histogram.counts;
      for (let index = 0; index < counts.length; index++) numbers.push(counts[index]!);
      numbers.push(toWire(histogram.sum), histogram.count);
      if (histogram.native !== undefined) for (const value of histogram.native.toNumbers()) numbers.push(value);
      return;
    }
    case 'summary': {
      const summary = series as SummarySeries;
      const sketch = summary.window.snapshot();
      numbers.push(toWire(summary.sum), summary.count, sketch.zero, toWire(sketch.min), toWire(sketch.max));
      numbers.push(sketch.positive.length / 2, ...sketch.positive, sketch.negative.length / 2, ...sketch.negative);
      return;
    }
    case 'stateset':
      for (const on of (series as StateSetSeries).enabled) numbers.push(on);
      return;
    default:
      return;
  }
}

/**
 * Types whose numbers only go up: safe to keep from a stale or exited process.
 *
 * @example
 * ```ts
 * MONOTONIC_TYPES.has('counter'); // true
 * ```
 */
export const MONOTONIC_TYPES: ReadonlySet<MetricType> = new Set<MetricType>(['counter', 'histogram', 'summary']);
