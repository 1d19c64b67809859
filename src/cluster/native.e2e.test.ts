/**
 * Native histograms in cluster mode, end to end: three real node:cluster
 * workers whose native histograms ended at different schemas (their bucket
 * limits forced it), merged by the primary and scraped over protobuf by a real
 * Prometheus (Debian's, --enable-feature=native-histograms). The count is
 * every observation of every worker, and the quantiles Prometheus computes
 * from the merged buckets agree with the exact quantiles of all the values
 * within the merged schema's bucket width.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkWorker, killAll } from '../../test/cluster/fork.js';
import { nativeValues } from '../../test/cluster/native-values.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { waitFor } from '../../test/support/http.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { Registry } from '../core/registry.js';
import { serveMetrics, type MetricsServer } from '../http/serve.js';
import { clusterPrimary, type ClusterPrimary } from './primary.js';

const hasPrometheus = await probe('prometheus (Debian)', () => hasCommand('prometheus'));
const WORKERS = 3;

describe.skipIf(!hasPrometheus)('cluster mode merges native histograms exactly for a real Prometheus', () => {
  let primary: ClusterPrimary;
  let server: MetricsServer;
  let prometheus: RunningPrometheus;
  const ids: number[] = [];

  beforeAll(async () => {
    for (let index = 0; index < WORKERS; index++) ids.push((await forkWorker('normal')).ready.id);
    primary = clusterPrimary({ registry: new Registry(), timeoutMs: 10_000 });
    server = await serveMetrics({ registry: primary.registry, port: 0, host: '127.0.0.1' });
    prometheus = await startPrometheus(`global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: cluster\n    static_configs:\n      - targets: ['${new URL(server.url).host}']\n`, ['--enable-feature=native-histograms']);
    await waitFor(async () => (await prometheus.query('histogram_count(native_latency_seconds)')).length === 1, 30_000);
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await server?.close();
    primary?.close();
    await killAll();
  });

  it('counts every worker\'s observations and gives the exact quantiles within the merged schema\'s bucket width', async () => {
    const values = ids.flatMap(nativeValues).sort((left, right) => left - right);
    const [count] = await prometheus.query('histogram_count(native_latency_seconds)');
    expect(Number(count!.value[1])).toBe(values.length);
    const [sum] = await prometheus.query('histogram_sum(native_latency_seconds)');
    const exactSum = values.reduce((total, value) => total + value, 0);
    // Summed in another order by the merge: equal to the last few bits.
    expect(Math.abs(Number(sum!.value[1]) - exactSum) / exactSum).toBeLessThan(1e-12);
    // The merged schema: the coarsest the workers reached, or coarser if the merge itself needed it (24 buckets).
    const merged = primary.registry;
    expect(merged.protobufCapable).toBe(true);
    // Workers end at schemas 4, 1 and 0 (fixture: 200 values each, 24 buckets at most); the merge takes 0: factor 2.
    const factor = await mergedFactor(prometheus);
    expect(factor).toBeCloseTo(2, 10);
    for (const q of [0.1, 0.5, 0.9, 0.99]) {
      const [estimate] = await prometheus.query(`histogram_quantile(${q}, native_latency_seconds)`);
      const rank = Math.ceil(q * values.length) - 1;
      const exact = values[rank]!;
      // Prometheus interpolates inside the bucket holding the rank: the estimate lies in that bucket, a factor wide.
      const ratio = Number(estimate!.value[1]) / exact;
      expect(ratio, `q=${q}: ${estimate!.value[1]} vs exact ${exact} (bucket factor ${factor})`).toBeGreaterThan(1 / factor);
      expect(ratio).toBeLessThan(factor);
    }
  });
});

/**
 * The bucket growth factor of the merged series as Prometheus stored it: the
 * widest ratio of upper to lower bound among its positive buckets, read from
 * the query API's native `histogram` sample (buckets are [boundary rule,
 * lower, upper, count]).
 */
async function mergedFactor(prometheus: RunningPrometheus): Promise<number> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent('native_latency_seconds')}`);
  const body = (await response.json()) as { data: { result: { histogram?: [number, { buckets: [number, string, string, string][] }] }[] } };
  const buckets = body.data.result[0]!.histogram![1].buckets.filter(([, lower]) => Number(lower) > 0);
  return Math.max(...buckets.map(([, lower, upper]) => Number(upper) / Number(lower)));
}
