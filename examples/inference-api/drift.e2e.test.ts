/**
 * The reference API with its rotating inputs, on an accelerated clock: the model monitor's drift
 * alert expression turns true before the labelled accuracy per minute falls under the Inference
 * KPIs panel's threshold (90%), and false again after a retrain publishes a new version and a new
 * reference. Requests go through the API (Fastify inject: routes, queue, model, monitor, KPI
 * events); the clock only moves the monitor's window, one simulated minute per step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import { DRIFT_ALERT_THRESHOLDS } from '../../src/ml/index.js';
import { MODEL_DRIFT_FOR } from '../../src/provision/prometheus/ml-rules.js';
import { startInferenceApi, type InferenceApi } from './app.js';
import { CLASS_LABELS, seededRandom, spiralPoint } from './data.js';

/** Rotation of the inputs per simulated minute (radians); traffic.ts defaults to 0.4 a real minute. */
const DRIFT_PER_MINUTE = 0.1;
const REQUESTS_PER_STEP = 60;
const STEPS_PER_MINUTE = 3;
/** The accuracy panel's orange line (inference-kpis.ts). */
const ACCURACY_THRESHOLD = 0.9;
/** The alert's `for:` (ml-rules.ts): the expression must hold this long. */
const FOR_MS = Number(/^(\d+)m$/.exec(MODEL_DRIFT_FOR)![1]) * 60_000;

/** What the ModelDriftSustained rule's expression computes, from the exposition text. */
function driftExpression(text: string): number | undefined {
  let largest: number | undefined;
  for (const line of text.split('\n')) {
    if (!/^model_(feature|prediction)_drift\{/.test(line) || !line.includes('method="psi"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) largest = Math.max(largest ?? -Infinity, value);
  }
  return largest;
}

let api: InferenceApi;
const clock = { now: 0 };

beforeAll(async () => {
  api = await startInferenceApi({
    store: new MemoryStore(),
    queue: { concurrency: 2, capacity: 1000 },
    modelMonitor: { now: () => clock.now, window: { intervals: 2, intervalMs: 60_000 }, minSamples: 100 },
  });
});
afterAll(async () => {
  await api?.close();
});

async function inferAndLabel(point: { x: number; y: number; label: number }): Promise<boolean | undefined> {
  const started = await api.app.inject({ method: 'POST', url: '/inference/start', payload: { points: [[point.x, point.y]] } });
  const id = (started.json() as { id: string }).id;
  for (let poll = 0; poll < 200; poll++) {
    const status = (await api.app.inject({ method: 'GET', url: `/inference/status/${id}` })).json() as { status: string };
    if (status.status === 'done') break;
    if (status.status === 'failed') return undefined;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const results = (await api.app.inject({ method: 'GET', url: `/inference/results/${id}` })).json() as { predictions: { label: string }[] };
  const truth = CLASS_LABELS[point.label]!;
  const good = results.predictions[0]!.label === truth;
  const answer = await api.app.inject({ method: 'PUT', url: '/inference/select', payload: { id, good, labels: [truth] } });
  expect(answer.statusCode).toBe(204);
  return good;
}

describe('reference API: drift before accuracy, and after a retrain', () => {
  it('the drift alert expression turns true before accuracy per minute falls under 90%, false after a retrain', async () => {
    const random = seededRandom(7);
    const timeline: { minute: number; rotation: number; accuracy: number; drift: number | undefined; firing: boolean; version: string }[] = [];
    let trueSince: number | undefined;
    let alertFiredAt: number | undefined;
    let accuracyFellAt: number | undefined;
    let retrainedAt: number | undefined;
    let resolvedAfterRetrainAt: number | undefined;
    let rotation = 0;
    for (let minute = 0; minute < 30 && resolvedAfterRetrainAt === undefined; minute++) {
      let good = 0;
      let labelled = 0;
      let drift: number | undefined;
      for (let step = 0; step < STEPS_PER_MINUTE; step++) {
        clock.now = minute * 60_000 + (step * 60_000) / STEPS_PER_MINUTE;
        rotation = DRIFT_PER_MINUTE * (clock.now / 60_000);
        for (let request = 0; request < REQUESTS_PER_STEP; request++) {
          const verdict = await inferAndLabel(spiralPoint(random, { rotation }));
          if (verdict === undefined) continue;
          labelled++;
          if (verdict) good++;
        }
        // A scrape: the registry's collect recomputes the drift gauges; the rule evaluates.
        drift = driftExpression(await api.registry.metrics());
        const holds = drift !== undefined && drift > DRIFT_ALERT_THRESHOLDS.psi;
        trueSince = holds ? trueSince ?? clock.now : undefined;
        if (alertFiredAt === undefined && trueSince !== undefined && clock.now - trueSince >= FOR_MS) alertFiredAt = clock.now;
        if (retrainedAt !== undefined && resolvedAfterRetrainAt === undefined && drift !== undefined && !holds) resolvedAfterRetrainAt = clock.now;
      }
      const accuracy = good / labelled;
      if (accuracyFellAt === undefined && accuracy < ACCURACY_THRESHOLD) accuracyFellAt = minute * 60_000;
      timeline.push({ minute, rotation: Number(rotation.toFixed(2)), accuracy: Number(accuracy.toFixed(3)), drift: drift === undefined ? undefined : Number(drift.toFixed(3)), firing: alertFiredAt !== undefined && trueSince !== undefined, version: api.monitoring!.monitor.version });
      // Retrain once the accuracy fell: on the last 300 labelled points (the inputs as they are now).
      if (accuracyFellAt !== undefined && retrainedAt === undefined) {
        const started = await api.app.inject({ method: 'POST', url: '/train/start', payload: { source: 'feedback' } });
        const id = (started.json() as { id: string }).id;
        let status = 'queued';
        for (let poll = 0; poll < 2000 && (status === 'queued' || status === 'running'); poll++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          status = ((await api.app.inject({ method: 'GET', url: `/train/status/${id}` })).json() as { status: string }).status;
        }
        expect(status).toBe('done');
        retrainedAt = (minute + 1) * 60_000;
      }
    }
    console.log('drift e2e timeline (simulated minutes; drift = max PSI over features and predictions):');
    console.table(timeline);
    console.log(`drift alert (PSI > ${DRIFT_ALERT_THRESHOLDS.psi} for ${MODEL_DRIFT_FOR}) fired at minute ${String(alertFiredAt && alertFiredAt / 60_000)}; accuracy per minute fell under ${ACCURACY_THRESHOLD} at minute ${String(accuracyFellAt && accuracyFellAt / 60_000)}; retrained at minute ${String(retrainedAt && retrainedAt / 60_000)}; drift back under the threshold at minute ${String(resolvedAfterRetrainAt && resolvedAfterRetrainAt / 60_000)}`);
    expect(alertFiredAt).toBeDefined();
    expect(accuracyFellAt).toBeDefined();
    expect(alertFiredAt!).toBeLessThan(accuracyFellAt!);
    expect(api.monitoring!.monitor.version).toBe('2');
    expect(resolvedAfterRetrainAt).toBeDefined();
    expect(resolvedAfterRetrainAt!).toBeGreaterThanOrEqual(retrainedAt!);
    const peakBefore = Math.max(...timeline.filter((row) => row.version === '1').map((row) => row.drift ?? 0));
    expect(timeline[timeline.length - 1]!.drift!).toBeLessThan(peakBefore / 2);
    // The first minutes, before the inputs moved, stay under the threshold.
    expect(timeline[0]!.drift === undefined || timeline[0]!.drift < DRIFT_ALERT_THRESHOLDS.psi).toBe(true);
    // Feedback by version is counted for the Model quality dashboard.
    expect(await api.registry.metrics()).toMatch(/model_feedback_total\{model="spiral-mlp",model_version="1",outcome="correct"\} \d+/);
  }, 300_000);
});
