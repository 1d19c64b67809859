import { LookoutError } from '../core/errors.js';

/**
 * One series of a Prometheus answer: labels and `[time, "value"]` samples (a vector has one sample).
 *
 * @example
 * ```ts
 * const series: PromSeries = { metric: { job: 'api' }, values: [[1704067200, '1']] };
 * ```
 */
export interface PromSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/**
 * A successful query answer, normalised to series.
 *
 * @example
 * ```ts
 * const result: PromQueryResult = { resultType: 'matrix', series: [] };
 * ```
 */
export interface PromQueryResult {
  readonly resultType: 'matrix' | 'vector' | 'scalar' | 'string';
  readonly series: readonly PromSeries[];
}

/**
 * A scrape target as `/api/v1/targets` reports it.
 *
 * @example
 * ```ts
 * const target: PromTarget = { job: 'api', instance: '127.0.0.1:3000', health: 'up', lastError: '', lastScrape: '...' };
 * ```
 */
export interface PromTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  readonly lastScrape: string;
}

/**
 * A minimal client for Prometheus's HTTP API (POST form requests, as Grafana's `httpMethod: POST`).
 *
 * @example
 * ```ts
 * const client = new PrometheusClient('http://127.0.0.1:9090');
 * const result = await client.queryRange('up', 1704067200, 1704070800, 15);
 * ```
 */
export class PrometheusClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/$/, '');
  }

  /** `/api/v1/query_range`. Throws `LOOKOUT_E_VERIFY_PROMETHEUS` with Prometheus's error. */
  async queryRange(query: string, start: number, end: number, step: number): Promise<PromQueryResult> {
    return normalise(await this.call('/api/v1/query_range', { query, start: String(start), end: String(end), step: String(step) }));
  }

  /** `/api/v1/query` at `time` (seconds). */
  async query(query: string, time: number): Promise<PromQueryResult> {
    return normalise(await this.call('/api/v1/query', { query, time: String(time) }));
  }

  /** `/api/v1/label/<name>/values` with `match[]` selectors, as Grafana's `label_values()` variables ask. */
  async labelValues(label: string, match: readonly string[], start: number, end: number): Promise<string[]> {
    const params = new URLSearchParams({ start: String(start), end: String(end) });
    for (const selector of match) params.append('match[]', selector);
    return (await this.call(`/api/v1/label/${encodeURIComponent(label)}/values?${params}`, undefined)) as string[];
  }

  /** Active scrape targets. */
  async targets(): Promise<PromTarget[]> {
    const data = (await this.call('/api/v1/targets?state=active', undefined)) as { activeTargets: { labels: Record<string, string>; health: PromTarget['health']; lastError: string; lastScrape: string }[] };
    return data.activeTargets.map((target) => ({ job: target.labels['job'] ?? '', instance: target.labels['instance'] ?? '', health: target.health, lastError: target.lastError, lastScrape: target.lastScrape }));
  }

  /** Rules with their health (recording and alerting), as `/api/v1/rules` reports them. */
  async rules(): Promise<{ group: string; name: string; health: string; lastError: string }[]> {
    const data = (await this.call('/api/v1/rules', undefined)) as { groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] };
    return data.groups.flatMap((group) => group.rules.map((rule) => ({ group: group.name, name: rule.name, health: rule.health, lastError: rule.lastError ?? '' })));
  }

  private async call(path: string, form: Record<string, string> | undefined): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, form === undefined ? { signal: AbortSignal.timeout(30_000) } : {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `${this.url}${path.split('?')[0]}: ${(error as Error).message}`);
    }
    const text = await response.text();
    let body: { status?: string; data?: unknown; error?: string; errorType?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `${path.split('?')[0]}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success') throw new LookoutError('LOOKOUT_E_VERIFY_PROMETHEUS', `${body.errorType ?? `HTTP ${response.status}`}: ${body.error ?? text.slice(0, 200)}`);
    return body.data;
  }
}

function normalise(data: unknown): PromQueryResult {
  const { resultType, result } = data as { resultType: PromQueryResult['resultType']; result: unknown };
  if (resultType === 'matrix') return { resultType, series: result as PromSeries[] };
  if (resultType === 'vector') {
    const vector = result as { metric: Record<string, string>; value: [number, string] }[];
    return { resultType, series: vector.map((item) => ({ metric: item.metric, values: [item.value] })) };
  }
  return { resultType, series: [{ metric: {}, values: [result as [number, string]] }] };
}
