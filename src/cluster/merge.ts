/**
 * Merges snapshots of several processes into one fresh Registry, which then
 * renders the answer with the core's own exposition code (both formats).
 */
import type { CounterSeries } from '../core/counter.js';
import type { GaugeSeries } from '../core/gauge.js';
import type { HistogramSeries } from '../core/histogram.js';
import type { LabelValues } from '../core/metric.js';
import type { NativeConfig } from '../core/native.js';
import { Registry } from '../core/registry.js';
import type { StateSetSeries } from '../core/stateset.js';
import type { SummarySeries } from '../core/summary.js';
import { fromWire, MONOTONIC_TYPES, type FamilyWire, type WireNumber } from './wire.js';

/**
 * How gauges of several processes become one: `sum`, `max`, `min`, or
 * `worker` (each process keeps its series, with a `worker` label).
 *
 * @example
 * ```ts
 * const mode: GaugeMode = 'max';
 * ```
 */
export type GaugeMode = 'sum' | 'max' | 'min' | 'worker';

/**
 * The families one process sent. A `stale` source (a worker that missed the
 * deadline, or exited) only gives its counters, histograms and summary
 * sums/counts, so cluster totals never go backwards.
 *
 * @example
 * ```ts
 * const source: Source = { worker: '3', stale: false, families };
 * ```
 */
export interface Source {
  /** Value of the worker label in `worker` gauge mode. */
  readonly worker: string;
  readonly stale: boolean;
  readonly families: readonly FamilyWire[];
}

/**
 * Merge settings.
 *
 * @example
 * ```ts
 * const options: MergeOptions = { gaugeMode: () => 'sum', workerLabel: 'worker' };
 * ```
 */
export interface MergeOptions {
  readonly gaugeMode: (family: string) => GaugeMode;
  readonly workerLabel: string;
  /** Called once per family left out because processes declared it differently. */
  readonly onConflict?: (family: string) => void;
  /** Longest stretch of merging between two yields to the event loop, in ms (default 5). */
  readonly sliceMs?: number;
}

interface Plan {
  readonly first: FamilyWire;
  readonly labelNames: string[];
  mode: GaugeMode | undefined;
  addWorker: boolean;
  relativeError: number | undefined;
  /** Gauge series already given a value (max/min start from the first one, not from 0). */
  readonly given: WeakSet<GaugeSeries>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  metric: any;
}

// Enough for any union of capped worker registries; the output must never fold series.
const NO_CAP = Number.MAX_SAFE_INTEGER;

/**
 * Merges sources into a fresh Registry: counters, histograms and summary
 * sums/counts add up; summary windows merge as sketches (exact, within the
 * sketch's relative error); gauges follow their mode; info and stateset keep
 * every label set, a state on when it is on anywhere. Label names are united
 * across processes (a label a process lacks is `""`, which Prometheus reads as
 * absent). A family declared with another type, unit, buckets, states or
 * quantiles than its first declaration is left out for that source and
 * reported through `onConflict`.
 *
 * @example
 * ```ts
 * const merged = await mergeSources(sources, { gaugeMode: () => 'sum', workerLabel: 'worker' });
 * const text = await merged.metrics();
 * ```
 */
export async function mergeSources(sources: readonly Source[], options: MergeOptions): Promise<Registry> {
  const output = new Registry({ maxSeriesPerMetric: NO_CAP });
  // The merged families bring their own copies of these self-metrics.
  output.remove('lookout_series_overflow_total');
  output.remove('lookout_collect_errors_total');
  const plans = planFamilies(sources, options);
  for (const plan of plans.values()) plan.metric = createMetric(output, plan, options.workerLabel);
  const sliceMs = options.sliceMs ?? 5;
  let sliceEnd = performance.now() + sliceMs;
  for (const source of sources) {
    for (const family of source.families) {
      const plan = plans.get(family.name);
      if (plan === undefined || plan.metric === undefined || (source.stale && !MONOTONIC_TYPES.has(family.type))) continue;
      if (!compatible(plan.first, family)) continue;
      const names = family.labelNames;
      const width = names.length;
      const count = width > 0 ? family.labelValues.length / width : seriesCountOf(family);
      let cursor = 0;
      for (let series = 0; series < count; series++) {
        const values: Record<string, string> = {};
        for (const name of plan.labelNames) values[name] = '';
        for (let index = 0; index < width; index++) values[names[index]!] = family.labelValues[series * width + index]!;
        if (plan.addWorker) values[options.workerLabel] = source.worker;
        cursor = combine(plan, family, values, cursor, source.stale);
        if ((series & 63) === 63 && performance.now() > sliceEnd) {
          await new Promise((resolve) => setImmediate(resolve));
          sliceEnd = performance.now() + sliceMs;
        }
      }
    }
  }
  return output;
}

/** An unlabelled family has one series: present when it carries numbers (info carries none, and always has it). */
function seriesCountOf(family: FamilyWire): number {
  return family.type === 'info' ? 1 : family.numbers.length > 0 ? 1 : 0;
}

function planFamilies(sources: readonly Source[], options: MergeOptions): Map<string, Plan> {
  const plans = new Map<string, Plan>();
  const conflicts = new Set<string>();
  for (const source of sources) {
    for (const family of source.families) {
      if (source.stale && !MONOTONIC_TYPES.has(family.type)) continue;
      const plan = plans.get(family.name);
      if (plan === undefined) {
        const mode = family.type === 'gauge' ? options.gaugeMode(family.name) : undefined;
        plans.set(family.name, { first: family, labelNames: [...family.labelNames], mode, addWorker: false, relativeError: family.relativeError, given: new WeakSet(), metric: undefined });
        continue;
      }
      if (!compatible(plan.first, family)) {
        conflicts.add(family.name);
        continue;
      }
      for (const name of family.labelNames) if (!plan.labelNames.includes(name)) plan.labelNames.push(name);
      plan.relativeError ??= family.relativeError;
    }
  }
  for (const plan of plans.values()) {
    if (plan.mode !== 'worker') continue;
    // A family that already carries the worker label keeps its series apart by itself.
    if (plan.labelNames.includes(options.workerLabel)) plan.mode = 'sum';
    else plan.addWorker = true;
  }
  for (const name of conflicts) options.onConflict?.(name);
  return plans;
}

function compatible(first: FamilyWire, other: FamilyWire): boolean {
  if (first === other) return true;
  return first.type === other.type && first.unit === other.unit && sameList(first.buckets, other.buckets) && sameNative(first.native, other.native) && sameList(first.states, other.states)
    && sameList(first.percentiles, other.percentiles)
    && (first.relativeError === undefined || other.relativeError === undefined || first.relativeError === other.relativeError);
}

/** Native declarations merge when both are native with the same zero bucket and bucket limit (schemas may differ: the merge takes the coarser). */
function sameNative(a: NativeConfig | undefined, b: NativeConfig | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.zeroThreshold === b.zeroThreshold && a.maxBuckets === b.maxBuckets;
}

function sameList(a: readonly (number | string)[] | undefined, b: readonly (number | string)[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  return a.every((value, index) => value === b[index]);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function createMetric(output: Registry, plan: Plan, workerLabel: string): any {
  const first = plan.first;
  const labelNames = plan.addWorker ? [...plan.labelNames, workerLabel] : plan.labelNames;
  const common = { name: first.name, help: first.help, labelNames, maxSeries: NO_CAP, ...(first.unit !== undefined && { unit: first.unit }) };
  try {
    switch (first.type) {
      case 'counter': return output.counter(common);
      case 'gauge': return output.gauge(common);
      case 'histogram': return output.histogram({ ...common, ...(first.buckets !== undefined && { buckets: first.buckets }), ...(first.native !== undefined && { native: first.native }) });
      // One age bucket that outlives the scrape: the merged window is what the workers had.
      case 'summary': return output.summary({ ...common, percentiles: first.percentiles ?? [], relativeError: plan.relativeError ?? 0.01, maxAgeSeconds: 1e9, ageBuckets: 1 });
      case 'info': return output.info(common);
      case 'stateset': return output.stateSet({ ...common, states: first.states ?? [] });
    }
  } catch {
    return undefined;
  }
}

/** Adds one series of `family` into the plan's output metric; returns the next cursor into `family.numbers`. */
function combine(plan: Plan, family: FamilyWire, values: Record<string, string>, cursor: number, stale: boolean): number {
  const metric = plan.metric;
  const numbers = family.numbers;
  switch (family.type) {
    case 'counter': {
      (metric.labels(values) as CounterSeries).value += fromWire(numbers[cursor]);
      return cursor + 1;
    }
    case 'gauge': {
      const series = metric.labels(values) as GaugeSeries;
      const value = fromWire(numbers[cursor]);
      const fresh = !plan.given.has(series);
      plan.given.add(series);
      if (plan.mode === 'max') series.value = fresh ? value : Math.max(series.value, value);
      else if (plan.mode === 'min') series.value = fresh ? value : Math.min(series.value, value);
      else series.value += value;
      return cursor + 1;
    }
    case 'histogram': {
      const series = metric.labels(values) as HistogramSeries;
      const counts = series.counts;
      for (let index = 0; index < counts.length; index++) counts[index] = counts[index]! + (numbers[cursor + index] as number);
      series.sum += fromWire(numbers[cursor + counts.length]);
      series.count += numbers[cursor + counts.length + 1] as number;
      const end = cursor + counts.length + 2;
      return series.native === undefined || family.native === undefined ? end : series.native.absorb(numbers as readonly number[], end);
    }
    case 'summary':
      return combineSummary(metric.labels(values) as SummarySeries, numbers, cursor, stale, plan.relativeError ?? 0.01);
    case 'stateset': {
      const enabled = (metric.labels(values) as StateSetSeries).enabled;
      for (let index = 0; index < enabled.length; index++) if (numbers[cursor + index] === 1) enabled[index] = 1;
      return cursor + enabled.length;
    }
    default:
      metric.labels(values as LabelValues<string>);
      return cursor;
  }
}

function combineSummary(series: SummarySeries, numbers: readonly WireNumber[], cursor: number, stale: boolean, relativeError: number): number {
  series.sum += fromWire(numbers[cursor]);
  series.count += numbers[cursor + 1] as number;
  const zero = numbers[cursor + 2] as number;
  const min = fromWire(numbers[cursor + 3]);
  const max = fromWire(numbers[cursor + 4]);
  const positiveCount = numbers[cursor + 5] as number;
  const positiveStart = cursor + 6;
  const negativeCount = numbers[positiveStart + 2 * positiveCount] as number;
  const negativeStart = positiveStart + 2 * positiveCount + 1;
  const end = negativeStart + 2 * negativeCount;
  if (!stale) {
    const positive = numbers.slice(positiveStart, positiveStart + 2 * positiveCount) as number[];
    const negative = numbers.slice(negativeStart, end) as number[];
    let windowCount = zero;
    for (let index = 1; index < positive.length; index += 2) windowCount += positive[index]!;
    for (let index = 1; index < negative.length; index += 2) windowCount += negative[index]!;
    series.window.absorb({ relativeError, positive, negative, zero, count: windowCount, min, max });
  }
  return end;
}
