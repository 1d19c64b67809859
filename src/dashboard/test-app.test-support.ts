/**
 * An instrumented API with loopback traffic for the dashboard's end-to-end
 * tests: the reference inference API (examples/inference-api) when it is
 * there, otherwise a small Fastify app of our own with the same kinds of
 * metrics (RED, KPI events with good/bad feedback, runtime).
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import lookout from '../adapters/fastify.js';
import { Registry } from '../core/registry.js';
import { registerRuntimeMetrics } from '../core/runtime.js';
import { createKpi } from '../kpi/kpi.js';
import { pgliteStore } from '../kpi/pglite-store.js';
import type { DashboardKpi, DashboardOptions } from './options.js';

/**
 * A running app and its traffic.
 *
 * @example
 * ```ts
 * const run = app.traffic(10_000);
 * run.stop();
 * await run.done;
 * ```
 */
export interface TrafficApp {
  readonly url: string;
  readonly registry: Registry;
  /** A route the traffic calls often. */
  readonly busyRoute: string;
  readonly description: string;
  /** Starts loopback traffic; resolves when it has stopped (after `durationMs` or `stop()`). */
  traffic(durationMs: number): { done: Promise<unknown>; stop(): void };
  close(): Promise<void>;
}

/** The parts of examples/inference-api this test uses (imported by path, so the test also runs without it). */
interface InferenceExample {
  startInferenceApi(options: Record<string, unknown>): Promise<{ url: string; registry: Registry; close(): Promise<void> }>;
  runTraffic(options: { url: string; durationMs: number; rate: number; signal: AbortSignal }): Promise<unknown>;
}

const EXAMPLE = '../../examples/inference-api/index.js';

/**
 * Starts the app with the dashboard mounted at `/lookout` behind `token`.
 *
 * @example
 * ```ts
 * const app = await startTrafficApp({ sampleSeconds: 1 }, 'secret');
 * const run = app.traffic(10_000);
 * ```
 */
export async function startTrafficApp(dashboard: Omit<DashboardOptions, 'kpi'>, token: string): Promise<TrafficApp> {
  const example = (await import(/* @vite-ignore */ EXAMPLE).catch(() => undefined)) as InferenceExample | undefined;
  const traffic = (run: (signal: AbortSignal) => Promise<unknown>, durationMs: number) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), durationMs);
    const done = run(controller.signal).finally(() => clearTimeout(timer));
    return { done, stop: () => controller.abort() };
  };
  if (example !== undefined) {
    const api = await example.startInferenceApi({
      port: 0,
      token,
      store: pgliteStore({ dataDir: 'memory://' }),
      // The model monitor reports drift from 50 observations (not 200): the page shows it sooner.
      modelMonitor: { minSamples: 50 },
      adapter: ({ kpi }: { kpi: DashboardKpi }) => ({ dashboard: { ...dashboard, kpi } }),
    });
    return {
      url: api.url,
      registry: api.registry,
      busyRoute: '/inference/start',
      description: 'examples/inference-api with runTraffic()',
      traffic: (durationMs) => traffic((signal) => example.runTraffic({ url: api.url, durationMs, rate: 40, signal }), durationMs),
      close: () => api.close(),
    };
  }
  return ownApp(dashboard, token, traffic);
}

async function ownApp(
  dashboard: Omit<DashboardOptions, 'kpi'>,
  token: string,
  traffic: (run: (signal: AbortSignal) => Promise<unknown>, durationMs: number) => { done: Promise<unknown>; stop(): void },
): Promise<TrafficApp> {
  const registry = new Registry();
  const runtime = registerRuntimeMetrics(registry);
  const kpi = createKpi({ registry, events: ['inference_start', 'good_inference', 'bad_inference'], store: pgliteStore({ dataDir: 'memory://' }) });
  const app = Fastify();
  await app.register(lookout, { registry, token, dashboard: { ...dashboard, kpi } });
  let calls = 0;
  app.post('/inference/start', async () => {
    kpi.record('inference_start');
    await new Promise((resolve) => setTimeout(resolve, 5 + (calls++ % 20)));
    if (calls % 17 === 0) throw new Error('model failed');
    return { id: calls };
  });
  app.put('/inference/select', async () => {
    kpi.record(Math.random() < 0.85 ? 'good_inference' : 'bad_inference');
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const loop = async (signal: AbortSignal): Promise<void> => {
    while (!signal.aborted) {
      await Promise.all([
        fetch(`${url}/inference/start`, { method: 'POST' }).then((response) => response.arrayBuffer()),
        fetch(`${url}/inference/select`, { method: 'PUT' }).then((response) => response.arrayBuffer()),
        fetch(`${url}/no/such/page`).then((response) => response.arrayBuffer()),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return {
    url,
    registry,
    busyRoute: '/inference/start',
    description: 'a Fastify app of the test (examples/inference-api not found)',
    traffic: (durationMs) => traffic(loop, durationMs),
    close: async () => {
      await app.close();
      await kpi.close();
      runtime.stop();
    },
  };
}
