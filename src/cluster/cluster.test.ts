/**
 * A real node:cluster run: this test process is the primary and forks fixture
 * workers (test/cluster/worker.ts) whose numbers depend on their id.
 */
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, forkWorker, killAll, type Ready } from '../../test/cluster/fork.js';
import { Registry } from '../core/registry.js';
import { clusterPrimary, serveClusterMetrics, type ClusterMetricsServer } from './primary.js';
import { clusterWorker } from './worker.js';

const TIMEOUT_MS = 1500;

/** The value of the sample line that starts with `series ` ('' when absent). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(url: string): Promise<{ text: string; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return { text, ms: performance.now() - started };
}

describe('cluster mode across real node:cluster workers', () => {
  let server: ClusterMetricsServer;
  const workers: { worker: Worker; ready: Ready }[] = [];

  beforeAll(async () => {
    server = await serveClusterMetrics({ port: 0, timeoutMs: TIMEOUT_MS });
    // One at a time: ids 1, 2, 3 in order, and the shared port is settled by the first.
    for (let index = 0; index < 3; index++) workers.push(await forkWorker('normal', 0));
  });

  afterAll(async () => {
    await killAll();
    await server?.close();
  });

  it('merges three workers exactly, served by the primary', async () => {
    const { text } = await scrape(server.url);
    expect(sample(text, 'http_requests_total{route="/a",status="200"}')).toBe(60);
    expect(sample(text, 'http_requests_total{route="/b",status="500"}')).toBe(6);
    expect(sample(text, 'http_requests_total{route="/even",status="200"}')).toBe(100);
    expect(sample(text, 'http_requests_in_flight{method="GET"}')).toBe(6);
    expect(sample(text, 'http_request_duration_seconds_bucket{route="/a",le="0.1"}')).toBe(6);
    expect(sample(text, 'http_request_duration_seconds_bucket{route="/a",le="1.0"}')).toBe(6);
    expect(sample(text, 'http_request_duration_seconds_bucket{route="/a",le="+Inf"}')).toBe(9);
    expect(sample(text, 'http_request_duration_seconds_sum{route="/a"}')).toBeCloseTo(6.3, 10);
    expect(sample(text, 'payload_bytes_count')).toBe(300);
    expect(sample(text, 'payload_bytes_sum')).toBe(615_150);
    // The merged median is the middle worker's range (2001..2100), within the sketch's 1 %.
    expect(Math.abs(sample(text, 'payload_bytes{quantile="0.5"}')! - 2050) / 2050).toBeLessThan(0.03);
    expect(sample(text, 'build_info{version="1.0.0"}')).toBe(1);
    expect(sample(text, 'build_info{version="1.1.0"}')).toBe(1);
    expect(sample(text, 'model_state{model_state="loading"}')).toBe(1);
    expect(sample(text, 'model_state{model_state="serving"}')).toBe(1);
    expect(sample(text, 'lookout_cluster_workers')).toBe(3);
    expect(sample(text, 'lookout_cluster_workers_missing')).toBe(0);
  });

  it('serves the same merged answer from a worker (which asks the primary), on the port the workers share', async () => {
    const urls = new Set(workers.map(({ ready }) => ready.url));
    expect(urls.size).toBe(1);
    const { text } = await scrape([...urls][0]!);
    expect(sample(text, 'http_requests_total{route="/a",status="200"}')).toBe(60);
    expect(sample(text, 'http_request_duration_seconds_count{route="/a"}')).toBe(9);
    const openMetrics = await (await fetch([...urls][0]!, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } })).text();
    expect(openMetrics.endsWith('# EOF\n')).toBe(true);
    expect(sample(openMetrics, 'build_info_info{version="1.1.0"}') ?? sample(openMetrics, 'build_info{version="1.1.0"}')).toBe(1);
  });

  it('keeps KPI-like counters working per worker, and the cluster answer adds them up', async () => {
    await ask(workers[0]!.worker, { fixture: 'kpi', event: 'good_inference', times: 3 }, 'kpi-done');
    await ask(workers[1]!.worker, { fixture: 'kpi', event: 'good_inference', times: 5 }, 'kpi-done');
    await ask(workers[2]!.worker, { fixture: 'kpi', event: 'refund', times: 2 }, 'kpi-done');
    const { text } = await scrape(server.url);
    expect(sample(text, 'kpi_events_total{event="good_inference"}')).toBe(8);
    expect(sample(text, 'kpi_events_total{event="refund"}')).toBe(2);
    const own = await ask<{ text: string }>(workers[0]!.worker, { fixture: 'own' }, 'own');
    expect(sample(own.text, 'kpi_events_total{event="good_inference"}')).toBe(3);
    expect(sample(own.text, 'http_requests_total{route="/a",status="200"}')).toBe(10);
  });

  it('answers within the timeout with the others\' data when a worker never answers, and counts it', async () => {
    const silent = await forkWorker('silent');
    try {
      const { text, ms } = await scrape(server.url);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 0.9);
      expect(ms).toBeLessThan(TIMEOUT_MS + 5000);
      expect(sample(text, 'http_requests_total{route="/a",status="200"}')).toBe(60);
      expect(sample(text, 'kpi_events_total{event="good_inference"}')).toBe(8);
      expect(sample(text, 'lookout_cluster_workers')).toBe(4);
      expect(sample(text, 'lookout_cluster_workers_missing')).toBe(1);
      expect(sample(text, 'lookout_cluster_scrape_timeouts_total')).toBe(1);
    } finally {
      const exited = once(silent.worker, 'exit');
      silent.worker.process.kill('SIGKILL');
      await exited;
    }
  });

  it('does not wait for a worker that dies during the scrape', async () => {
    await forkWorker('crash');
    const { text } = await scrape(server.url);
    expect(sample(text, 'http_requests_total{route="/a",status="200"}')).toBe(60);
    expect(sample(text, 'lookout_cluster_workers')).toBe(4);
    expect(sample(text, 'lookout_cluster_workers_missing')).toBe(1);
    // Its exit ended the wait: no second timeout.
    expect(sample(text, 'lookout_cluster_scrape_timeouts_total')).toBe(1);
  });

  it('refuses misuse with stable codes', () => {
    expect(workers[0]!.ready.errors).toEqual({ primaryInWorker: 'LOOKOUT_E_CLUSTER_NOT_PRIMARY', secondWorker: 'LOOKOUT_E_CLUSTER_ALREADY_STARTED' });
    expect(() => clusterPrimary()).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_ALREADY_STARTED' }));
    expect(() => clusterWorker(new Registry())).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_CLUSTER_NOT_WORKER' }));
  });

  it('keeps an exited worker\'s counters in the totals (no cluster-wide counter reset), not its gauges', async () => {
    const third = workers[2]!.worker;
    const exited = once(third, 'exit');
    third.process.kill('SIGKILL');
    await exited;
    const { text } = await scrape(server.url);
    expect(sample(text, 'lookout_cluster_workers')).toBe(2);
    expect(sample(text, 'lookout_cluster_workers_missing')).toBe(0);
    expect(sample(text, 'http_requests_total{route="/a",status="200"}')).toBe(60);
    expect(sample(text, 'kpi_events_total{event="refund"}')).toBe(2);
    expect(sample(text, 'http_request_duration_seconds_count{route="/a"}')).toBe(9);
    expect(sample(text, 'payload_bytes_count')).toBe(300);
    expect(sample(text, 'http_requests_in_flight{method="GET"}')).toBe(3);
  });
});
