/**
 * `createModelMonitor`: data and prediction drift of a served model, streamed into Prometheus.
 * `observe(input, output)` on the request path only increments preallocated bin counts (no
 * allocation, never throws: bad input is counted in `lookout_ml_rejected_total{reason}`); the
 * drift scores against the reference (PSI, KS, Jensen–Shannon) are computed over the sliding
 * window when the registry renders (the drift gauge's `collect`) and on `refresh()`, never per request.
 *
 * @example
 * ```ts
 * const monitor = createModelMonitor({
 *   registry, model: { name: 'fraud', version: '3' },
 *   features: [{ name: 'amount', kind: 'numeric' }, { name: 'country', kind: 'categorical' }],
 *   predictions: { classes: ['ok', 'fraud'] },
 *   reference: JSON.parse(readFileSync('reference.json', 'utf8')),
 * });
 * monitor.observe({ amount: 12.5, country: 'FR' }, { label: 'ok', confidence: 0.97 });
 * ```
 */
import type { Counter, CounterSeries } from '../core/counter.js';
import { LookoutError } from '../core/errors.js';
import type { Gauge } from '../core/gauge.js';
import { DEFAULT_BUCKETS, type Histogram, type HistogramSeries } from '../core/histogram.js';
import type { Info } from '../core/info.js';
import type { Registry } from '../core/registry.js';
import { assertFeatures, assertReference, REFERENCE_FORMAT, type CategoricalReference, type FeatureSpec, type ModelReference, type NumericReference } from './reference.js';
import { binIndex, jensenShannonDistance, ksFromCounts, psi } from './stats.js';
import { SlidingWindow } from './window.js';

/**
 * Options of {@link createModelMonitor}.
 *
 * @example
 * ```ts
 * const options: ModelMonitorOptions = { registry, model: { name: 'm', version: '1' }, features, predictions: { classes: ['a', 'b'] }, reference };
 * ```
 */
export interface ModelMonitorOptions {
  readonly registry: Registry;
  /** The model's name and the version being served (labels `model`, `model_version`). */
  readonly model: { readonly name: string; readonly version: string };
  readonly features: readonly FeatureSpec[];
  /** The classes the model predicts; `output.label` must be one of them. */
  readonly predictions: { readonly classes: readonly string[] };
  /** The snapshot to compare with (see `fitReference`), e.g. parsed from JSON. */
  readonly reference: ModelReference;
  /** Sliding window: `intervals` (default 10) rows of `intervalMs` (default 60 000) each. */
  readonly window?: { readonly intervals?: number; readonly intervalMs?: number };
  /** Observations the window needs before drift is reported (default 200). */
  readonly minSamples?: number;
  /** Model versions kept as labels before folding into the overflow series (default 10). */
  readonly maxVersions?: number;
  /** Buckets (seconds) of `model_request_duration_seconds` (default: the core's `DEFAULT_BUCKETS`). */
  readonly requestBuckets?: readonly number[];
  /**
   * Clock in ms (default `Date.now`, with a timer moving the window on at each interval). With
   * another clock (tests, simulations) there is no timer: `refresh()` moves the window on.
   */
  readonly now?: () => number;
}

/**
 * Drift scores of one refresh (NaN-free: a feature is absent below `minSamples`).
 *
 * @example
 * ```ts
 * const report: DriftReport = monitor.refresh();
 * report.features['x']?.psi;
 * ```
 */
export interface DriftReport {
  readonly version: string;
  readonly observations: number;
  /** Per feature: psi and js, ks for numeric features. Empty below `minSamples`. */
  readonly features: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** `class` (psi, js) and `confidence` (psi, ks, js). Empty below `minSamples`. */
  readonly predictions: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/**
 * A running model monitor.
 *
 * @example
 * ```ts
 * monitor.observe({ x: 0.2 }, { label: 'a', confidence: 0.8 });
 * monitor.setModel({ version: '2', reference: fitted });
 * ```
 */
export interface ModelMonitor {
  /** Counts one prediction. Never throws; bad input is counted in `lookout_ml_rejected_total{reason}`. */
  observe(input: unknown, output: unknown): void;
  /** Counts labelled feedback for a version (default: the one served): `model_feedback_total{outcome}`. */
  feedback(correct: boolean, version?: string): void;
  /**
   * Counts one HTTP request answered with a version (default: the one served): its latency in
   * `model_request_duration_seconds{outcome}` (`ok`, or `error` when `failed`). Never throws.
   */
  request(seconds: number, failed: boolean, version?: string): void;
  /** Serves a new version: drift is compared with `reference` (default: the current one) from an empty window. */
  setModel(model: { readonly version: string; readonly reference?: ModelReference }): void;
  /** Recomputes the drift gauges now and returns the scores. */
  refresh(): DriftReport;
  /** The current window as a reference snapshot (to compare later windows with this one). */
  snapshot(): ModelReference;
  /** Bytes of counts held for each feature (and `predictions`), fixed at `setModel`. */
  memoryBytes(): Readonly<Record<string, number>>;
  readonly version: string;
  /** Stops the window's timer. */
  close(): void;
}

/** Why an observation was not counted: the `reason` label of `lookout_ml_rejected_total`. */
export const REJECT_REASONS = ['not_an_object', 'missing_feature', 'extra_feature', 'wrong_type', 'non_finite', 'unknown_class', 'bad_confidence', 'internal'] as const;
const [NOT_AN_OBJECT, MISSING, EXTRA, WRONG_TYPE, NON_FINITE, UNKNOWN_CLASS, BAD_CONFIDENCE, INTERNAL] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
const CONFIDENCE_BUCKETS = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];
const NUMERIC_METHODS = ['psi', 'ks', 'js'] as const;
const CATEGORICAL_METHODS = ['psi', 'js'] as const;

/** Bins of one numeric distribution (a feature or the confidence) and where they sit in a row. */
interface Layout {
  readonly names: readonly string[];
  readonly numeric: Uint8Array;
  readonly edges: readonly Float64Array[];
  readonly vocabularies: readonly Map<string, number>[];
  readonly offsets: Int32Array;
  readonly widths: Int32Array;
  readonly classOffset: number;
  readonly confidenceOffset: number;
  readonly confidenceEdges: Float64Array;
  readonly width: number;
}

function layoutOf(features: readonly FeatureSpec[], reference: ModelReference): Layout {
  const offsets = new Int32Array(features.length);
  const widths = new Int32Array(features.length);
  let width = 0;
  features.forEach((feature, index) => {
    const entry = reference.features[feature.name]!;
    offsets[index] = width;
    widths[index] = entry.counts.length;
    width += entry.counts.length;
  });
  const classOffset = width;
  width += reference.predictions.classes.length;
  const confidenceOffset = width;
  width += reference.predictions.confidence.counts.length;
  return {
    names: features.map((feature) => feature.name),
    numeric: Uint8Array.from(features, (feature) => (feature.kind === 'numeric' ? 1 : 0)),
    edges: features.map((feature) => Float64Array.from(feature.kind === 'numeric' ? (reference.features[feature.name] as NumericReference).edges : [])),
    vocabularies: features.map((feature) => new Map(feature.kind === 'categorical' ? (reference.features[feature.name] as CategoricalReference).values.map((value, index) => [value, index] as const) : [])),
    offsets,
    widths,
    classOffset,
    confidenceOffset,
    confidenceEdges: Float64Array.from(reference.predictions.confidence.edges),
    width,
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number, max: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > max) throw new LookoutError('LOOKOUT_E_ML_OPTION', `${name} must be an integer in 1..${max}, got ${String(value)}`);
  return resolved;
}

function assertVersion(version: unknown): asserts version is string {
  if (typeof version !== 'string' || version === '' || version.length > 64) throw new LookoutError('LOOKOUT_E_ML_OPTION', `model version must be a string of 1..64 characters, got ${JSON.stringify(version)}`);
}

/**
 * Creates a model monitor on `registry` (one per registry: the metric names are fixed). Throws
 * `LOOKOUT_E_ML_OPTION`, `LOOKOUT_E_ML_FEATURES` or `LOOKOUT_E_ML_REFERENCE` for bad options.
 * Metrics: `model_feature_drift{model,model_version,feature,method}`,
 * `model_prediction_drift{model,model_version,output,method}`, `model_predictions_total{class}`,
 * `model_prediction_confidence` (histogram), `model_feedback_total{outcome}`,
 * `model_window_observations`, `model_request_duration_seconds{outcome}` (see `request`),
 * `model_version_info{previous_version}` (the served version and the one it replaced, which the
 * `ModelVersionWorse` alert compares), `lookout_ml_rejected_total{reason}`.
 *
 * @example
 * ```ts
 * const monitor = createModelMonitor({ registry, model: { name: 'spiral', version: '1' }, features, predictions: { classes }, reference });
 * app.post('/predict', (req) => { const out = predict(req.body); monitor.observe(req.body, out); return out; });
 * ```
 */
export function createModelMonitor(options: ModelMonitorOptions): ModelMonitor {
  const { registry } = options;
  if (typeof registry?.gauge !== 'function') throw new LookoutError('LOOKOUT_E_ML_OPTION', 'registry must be a lookout Registry');
  const modelName = options.model?.name;
  if (typeof modelName !== 'string' || modelName === '' || modelName.length > 128) throw new LookoutError('LOOKOUT_E_ML_OPTION', 'model.name must be a string of 1..128 characters');
  assertVersion(options.model.version);
  assertFeatures(options.features);
  const features = options.features.map((feature) => ({ name: feature.name, kind: feature.kind }));
  const classes = [...(options.predictions?.classes ?? [])];
  assertReference(options.reference, features, classes);
  const intervals = positiveInteger('window.intervals', options.window?.intervals, 10, 1440);
  const intervalMs = positiveInteger('window.intervalMs', options.window?.intervalMs, 60_000, 86_400_000);
  const minSamples = positiveInteger('minSamples', options.minSamples, 200, 1e9);
  const maxVersions = positiveInteger('maxVersions', options.maxVersions, 10, 1000);
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new LookoutError('LOOKOUT_E_ML_OPTION', 'now must be a function returning milliseconds');

  const perVersion = { model: modelName };
  const featureDrift: Gauge<'model' | 'model_version' | 'feature' | 'method'> = registry.gauge({
    name: 'model_feature_drift',
    help: 'Drift of an input feature over the sliding window against the reference (method: psi, ks, js).',
    labelNames: ['model', 'model_version', 'feature', 'method'],
    maxSeries: features.length * 3,
    // Before every render (and when the built-in dashboard samples the registry): recompute all
    // drift gauges, which render after this one.
    collect: () => {
      refresh();
    },
  });
  const predictionDrift: Gauge<'model' | 'model_version' | 'output' | 'method'> = registry.gauge({
    name: 'model_prediction_drift',
    help: 'Drift of the predictions over the sliding window against the reference (output: class, confidence).',
    labelNames: ['model', 'model_version', 'output', 'method'],
    maxSeries: 5,
  });
  const windowObservations: Gauge<'model' | 'model_version'> = registry.gauge({ name: 'model_window_observations', help: 'Observations in the drift window of the served version.', labelNames: ['model', 'model_version'], maxSeries: 1 });
  const predictionsTotal: Counter<'model' | 'model_version' | 'class'> = registry.counter({ name: 'model_predictions_total', help: 'Predictions by class and model version.', labelNames: ['model', 'model_version', 'class'], maxSeries: maxVersions * classes.length });
  const confidence: Histogram<'model' | 'model_version'> = registry.histogram({ name: 'model_prediction_confidence', help: 'Confidence (probability of the predicted class) by model version.', labelNames: ['model', 'model_version'], buckets: CONFIDENCE_BUCKETS, maxSeries: maxVersions });
  const feedbackTotal: Counter<'model' | 'model_version' | 'outcome'> = registry.counter({ name: 'model_feedback_total', help: 'Labelled feedback by model version (outcome: correct, wrong).', labelNames: ['model', 'model_version', 'outcome'], maxSeries: maxVersions * 2 });
  const requestDuration: Histogram<'model' | 'model_version' | 'outcome'> = registry.histogram({
    name: 'model_request_duration_seconds',
    help: 'HTTP latency of the requests a model version answered (outcome: ok, error).',
    unit: 'seconds',
    labelNames: ['model', 'model_version', 'outcome'],
    buckets: options.requestBuckets ?? DEFAULT_BUCKETS,
    maxSeries: maxVersions * 2,
  });
  const versionInfo: Info<'model' | 'model_version' | 'previous_version'> = registry.info({
    name: 'model_version',
    help: 'The model version served and the one it replaced (empty for the first).',
    labelNames: ['model', 'model_version', 'previous_version'],
  });
  const rejectedTotal: Counter<'reason'> = registry.counter({ name: 'lookout_ml_rejected_total', help: 'Model monitor observations not counted, by reason (bad input never throws into the handler).', labelNames: ['reason'], maxSeries: REJECT_REASONS.length });
  const rejected: CounterSeries[] = REJECT_REASONS.map((reason) => rejectedTotal.labels({ reason }));

  let version = options.model.version;
  let reference: ModelReference = options.reference;
  let layout = layoutOf(features, reference);
  let window = new SlidingWindow({ width: layout.width, intervals, intervalMs, now });
  let classSeries: CounterSeries[] = [];
  let confidenceSeries: HistogramSeries;
  let requestOk: HistogramSeries;
  let requestError: HistogramSeries;
  let classIndex = new Map<string, number>();
  const featureCount = features.length;
  const scratch = new Int32Array(featureCount);

  const bind = (): void => {
    const labels = { ...perVersion, model_version: version };
    classSeries = classes.map((name) => predictionsTotal.labels({ ...labels, class: name }));
    classIndex = new Map(classes.map((name, index) => [name, index]));
    confidenceSeries = confidence.labels(labels);
    // Both outcomes exported from the start: an error ratio of 0 is data, not a missing series.
    requestOk = requestDuration.labels({ ...labels, outcome: 'ok' });
    requestError = requestDuration.labels({ ...labels, outcome: 'error' });
  };
  bind();
  versionInfo.set({ ...perVersion, model_version: version, previous_version: '' });

  const reject = (reason: number): void => {
    rejected[reason]!.inc();
  };

  function count(input: Record<string, unknown>, output: { label?: unknown; confidence?: unknown }): number {
    const { names, numeric, edges, vocabularies, offsets, widths } = layout;
    for (let index = 0; index < featureCount; index++) {
      const value = input[names[index]!];
      if (numeric[index] === 1) {
        if (typeof value !== 'number') return value === undefined ? MISSING : WRONG_TYPE;
        // NaN and ±Infinity (x − x is NaN for them).
        if (value - value !== 0) return NON_FINITE;
        scratch[index] = offsets[index]! + binIndex(edges[index]!, value);
      } else {
        if (typeof value !== 'string') return value === undefined ? MISSING : WRONG_TYPE;
        scratch[index] = offsets[index]! + (vocabularies[index]!.get(value) ?? widths[index]! - 1);
      }
    }
    // Extra features: a plain object's enumerable keys (for-in over a known shape is cached by
    // V8; an Object.hasOwn check per key cost ~40 ns here, and request bodies have no inherited keys).
    let keys = 0;
    for (const _key in input) keys++;
    if (keys !== featureCount) return EXTRA;
    const label = output.label;
    const predicted = typeof label === 'string' ? classIndex.get(label) : undefined;
    if (predicted === undefined) return UNKNOWN_CLASS;
    const probability = output.confidence;
    if (probability !== undefined && (typeof probability !== 'number' || !(probability >= 0 && probability <= 1))) return BAD_CONFIDENCE;
    const counts = window.counts;
    const base = window.base;
    for (let index = 0; index < featureCount; index++) counts[base + scratch[index]!]!++;
    counts[base + layout.classOffset + predicted]!++;
    window.observations[window.slot]!++;
    classSeries[predicted]!.inc();
    if (probability !== undefined) {
      counts[base + layout.confidenceOffset + binIndex(layout.confidenceEdges, probability)]!++;
      confidenceSeries.observe(probability);
    }
    return -1;
  }

  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    timer = setTimeout(() => {
      window.advance();
      schedule();
    }, Math.max(1, window.msToNextInterval() + 1));
    timer.unref();
  };
  if (options.now === undefined) schedule();

  function refresh(): DriftReport {
    window.advance();
    const observations = window.observationCount();
    const labels = { ...perVersion, model_version: version };
    windowObservations.labels(labels).set(observations);
    const featureScores: Record<string, Record<string, number>> = {};
    const predictionScores: Record<string, Record<string, number>> = {};
    if (observations < minSamples) {
      for (const feature of features) for (const method of NUMERIC_METHODS) featureDrift.remove({ ...labels, feature: feature.name, method });
      for (const output of ['class', 'confidence']) for (const method of NUMERIC_METHODS) predictionDrift.remove({ ...labels, output, method });
      return { version, observations, features: featureScores, predictions: predictionScores };
    }
    const sum = window.sum();
    const slice = (offset: number, length: number) => sum.subarray(offset, offset + length);
    features.forEach((feature, index) => {
      const current = slice(layout.offsets[index]!, layout.widths[index]!);
      const expected = reference.features[feature.name]!.counts;
      const scores: Record<string, number> = { psi: psi(expected, current), js: jensenShannonDistance(expected, current) };
      if (feature.kind === 'numeric') scores['ks'] = ksFromCounts(expected, current);
      featureScores[feature.name] = scores;
      for (const method of feature.kind === 'numeric' ? NUMERIC_METHODS : CATEGORICAL_METHODS) featureDrift.labels({ ...labels, feature: feature.name, method }).set(scores[method]!);
    });
    const classCounts = slice(layout.classOffset, classes.length);
    predictionScores['class'] = { psi: psi(reference.predictions.classCounts, classCounts), js: jensenShannonDistance(reference.predictions.classCounts, classCounts) };
    const confidenceCounts = slice(layout.confidenceOffset, reference.predictions.confidence.counts.length);
    let confidenceTotal = 0;
    for (const value of confidenceCounts) confidenceTotal += value;
    if (confidenceTotal >= minSamples) {
      const expected = reference.predictions.confidence.counts;
      predictionScores['confidence'] = { psi: psi(expected, confidenceCounts), ks: ksFromCounts(expected, confidenceCounts), js: jensenShannonDistance(expected, confidenceCounts) };
    }
    for (const [output, scores] of Object.entries(predictionScores)) {
      for (const [method, score] of Object.entries(scores)) if (Number.isFinite(score)) predictionDrift.labels({ ...labels, output, method }).set(score);
    }
    return { version, observations, features: featureScores, predictions: predictionScores };
  }

  return {
    observe(input, output) {
      try {
        if (typeof input !== 'object' || input === null || typeof output !== 'object' || output === null) return reject(NOT_AN_OBJECT);
        const outcome = count(input as Record<string, unknown>, output);
        if (outcome >= 0) reject(outcome);
      } catch {
        // A throwing getter or proxy in the caller's objects: counted, never thrown into the handler.
        reject(INTERNAL);
      }
    },
    feedback(correct, forVersion = version) {
      try {
        feedbackTotal.labels({ ...perVersion, model_version: String(forVersion).slice(0, 64), outcome: correct ? 'correct' : 'wrong' }).inc();
      } catch {
        reject(INTERNAL);
      }
    },
    request(seconds, failed, forVersion) {
      try {
        if (!(seconds >= 0 && seconds < Infinity)) return reject(NON_FINITE);
        if (forVersion === undefined || forVersion === version) (failed ? requestError : requestOk).observe(seconds);
        else requestDuration.labels({ ...perVersion, model_version: String(forVersion).slice(0, 64), outcome: failed ? 'error' : 'ok' }).observe(seconds);
      } catch {
        reject(INTERNAL);
      }
    },
    setModel(model) {
      assertVersion(model?.version);
      const nextReference = model.reference ?? reference;
      assertReference(nextReference, features, classes);
      const previous = { ...perVersion, model_version: version };
      for (const feature of features) for (const method of NUMERIC_METHODS) featureDrift.remove({ ...previous, feature: feature.name, method });
      for (const output of ['class', 'confidence']) for (const method of NUMERIC_METHODS) predictionDrift.remove({ ...previous, output, method });
      windowObservations.remove(previous);
      if (model.version !== version) versionInfo.set({ ...perVersion, model_version: model.version, previous_version: version });
      version = model.version;
      reference = nextReference;
      layout = layoutOf(features, reference);
      window = new SlidingWindow({ width: layout.width, intervals, intervalMs, now });
      bind();
    },
    refresh,
    snapshot() {
      const sum = window.sum();
      const counts = (offset: number, length: number) => Array.from(sum.subarray(offset, offset + length));
      const snapshotFeatures: Record<string, NumericReference | CategoricalReference> = {};
      features.forEach((feature, index) => {
        const entry = reference.features[feature.name]!;
        snapshotFeatures[feature.name] = { ...entry, counts: counts(layout.offsets[index]!, layout.widths[index]!) } as NumericReference | CategoricalReference;
      });
      return {
        format: REFERENCE_FORMAT,
        features: snapshotFeatures,
        predictions: {
          classes: [...classes],
          classCounts: counts(layout.classOffset, classes.length),
          confidence: { kind: 'numeric', edges: [...reference.predictions.confidence.edges], counts: counts(layout.confidenceOffset, reference.predictions.confidence.counts.length) },
        },
      };
    },
    memoryBytes() {
      // Per row cell: 4 bytes in each of the ring's rows, 8 in the window sum, 8 per edge.
      const cellBytes = intervals * 4 + 8;
      const result: Record<string, number> = {};
      features.forEach((feature, index) => {
        result[feature.name] = layout.widths[index]! * cellBytes + layout.edges[index]!.byteLength;
      });
      result['predictions'] = (classes.length + reference.predictions.confidence.counts.length) * cellBytes + layout.confidenceEdges.byteLength;
      return result;
    },
    get version() {
      return version;
    },
    close() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
