/**
 * Native histograms end to end: a real Prometheus (Debian's, with
 * --enable-feature=native-histograms, so it asks for protobuf) scrapes every
 * adapter with `nativeHistograms` on; the p99 it computes from the native
 * series agrees with the exact p99 of the durations the adapters measured,
 * within the schema's bucket width, and histogram_count equals the requests.
 */
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { chartQueries } from '../dashboard/prometheus-source.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { close, listen, waitFor } from '../../test/support/http.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { buildApp, FRAMEWORKS, type Framework } from './apps.test-support.js';

const SCHEMA = 3;
/** At schema 3 a bucket spans a factor 2^(1/8): an estimate inside the right bucket is within 9.05 % of the truth. */
const RELATIVE_ERROR = 2 ** (2 ** -SCHEMA) - 1;
const REQUESTS = 300;
const hasPrometheus = await probe('prometheus (Debian)', () => hasCommand('prometheus'));

interface App {
  framework: Framework;
  base: string;
  server: http.Server;
  /** Durations the adapter measured once `recording` is on. */
  durations: number[];
  recording: boolean;
}

const apps: App[] = [];

/**
 * The nearest-rank quantile of `values` and its two neighbours. Prometheus
 * compares q × count with cumulative bucket counts of rate()'s extrapolated
 * floats, so its rank may be one observation off; where the tail is sparse
 * that neighbour can sit several buckets away.
 */
function exactQuantile(values: readonly number[], q: number): { below: number; exact: number; above: number } {
  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.ceil(q * sorted.length) - 1;
  return { below: sorted[Math.max(rank - 1, 0)]!, exact: sorted[rank]!, above: sorted[Math.min(rank + 1, sorted.length - 1)]! };
}

describe.skipIf(!hasPrometheus)('native histograms scraped by a real Prometheus over protobuf', () => {
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      const app: App = { framework, base: '', server: undefined as unknown as http.Server, durations: [], recording: false };
      app.server = await buildApp(framework, {
        registry: new Registry(),
        nativeHistograms: { schema: SCHEMA },
        onRequest: (_req, _res, seconds) => {
          if (app.recording) app.durations.push(seconds);
        },
      });
      app.base = await listen(app.server);
      apps.push(app);
      // One request before Prometheus starts: the series exists at the first scrape, so rate() sees only what follows.
      await (await fetch(`${app.base}/users/warm`)).text();
    }
    const jobs = apps.map((app) => `  - job_name: ${app.framework}\n    static_configs:\n      - targets: ['${app.base.replace('http://', '')}']`).join('\n');
    prometheus = await startPrometheus(`global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n${jobs}\n`, ['--enable-feature=native-histograms']);
    await waitFor(async () => (await prometheus.query('count(count_over_time(up[1m]) >= 2)')).some((sample) => Number(sample.value[1]) === apps.length), 30_000);
    for (const app of apps) {
      app.recording = true;
      for (let index = 0; index < REQUESTS; index++) await (await fetch(`${app.base}/users/${index}`)).text();
      app.recording = false;
    }
    // Every job scraped after the traffic.
    await waitFor(async () => {
      const counts = await prometheus.query('histogram_count(sum by (job) (http_request_duration_seconds))');
      return counts.length === apps.length && counts.every((sample) => Number(sample.value[1]) === REQUESTS + 1);
    }, 30_000);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(apps.map((app) => close(app.server)));
  });

  it.each(FRAMEWORKS)('%s: histogram_count is the requests sent, p99 of rate() matches the exact p99 within the schema error', async (framework) => {
    const app = apps.find((candidate) => candidate.framework === framework)!;
    expect(app.durations).toHaveLength(REQUESTS);
    const [count] = await prometheus.query(`histogram_count(sum(http_request_duration_seconds{job="${framework}"}))`);
    expect(Number(count!.value[1])).toBe(REQUESTS + 1);
    // The native series only exists if the scrape was protobuf: the text format has no native histograms.
    const [p99] = await prometheus.query(`histogram_quantile(0.99, sum(rate(http_request_duration_seconds{job="${framework}"}[1m])))`);
    const estimate = Number(p99!.value[1]);
    const { below, exact, above } = exactQuantile(app.durations, 0.99);
    // Inside the bucket of the exact p99 (or of a rank neighbour): within the schema's relative error of it.
    const withinBucketOf = (truth: number): boolean => Math.abs(estimate - truth) / truth <= RELATIVE_ERROR;
    expect(withinBucketOf(exact) || withinBucketOf(below) || withinBucketOf(above), `p99 ${estimate} vs exact ${exact} (neighbours ${below}, ${above})`).toBe(true);
    const [sizes] = await prometheus.query(`histogram_count(sum(http_response_size_bytes{job="${framework}"}))`);
    expect(Number(sizes!.value[1])).toBe(REQUESTS + 1);
  });

  it('the built-in page\'s Prometheus queries read the native series (no _bucket series exist for them)', async () => {
    const queries = chartQueries('', 'job="node"', 60);
    for (const { expr } of [...queries['latency']!, ...queries['latencyRoutes']!]) {
      const result = await prometheus.query(expr);
      expect(result.length, expr).toBeGreaterThan(0);
      for (const sample of result) expect(Number(sample.value[1]), expr).toBeGreaterThan(0);
    }
    expect(await prometheus.query('count(http_request_duration_seconds_bucket{job="node"})')).toEqual([]);
  });
});
