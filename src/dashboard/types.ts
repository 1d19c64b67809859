/**
 * The JSON the dashboard page polls. Every source (in-process samples,
 * Prometheus, the KPI store) fills the same shape, so the page has one
 * renderer. Sizes are bounded: at most `maxPoints` points per series, a fixed
 * list of charts, a capped number of series per chart and of routes.
 */

/**
 * How a number is shown: requests per second, a 0-1 ratio, seconds, bytes,
 * a plain count, or events per second.
 *
 * @example
 * ```ts
 * const unit: Unit = 'seconds';
 * ```
 */
export type Unit = 'reqps' | 'ratio' | 'seconds' | 'bytes' | 'count' | 'perSecond';

/**
 * One line of a chart: a name and one value per timestamp (`null` where there is none).
 *
 * @example
 * ```ts
 * const line: SeriesData = { name: 'p95', values: [0.012, 0.014, null] };
 * ```
 */
export interface SeriesData {
  readonly name: string;
  readonly values: readonly (number | null)[];
}

/**
 * The data of one chart; its title, unit and description are in the page (see `PANELS`).
 *
 * @example
 * ```ts
 * const chart: ChartData = { id: 'inflight', series: [{ name: 'GET', values: [1, 0, 2] }] };
 * ```
 */
export interface ChartData {
  /** A `PANELS` id. */
  readonly id: string;
  /** Own timestamps (Unix seconds) when they differ from `DashboardData.time` (per-minute SQL panels). */
  readonly time?: readonly number[];
  readonly series: readonly SeriesData[];
}

/**
 * One row of the per-route table.
 *
 * @example
 * ```ts
 * const row: RouteRow = { route: '/users/:id', total: 1200, rate: 3.2, errorRatio: 0, p95: 0.021 };
 * ```
 */
export interface RouteRow {
  readonly route: string;
  /** Requests since the process started (what `/metrics` shows, summed over methods and statuses). */
  readonly total: number;
  /** Requests per second over the selected range. */
  readonly rate: number;
  /** Share of 5xx responses over the range; null without requests. */
  readonly errorRatio: number | null;
  /** 95th percentile duration over the range, from the histogram buckets; null without requests. */
  readonly p95: number | null;
}

/**
 * A number for the tiles at the top, with the colour its thresholds give it.
 *
 * @example
 * ```ts
 * const tile: StatData = { id: 'p95', value: 0.2, level: 'ok' };
 * ```
 */
export interface StatData {
  /** A `STATS` id. */
  readonly id: string;
  readonly value: number | null;
  readonly level: 'ok' | 'warn' | 'bad' | 'none';
}

/**
 * Where the numbers came from.
 *
 * @example
 * ```ts
 * const source: DataSource = 'prometheus';
 * ```
 */
export type DataSource = 'memory' | 'prometheus';

/**
 * One answer of the data endpoint.
 *
 * @example
 * ```ts
 * const data: DashboardData = await dashboard.data({ range: 900 });
 * data.charts.find((chart) => chart.id === 'latency');
 * ```
 */
export interface DashboardData {
  readonly source: DataSource;
  /** Why the answer is not what was asked for (Prometheus unreachable, history shorter than the range...). */
  readonly notice?: string;
  /** Unix milliseconds when the answer was computed. */
  readonly now: number;
  /** In-process source: Unix milliseconds of the oldest sample kept (history starts when the dashboard is first opened). */
  readonly since?: number;
  /** The range asked for, in seconds. */
  readonly range: number;
  /** Seconds between two points. */
  readonly step: number;
  /** Shared timestamps (Unix seconds) of the charts without their own. */
  readonly time: readonly number[];
  readonly stats: readonly StatData[];
  readonly routes: readonly RouteRow[];
  /** Routes left out of the table because of the cap. */
  readonly routesOmitted: number;
  readonly charts: readonly ChartData[];
}
