import type { CounterSeries } from '../core/counter.js';
import { MAX_POINTS, round } from './numbers.js';
import { statsFromCharts } from './panels.js';
import { histogramQuantile } from './quantile.js';
import { OTHER_ROUTES, type Sample, type Sampler } from './sampler.js';
import { bucketBounds, metricNames } from './snapshot.js';
import type { ChartData, DashboardData, RouteRow, SeriesData } from './types.js';

/** Lines per chart where one line per route would be too many. */
const CHART_ROUTES = 6;

/** Rates, gauges and quantiles over the thinned samples of a range. */
class Window {
  readonly points: Sample[];
  readonly first: Sample;
  readonly last: Sample;
  private readonly scratch = new Map<number, [Float64Array, Float64Array]>();

  constructor(points: Sample[]) {
    this.points = points;
    this.first = points[0]!;
    this.last = points[points.length - 1]!;
  }

  /** Keys of a family (`r:`, `s:`...) known to the newest sample. */
  keys(prefix: string): string[] {
    return [...this.last.layout.columns.keys()].filter((key) => key.startsWith(prefix));
  }

  /** Growth of a counter over the whole range (a reset counts from zero). */
  increase(key: string): number {
    return growth(this.first.value(key), this.last.value(key));
  }

  /** Per-second rate between consecutive points. */
  rate(key: string): number[] {
    return this.each((before, after) => growth(before.value(key), after.value(key)) / ((after.time - before.time) / 1000));
  }

  /** Ratio of two counters' growth between consecutive points (null when the denominator did not grow). */
  ratio(part: string, whole: string): (number | null)[] {
    return this.each((before, after) => {
      const total = growth(before.value(whole), after.value(whole));
      return total > 0 ? growth(before.value(part), after.value(part)) / total : null;
    });
  }

  /** A gauge's value at each point (null where it did not exist yet). */
  gauge(key: string): (number | null)[] {
    return this.each((_before, after) => (after.has(key) ? after.value(key) : null));
  }

  /** A quantile of a histogram's observations between consecutive points. */
  quantile(key: string, q: number, bounds: readonly number[]): (number | null)[] {
    return this.each((before, after) => this.bucketQuantile(key, q, bounds, before, after));
  }

  /** A quantile of a histogram's observations over the whole range. */
  rangeQuantile(key: string, q: number, bounds: readonly number[]): number | null {
    return this.bucketQuantile(key, q, bounds, this.first, this.last);
  }

  private bucketQuantile(key: string, q: number, bounds: readonly number[], before: Sample, after: Sample): number | null {
    const width = bounds.length + 1;
    let buffers = this.scratch.get(width);
    if (buffers === undefined) this.scratch.set(width, (buffers = [new Float64Array(width), new Float64Array(width)]));
    const [start, end] = buffers;
    before.read(key, start);
    after.read(key, end);
    const reset = end.some((count, index) => count < start[index]!);
    for (let index = 0; index < width; index++) end[index] = reset ? end[index]! : end[index]! - start[index]!;
    const value = histogramQuantile(q, bounds, end);
    return value === null ? null : round(value);
  }

  private each<T extends number | null>(compute: (before: Sample, after: Sample) => T): T[] {
    const values: T[] = [];
    for (let index = 1; index < this.points.length; index++) {
      const value = compute(this.points[index - 1]!, this.points[index]!);
      values.push((value === null ? null : round(value)) as T);
    }
    return values;
  }
}

function growth(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** Every n-th sample so that at most `MAX_POINTS` + 1 remain, always ending with the newest. */
function thin(samples: Sample[]): Sample[] {
  const stride = Math.max(1, Math.ceil((samples.length - 1) / MAX_POINTS));
  const points: Sample[] = [];
  for (let index = samples.length - 1; index >= 0; index -= stride) points.push(samples[index]!);
  return points.reverse();
}

/** The routes with the largest growth of `r:` over the range, named without their prefix (the folded rest left out). */
function busiest(window: Window, count: number): string[] {
  return window
    .keys('r:')
    .filter((key) => key !== `r:${OTHER_ROUTES}`)
    .map((key) => ({ route: key.slice(2), requests: window.increase(key) }))
    .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
    .slice(0, count)
    .map((entry) => entry.route);
}

function chart(id: string, series: SeriesData[]): ChartData[] {
  return series.length === 0 ? [] : [{ id, series }];
}

function ifKey(window: Window, key: string, series: () => SeriesData[]): SeriesData[] {
  return window.last.has(key) ? series() : [];
}

/** Request-rate lines: the busiest routes, the rest summed. */
function requestLines(window: Window): SeriesData[] {
  const routes = window.keys('r:').map((key) => key.slice(2));
  const shown = busiest(window, routes.length > CHART_ROUTES ? CHART_ROUTES - 1 : CHART_ROUTES);
  // Everything not shown, the sampler's own (other routes) included, becomes one line.
  const lines = shown.map((route) => ({ name: route, values: window.rate(`r:${route}`) }));
  const rest = routes.filter((route) => !shown.includes(route));
  if (rest.length > 0) {
    const rates = rest.map((route) => window.rate(`r:${route}`));
    lines.push({ name: OTHER_ROUTES, values: rates[0]!.map((_, index) => round(rates.reduce((sum, values) => sum + values[index]!, 0))) });
  }
  return lines;
}

function charts(sampler: Sampler, window: Window): ChartData[] {
  const names = metricNames(sampler.options.prefix);
  const duration = bucketBounds(sampler.options, names.duration);
  const processing = bucketBounds(sampler.options, names.processing);
  const erroring = window.keys('e:').filter((key) => window.increase(key) > 0).slice(0, CHART_ROUTES - 1).map((key) => key.slice(2));
  const family = (prefix: string, values: (key: string) => (number | null)[]): SeriesData[] =>
    window.keys(prefix).sort().map((key) => ({ name: key.slice(prefix.length), values: values(key) }));
  const dropped = window.keys('d:').filter((key) => window.increase(key) > 0);
  return [
    ...chart('requests', requestLines(window)),
    ...chart('status', family('s:', (key) => window.rate(key))),
    ...chart('errors', ifKey(window, 'all', () => [
      { name: 'all routes', values: window.ratio('all5', 'all') },
      ...erroring.map((route) => ({ name: route, values: window.ratio(`e:${route}`, `r:${route}`) })),
    ])),
    ...chart('inflight', family('m:', (key) => window.gauge(key))),
    ...chart('latency', ifKey(window, 'hist', () => [0.5, 0.95, 0.99].map((q) => ({ name: `p${Math.round(q * 100)}`, values: window.quantile('hist', q, duration) })))),
    ...chart('latencyRoutes', ifKey(window, 'hist', () => busiest(window, CHART_ROUTES).map((route) => ({ name: route, values: window.quantile(`h:${route}`, 0.95, duration) })))),
    ...chart('exceptions', family('x:', (key) => window.rate(key))),
    ...chart('kpiEvents', family('k:', (key) => window.rate(key))),
    ...chart('active', ifKey(window, 'active', () => [{ name: 'active', values: window.gauge('active') }])),
    ...chart('processing', ifKey(window, 'proc', () => [0.5, 0.95].map((q) => ({ name: `p${Math.round(q * 100)}`, values: window.quantile('proc', q, processing) })))),
    ...chart('drift', ifKey(window, 'driftOn', () => {
      const present = window.gauge('driftOn');
      const drift = (key: string) => window.gauge(key).map((value, index) => (present[index] === 1 ? value : null));
      return [
        ...window.keys('fd:').sort().map((key) => ({ name: key.slice(3), values: drift(key) })),
        ...window.keys('pd:').sort().map((key) => ({ name: `prediction ${key.slice(3)}`, values: drift(key) })),
      ];
    })),
    ...chart('predictionMix', family('pc:', (key) => window.ratio(key, 'predictions'))),
    ...chart('accuracyByVersion', window.keys('fa:').sort().map((key) => ({ name: `v${key.slice(3)}`, values: window.ratio(`fc:${key.slice(3)}`, key) }))),
    ...chart('cpu', [{ name: 'user', values: window.rate('cpuUser') }, { name: 'system', values: window.rate('cpuSystem') }]),
    ...chart('memory', [['rss', 'rss'], ['heap used', 'heapUsed'], ['heap total', 'heapTotal'], ['external', 'external']].map(([name, key]) => ({ name: name!, values: window.gauge(key!) }))),
    ...chart('eventloop', ifKey(window, 'lag', () => [{ name: 'mean', values: window.gauge('lag') }, { name: 'p99', values: window.gauge('lag99') }])),
    ...chart('kpiQueue', ifKey(window, 'queue', () => [{ name: 'queued', values: window.gauge('queue') }])),
    ...chart('kpiFlow', ifKey(window, 'written', () => [
      { name: 'written', values: window.rate('written') },
      ...dropped.map((key) => ({ name: `dropped ${key.slice(2)}`, values: window.rate(key) })),
      { name: 'flush errors', values: window.rate('flushErrors') },
    ])),
  ];
}

/** Requests per route now, read live from the counter, folded the way the sampler folds them. */
function liveTotals(sampler: Sampler): { totals: Map<string, number>; untracked: Set<string> } {
  const totals = new Map<string, number>();
  const untracked = new Set<string>();
  const tracked = sampler.tracked.get('route');
  const requests = sampler.options.registry.get(metricNames(sampler.options.prefix).requests);
  if (requests === undefined || requests.type !== 'counter') return { totals, untracked };
  const index = requests.labelNames.indexOf('route');
  for (const series of requests.series as CounterSeries[]) {
    const route = index < 0 ? 'all routes' : series.labelValues[index]!;
    const folded = tracked === undefined || tracked.has(route) ? route : OTHER_ROUTES;
    if (folded === OTHER_ROUTES) untracked.add(route);
    totals.set(folded, (totals.get(folded) ?? 0) + series.value);
  }
  return { totals, untracked };
}

function routeTable(sampler: Sampler, window: Window): { routes: RouteRow[]; routesOmitted: number } {
  const seconds = (window.last.time - window.first.time) / 1000;
  const bounds = bucketBounds(sampler.options, metricNames(sampler.options.prefix).duration);
  const { totals, untracked } = liveTotals(sampler);
  const routes = [...totals].map(([route, total]): RouteRow => {
    const requests = window.increase(`r:${route}`);
    return {
      route,
      total,
      rate: seconds > 0 ? round(requests / seconds) : 0,
      errorRatio: requests > 0 ? round(window.increase(`e:${route}`) / requests) : null,
      p95: window.rangeQuantile(`h:${route}`, 0.95, bounds),
    };
  });
  routes.sort((a, b) => b.rate - a.rate || b.total - a.total || a.route.localeCompare(b.route));
  return { routes, routesOmitted: untracked.size };
}

/**
 * The dashboard's answer from the in-process samples of the last `range` seconds.
 *
 * @example
 * ```ts
 * const data = memoryData(sampler, 900);
 * ```
 */
export function memoryData(sampler: Sampler, range: number, now = Date.now()): DashboardData {
  const samples = sampler.since(now - range * 1000);
  const lastFlush = sampler.options.registry.get(metricNames('').kpiLastFlush);
  const flushedAt = lastFlush?.type === 'gauge' ? (lastFlush.series[0] as { value: number } | undefined)?.value ?? 0 : 0;
  const extra = { lastFlush: flushedAt > 0 ? round(Math.max(0, now / 1000 - flushedAt)) : null };
  const base = { source: 'memory' as const, now, range, step: sampler.options.sampleSeconds };
  if (samples.length < 2) {
    return { ...base, notice: `Collecting the first samples (one every ${sampler.options.sampleSeconds} s)…`, time: [], stats: statsFromCharts([], extra), routes: [], routesOmitted: 0, charts: [] };
  }
  const window = new Window(thin(samples));
  const built = charts(sampler, window);
  return {
    ...base,
    since: sampler.oldest ?? now,
    step: round((window.last.time - window.first.time) / 1000 / (window.points.length - 1)),
    time: window.points.slice(1).map((point) => point.time / 1000),
    stats: statsFromCharts(built, extra),
    ...routeTable(sampler, window),
    charts: built,
  };
}
