/**
 * The drift story through a real Prometheus: the reference API listens on a port, Prometheus
 * scrapes it every second, and the model monitor runs on the real clock with time accelerated
 * tenfold (one simulated minute = 6 s: the window's intervals and the inputs' rotation are
 * scaled, so the data are those of drift.e2e.test.ts). Prometheus evaluates the committed
 * ModelDriftSustained expression and the labelled accuracy over a (simulated) minute from the KPI
 * events counters (`kpi_events_total{event=~"good_inference|bad_inference"}`, the events the
 * accuracy-per-minute panel reads). The expression must hold its `for:` before the accuracy falls
 * under 90%; after a retrain it must be false with the new version's drift series present.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { DRIFT_ALERT_THRESHOLDS } from '../../src/ml/index.js';
import { resolveProvisionOptions } from '../../src/provision/options.js';
import { prometheusConfig } from '../../src/provision/prometheus/config.js';
import { MODEL_DRIFT_FOR, modelQualityAlertGroup } from '../../src/provision/prometheus/ml-rules.js';
import { startPrometheus, type RunningPrometheus } from '../../src/verify/prometheus-runner.js';
import { startInferenceApi, type InferenceApi } from './app.js';
import { CLASS_LABELS, seededRandom, spiralPoint } from './data.js';

/** One simulated minute in real milliseconds. */
const MINUTE_MS = 6000;
/** Rotation of the inputs per simulated minute (radians), as in drift.e2e.test.ts. */
const DRIFT_PER_MINUTE = 0.1;
/** The accuracy panel's orange line (inference-kpis.ts). */
const ACCURACY_THRESHOLD = 0.9;
/** The alert's `for:` (ml-rules.ts) in simulated minutes, scaled. */
const FOR_MS = Number(/^(\d+)m$/.exec(MODEL_DRIFT_FOR)![1]) * MINUTE_MS;
/** Concurrent clients of the API (each infers, fetches, labels). */
const WORKERS = 4;
/** The run stops after this long whatever happens (the test's bound). */
const BUDGET_MS = 100_000;

const available = await probe('prometheus', () => hasCommand('prometheus', ['--version']));

describe.skipIf(!available)('reference API through a real Prometheus: drift before accuracy, and after a retrain', () => {
  let api: InferenceApi;
  let prometheus: RunningPrometheus | undefined;
  const options = resolveProvisionOptions({ service: 'inference-api' });
  const job = `job="${options.service}"`;

  beforeAll(async () => {
    api = await startInferenceApi({
      store: new MemoryStore(),
      queue: { concurrency: 2, capacity: 1000 },
      // Two intervals of one simulated minute each, as drift.e2e.test.ts; the real clock moves it.
      modelMonitor: { window: { intervals: 2, intervalMs: MINUTE_MS }, minSamples: 100 },
    });
    prometheus = await startPrometheus({ config: prometheusConfig(options, { targets: [api.target], ruleFiles: [], bearerTokenFile: undefined, scrapeInterval: '1s', evaluationInterval: '1s' }) });
    await prometheus.waitForTargets({ scrapes: 2 });
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await api?.close();
  });

  async function inferAndLabel(point: { x: number; y: number; label: number }): Promise<void> {
    const started = await api.app.inject({ method: 'POST', url: '/inference/start', payload: { points: [[point.x, point.y]] } });
    const id = (started.json() as { id: string }).id;
    for (let poll = 0; poll < 200; poll++) {
      const status = (await api.app.inject({ method: 'GET', url: `/inference/status/${id}` })).json() as { status: string };
      if (status.status === 'done') break;
      if (status.status === 'failed') return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const results = (await api.app.inject({ method: 'GET', url: `/inference/results/${id}` })).json() as { predictions?: { label: string }[] };
    if (results.predictions === undefined) return;
    const truth = CLASS_LABELS[point.label]!;
    await api.app.inject({ method: 'PUT', url: '/inference/select', payload: { id, good: results.predictions[0]!.label === truth, labels: [truth] } });
  }

  it('the committed ModelDriftSustained expression holds its for: before accuracy per minute falls under 90%, and is false after a retrain', async () => {
    const rule = modelQualityAlertGroup(options).rules.find((candidate) => candidate.alert === 'ModelDriftSustained')!;
    const window = `${MINUTE_MS / 1000}s`;
    const labelled = (events: string) => `sum(increase(kpi_events_total{${job}, event=~"${events}"}[${window}]))`;
    const accuracyQuery = `${labelled('good_inference')} / ${labelled('good_inference|bad_inference')}`;
    const servedDrift = (version: string) => `max(model_feature_drift{${job}, method="psi", model_version="${version}"} or model_prediction_drift{${job}, method="psi", model_version="${version}"})`;
    const query = async (expr: string): Promise<number[]> => (await prometheus!.client.query(expr, Date.now() / 1000)).series.map((series) => Number(series.values.at(-1)?.[1]));

    const begin = Date.now();
    const minutes = (at: number | undefined) => (at === undefined ? 'never' : `${((at - begin) / 1000).toFixed(1)} s (simulated minute ${((at - begin) / MINUTE_MS).toFixed(1)})`);
    const random = seededRandom(7);
    let stop = false;
    const workers = Array.from({ length: WORKERS }, async () => {
      while (!stop) await inferAndLabel(spiralPoint(random, { rotation: (DRIFT_PER_MINUTE * (Date.now() - begin)) / MINUTE_MS }));
    });

    const timeline: { second: number; minute: number; drift: string; expression: boolean; accuracy: string; version: string }[] = [];
    let trueSince: number | undefined;
    let firedAt: number | undefined;
    let fellAt: number | undefined;
    let retrainedAt: number | undefined;
    let falseAfterRetrainAt: number | undefined;
    let retraining: Promise<void> | undefined;
    try {
      while (Date.now() - begin < BUDGET_MS && falseAfterRetrainAt === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const now = Date.now();
        const version = api.monitoring!.monitor.version;
        const [holds, accuracy, drift] = await Promise.all([query(rule.expr), query(accuracyQuery), query(servedDrift(version))]);
        const expression = holds.length > 0;
        trueSince = expression ? trueSince ?? now : undefined;
        if (firedAt === undefined && trueSince !== undefined && now - trueSince >= FOR_MS) firedAt = now;
        // A minute of labelled feedback in the window: from the second simulated minute on.
        const minuteAccuracy = accuracy[0];
        if (fellAt === undefined && now - begin > MINUTE_MS + 2000 && minuteAccuracy !== undefined && minuteAccuracy < ACCURACY_THRESHOLD) fellAt = now;
        if (retrainedAt !== undefined && !expression && drift[0] !== undefined && version !== '1') falseAfterRetrainAt = now;
        timeline.push({ second: Math.round((now - begin) / 1000), minute: Number(((now - begin) / MINUTE_MS).toFixed(1)), drift: drift[0]?.toFixed(3) ?? '-', expression, accuracy: minuteAccuracy?.toFixed(3) ?? '-', version });
        // Retrain once the accuracy fell, on the recent labelled points (the inputs as they are now).
        if (fellAt !== undefined && retraining === undefined) {
          retraining = (async () => {
            const started = await api.app.inject({ method: 'POST', url: '/train/start', payload: { source: 'feedback' } });
            const id = (started.json() as { id: string }).id;
            let status = 'queued';
            for (let poll = 0; poll < 3000 && (status === 'queued' || status === 'running'); poll++) {
              await new Promise((resolve) => setTimeout(resolve, 10));
              status = ((await api.app.inject({ method: 'GET', url: `/train/status/${id}` })).json() as { status: string }).status;
            }
            expect(status).toBe('done');
            retrainedAt = Date.now();
          })();
        }
      }
    } finally {
      stop = true;
      await Promise.all(workers);
      await retraining;
    }
    console.log('drift through Prometheus (1 s scrapes; drift = max PSI of the served version; accuracy over one simulated minute from kpi_events_total):');
    console.table(timeline);
    console.log(
      `ModelDriftSustained expression (PSI > ${DRIFT_ALERT_THRESHOLDS.psi}) held ${MODEL_DRIFT_FOR} (${FOR_MS / 1000} s) at ${minutes(firedAt)}; ` +
        `accuracy per minute under ${ACCURACY_THRESHOLD} at ${minutes(fellAt)}; retrained at ${minutes(retrainedAt)}; expression false on v2's drift at ${minutes(falseAfterRetrainAt)}`,
    );
    expect(firedAt).toBeDefined();
    expect(fellAt).toBeDefined();
    expect(firedAt!).toBeLessThan(fellAt!);
    expect(retrainedAt).toBeDefined();
    expect(falseAfterRetrainAt).toBeDefined();
    expect(falseAfterRetrainAt!).toBeGreaterThanOrEqual(retrainedAt!);
    // The first minute, before the inputs moved, does not hold the expression.
    expect(timeline.filter((row) => row.second <= MINUTE_MS / 1000).every((row) => !row.expression)).toBe(true);
  }, 180_000);
});
