/**
 * Which histogram series the generated Prometheus config, rules and dashboards read: classic
 * `_bucket{le}` series, Prometheus native histograms, or both. Kept apart from `options.ts` so that
 * the rule and dashboard generators need no more than these few helpers.
 */

/**
 * `histograms:` in `lookout.config.yaml`:
 *
 * - `classic` (default): Prometheus scrapes text, rules and dashboards read `_bucket{le}` series.
 * - `native`: the API exposes native histograms (adapter option `nativeHistograms`); Prometheus runs
 *   with `--enable-feature=native-histograms` and scrapes protobuf; the latency SLI is
 *   `histogram_fraction` and the dashboards' quantiles read the native series. Classic `_bucket`
 *   series of those histograms are not stored.
 * - `both`: as `native`, and the scrape job also keeps the classic series
 *   (`scrape_classic_histograms`, Prometheus 2.45 and later): the SLO rules stay on the exact
 *   `le` bucket of the threshold, the dashboards read the native series.
 *
 * @example
 * ```ts
 * const mode: HistogramMode = 'native';
 * ```
 */
export type HistogramMode = 'classic' | 'native' | 'both';

/**
 * Every valid {@link HistogramMode}, the default first.
 *
 * @example
 * ```ts
 * HISTOGRAM_MODES.includes('both'); // true
 * ```
 */
export const HISTOGRAM_MODES: readonly HistogramMode[] = ['classic', 'native', 'both'];

/**
 * The Prometheus feature flag native histograms need (Prometheus 2.40 to 3.x).
 *
 * @example
 * ```ts
 * prometheusFeatureFlags('native'); // ['--enable-feature=native-histograms']
 * prometheusFeatureFlags('classic'); // []
 * ```
 */
export function prometheusFeatureFlags(mode: HistogramMode): string[] {
  return mode === 'classic' ? [] : ['--enable-feature=native-histograms'];
}

/**
 * The scrape-config key that keeps classic series beside native ones, for a Prometheus image tag:
 * `scrape_classic_histograms` from 2.45 (Prometheus 2.42 rejects it: "field
 * scrape_classic_histograms not found"), renamed `always_scrape_classic_histograms` in 3.0.
 * `undefined` for a version before 2.45; an image without a `vX.Y` tag is taken as 2.x.
 *
 * @example
 * ```ts
 * classicHistogramsKey('prom/prometheus:v2.54.1'); // 'scrape_classic_histograms'
 * classicHistogramsKey('prom/prometheus:v3.1.0'); // 'always_scrape_classic_histograms'
 * classicHistogramsKey('prom/prometheus:v2.42.0'); // undefined
 * ```
 */
export function classicHistogramsKey(image: string): 'scrape_classic_histograms' | 'always_scrape_classic_histograms' | undefined {
  const match = /:v?([0-9]+)\.([0-9]+)/.exec(image);
  if (match === null) return 'scrape_classic_histograms';
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major >= 3) return 'always_scrape_classic_histograms';
  return major === 2 && minor >= 45 ? 'scrape_classic_histograms' : undefined;
}

/**
 * PromQL for the per-second rate of a histogram, summed `by` labels, over `window`, as a quantile
 * or a fraction reads it: native series (`sum by (…) (rate(metric{…}[w]))`) unless the mode is
 * `classic` (`sum by (…, le) (rate(metric_bucket{…}[w]))`).
 *
 * @example
 * ```ts
 * histogramRate('native', 'http_request_duration_seconds', 'job="api"', 'route', '5m');
 * // 'sum by (route) (rate(http_request_duration_seconds{job="api"}[5m]))'
 * histogramRate('classic', 'http_request_duration_seconds', 'job="api"', '', '5m');
 * // 'sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))'
 * ```
 */
export function histogramRate(mode: HistogramMode, metric: string, matchers: string, by: string, window: string): string {
  if (mode === 'classic') return `sum by (${by === '' ? 'le' : `${by}, le`}) (rate(${metric}_bucket{${matchers}}[${window}]))`;
  return `${by === '' ? 'sum' : `sum by (${by}) `}(rate(${metric}{${matchers}}[${window}]))`;
}

/**
 * `histogram_quantile(q, …)` over {@link histogramRate}.
 *
 * @example
 * ```ts
 * histogramQuantile('native', 0.99, 'http_request_duration_seconds', 'job=~"$job"', '', '$__rate_interval');
 * // 'histogram_quantile(0.99, sum(rate(http_request_duration_seconds{job=~"$job"}[$__rate_interval])))'
 * ```
 */
export function histogramQuantile(mode: HistogramMode, q: number, metric: string, matchers: string, by: string, window: string): string {
  return `histogram_quantile(${q}, ${histogramRate(mode, metric, matchers, by, window)})`;
}

/**
 * Mean observation per second-rate ratio (`rate(sum) / rate(count)`), summed `by` labels: from
 * `_sum` and `_count` series (classic), or `histogram_sum` / `histogram_count` of the native series.
 *
 * @example
 * ```ts
 * histogramAverage('native', 'http_request_size_bytes', 'job="api"', 'job', '5m');
 * ```
 */
export function histogramAverage(mode: HistogramMode, metric: string, matchers: string, by: string, window: string): string {
  const rate = (series: string) => `sum by (${by}) (rate(${series}{${matchers}}[${window}]))`;
  if (mode === 'classic') return `${rate(`${metric}_sum`)}\n/\n${rate(`${metric}_count`)}`;
  return `histogram_sum(${rate(metric)})\n/\nhistogram_count(${rate(metric)})`;
}
