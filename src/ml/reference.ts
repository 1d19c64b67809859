/**
 * What a model monitor compares against: the features it watches and a reference snapshot
 * (bin edges and counts per feature, the prediction mix and confidence), fitted from training
 * data or taken from a window the monitor saw, and saved as JSON.
 *
 * @example
 * ```ts
 * const features: FeatureSpec[] = [{ name: 'x', kind: 'numeric' }, { name: 'region', kind: 'categorical' }];
 * const reference = fitReference({ features, classes: ['cat', 'dog'] }, rows);
 * writeFileSync('reference.json', JSON.stringify(reference));
 * ```
 */
import { LookoutError } from '../core/errors.js';
import { histogramCounts, quantileEdges } from './stats.js';

/**
 * One input feature the monitor watches: a number, or a string from a bounded vocabulary.
 *
 * @example
 * ```ts
 * const spec: FeatureSpec = { name: 'amount', kind: 'numeric' };
 * ```
 */
export interface FeatureSpec {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
}

/**
 * A numeric feature's reference: inner bin edges (ascending) and the count in each of the
 * `edges.length + 1` bins (bin i holds edges[i − 1] < value ≤ edges[i]).
 *
 * @example
 * ```ts
 * const numeric: NumericReference = { kind: 'numeric', edges: [0], counts: [40, 60] };
 * ```
 */
export interface NumericReference {
  readonly kind: 'numeric';
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/**
 * A categorical feature's reference: its vocabulary and a count per value plus one last count for
 * every other value ("other": what the reference did not know).
 *
 * @example
 * ```ts
 * const region: CategoricalReference = { kind: 'categorical', values: ['eu', 'us'], counts: [60, 40, 0] };
 * ```
 */
export interface CategoricalReference {
  readonly kind: 'categorical';
  readonly values: readonly string[];
  readonly counts: readonly number[];
}

/**
 * A reference snapshot, JSON-serialisable.
 *
 * @example
 * ```ts
 * const reference = JSON.parse(readFileSync('reference.json', 'utf8')) as ModelReference;
 * ```
 */
export interface ModelReference {
  readonly format: typeof REFERENCE_FORMAT;
  readonly features: Readonly<Record<string, NumericReference | CategoricalReference>>;
  readonly predictions: {
    readonly classes: readonly string[];
    readonly classCounts: readonly number[];
    readonly confidence: NumericReference;
  };
}

/** The `format` tag of a reference snapshot. */
export const REFERENCE_FORMAT = 'lookout-ml-reference/1';

/**
 * Thresholds the generated alert rules use (and the tests hold no-change data under): PSI 0.2
 * ("significant" in the usual reading), KS 0.1, JS distance 0.1.
 *
 * @example
 * ```ts
 * if (score > DRIFT_ALERT_THRESHOLDS.psi) console.log('drift');
 * ```
 */
export const DRIFT_ALERT_THRESHOLDS = { psi: 0.2, ks: 0.1, js: 0.1 } as const;

/**
 * One labelled-or-not observation for fitting: the inputs and the model's answer.
 *
 * @example
 * ```ts
 * const row: ReferenceRow = { input: { x: 0.1, region: 'eu' }, output: { label: 'cat', confidence: 0.92 } };
 * ```
 */
export interface ReferenceRow {
  readonly input: Readonly<Record<string, unknown>>;
  readonly output: { readonly label: string; readonly confidence?: number };
}

/**
 * Fits a reference from rows (training data with the model's predictions on it): quantile
 * edges per numeric feature (`bins`, default 10), the `maxCategories` (default 20) most frequent
 * values per categorical one, the class mix and the confidence distribution. Rows with a value
 * that is not a finite number (numeric) or a string (categorical) are skipped for that feature.
 * Throws `LOOKOUT_E_ML_FEATURES` for a bad feature list and `LOOKOUT_E_ML_REFERENCE` for no rows.
 *
 * @example
 * ```ts
 * const reference = fitReference({ features: [{ name: 'x', kind: 'numeric' }], classes: ['a', 'b'] }, rows, { bins: 12 });
 * ```
 */
export function fitReference(
  spec: { readonly features: readonly FeatureSpec[]; readonly classes: readonly string[] },
  rows: readonly ReferenceRow[],
  options: { readonly bins?: number; readonly maxCategories?: number } = {},
): ModelReference {
  assertFeatures(spec.features);
  assertClasses(spec.classes);
  const bins = options.bins ?? 10;
  const maxCategories = options.maxCategories ?? 20;
  if (!Number.isInteger(bins) || bins < 2 || bins > 1000) throw new LookoutError('LOOKOUT_E_ML_OPTION', `bins must be an integer in 2..1000, got ${String(bins)}`);
  if (!Number.isInteger(maxCategories) || maxCategories < 1 || maxCategories > 1000) throw new LookoutError('LOOKOUT_E_ML_OPTION', `maxCategories must be an integer in 1..1000, got ${String(maxCategories)}`);
  if (rows.length === 0) throw new LookoutError('LOOKOUT_E_ML_REFERENCE', 'cannot fit a reference from no rows');
  const features: Record<string, NumericReference | CategoricalReference> = {};
  for (const feature of spec.features) {
    if (feature.kind === 'numeric') {
      const values = rows.map((row) => row.input[feature.name]).filter((value): value is number => typeof value === 'number' && Number.isFinite(value));
      const edges = quantileEdges(values, bins);
      features[feature.name] = { kind: 'numeric', edges, counts: histogramCounts(values, edges) };
    } else {
      const tally = new Map<string, number>();
      for (const row of rows) {
        const value = row.input[feature.name];
        if (typeof value === 'string') tally.set(value, (tally.get(value) ?? 0) + 1);
      }
      const ranked = [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const kept = ranked.slice(0, maxCategories);
      const other = ranked.slice(maxCategories).reduce((sum, [, count]) => sum + count, 0);
      features[feature.name] = { kind: 'categorical', values: kept.map(([value]) => value), counts: [...kept.map(([, count]) => count), other] };
    }
  }
  const classCounts = spec.classes.map(() => 0);
  const confidences: number[] = [];
  for (const row of rows) {
    const index = spec.classes.indexOf(row.output.label);
    if (index >= 0) classCounts[index]!++;
    if (typeof row.output.confidence === 'number' && Number.isFinite(row.output.confidence)) confidences.push(row.output.confidence);
  }
  const confidenceEdges = quantileEdges(confidences, bins);
  return {
    format: REFERENCE_FORMAT,
    features,
    predictions: { classes: [...spec.classes], classCounts, confidence: { kind: 'numeric', edges: confidenceEdges, counts: histogramCounts(confidences, confidenceEdges) } },
  };
}

/**
 * Checks a feature list: names unique, non-empty, kinds known. Throws `LOOKOUT_E_ML_FEATURES`.
 *
 * @example
 * ```ts
 * assertFeatures([{ name: 'x', kind: 'numeric' }]);
 * ```
 */
export function assertFeatures(features: readonly FeatureSpec[]): void {
  if (!Array.isArray(features) || features.length === 0) throw new LookoutError('LOOKOUT_E_ML_FEATURES', 'features must be a non-empty array of { name, kind }');
  if (features.length > 256) throw new LookoutError('LOOKOUT_E_ML_FEATURES', `at most 256 features, got ${features.length}`);
  const seen = new Set<string>();
  for (const feature of features as readonly unknown[]) {
    const { name, kind } = (feature ?? {}) as { name?: unknown; kind?: unknown };
    if (typeof name !== 'string' || name === '' || name.length > 128) throw new LookoutError('LOOKOUT_E_ML_FEATURES', `feature name must be a string of 1..128 characters, got ${JSON.stringify(name)}`);
    if (kind !== 'numeric' && kind !== 'categorical') throw new LookoutError('LOOKOUT_E_ML_FEATURES', `feature ${name}: kind must be 'numeric' or 'categorical', got ${JSON.stringify(kind)}`);
    if (seen.has(name)) throw new LookoutError('LOOKOUT_E_ML_FEATURES', `feature ${name} is listed twice`);
    seen.add(name);
  }
}

function assertClasses(classes: readonly string[]): void {
  if (!Array.isArray(classes) || classes.length === 0 || classes.length > 1000 || classes.some((name) => typeof name !== 'string' || name === '')) {
    throw new LookoutError('LOOKOUT_E_ML_FEATURES', 'predictions.classes must be 1..1000 non-empty strings');
  }
  if (new Set(classes).size !== classes.length) throw new LookoutError('LOOKOUT_E_ML_FEATURES', 'predictions.classes has a duplicate');
}

function assertCounts(where: string, counts: unknown, length: number): void {
  if (!Array.isArray(counts) || counts.length !== length || counts.some((count) => typeof count !== 'number' || !Number.isFinite(count) || count < 0)) {
    throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `${where}: counts must be ${length} finite non-negative numbers`);
  }
}

function assertNumeric(where: string, value: unknown): asserts value is NumericReference {
  const numeric = value as Partial<NumericReference>;
  if (numeric?.kind !== 'numeric') throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `${where}: expected kind 'numeric'`);
  const edges = numeric.edges as unknown;
  if (!Array.isArray(edges) || edges.length > 1000 || edges.some((edge, index) => typeof edge !== 'number' || !Number.isFinite(edge) || (index > 0 && edge <= (edges[index - 1] as number)))) {
    throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `${where}: edges must be at most 1000 finite numbers in strictly increasing order`);
  }
  assertCounts(where, numeric.counts, edges.length + 1);
}

/**
 * Checks that `reference` (e.g. parsed JSON) is a snapshot for these features and classes.
 * Throws `LOOKOUT_E_ML_REFERENCE` saying what is wrong.
 *
 * @example
 * ```ts
 * assertReference(JSON.parse(text), features, ['a', 'b']);
 * ```
 */
export function assertReference(reference: unknown, features: readonly FeatureSpec[], classes: readonly string[]): asserts reference is ModelReference {
  const candidate = reference as Partial<ModelReference> | null;
  if (typeof candidate !== 'object' || candidate === null || candidate.format !== REFERENCE_FORMAT) {
    throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `reference must be an object with format '${REFERENCE_FORMAT}' (see fitReference)`);
  }
  if (typeof candidate.features !== 'object' || candidate.features === null) throw new LookoutError('LOOKOUT_E_ML_REFERENCE', 'reference.features must be an object');
  const names = new Set(features.map((feature) => feature.name));
  for (const name of Object.keys(candidate.features)) {
    if (!names.has(name)) throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `reference has feature ${name}, which the monitor does not watch`);
  }
  for (const feature of features) {
    const entry = candidate.features[feature.name] as NumericReference | CategoricalReference | undefined;
    const where = `reference feature ${feature.name}`;
    if (entry === undefined) throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `${where} is missing`);
    if (feature.kind === 'numeric') {
      assertNumeric(where, entry);
    } else {
      const values = (entry as Partial<CategoricalReference>).values as unknown;
      if (entry.kind !== 'categorical' || !Array.isArray(values) || values.length > 1000 || values.some((value) => typeof value !== 'string') || new Set(values).size !== values.length) {
        throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `${where}: expected kind 'categorical' with at most 1000 distinct string values`);
      }
      assertCounts(where, entry.counts, values.length + 1);
    }
  }
  const predictions = candidate.predictions;
  if (typeof predictions !== 'object' || predictions === null) throw new LookoutError('LOOKOUT_E_ML_REFERENCE', 'reference.predictions must be an object');
  if (!Array.isArray(predictions.classes) || predictions.classes.length !== classes.length || predictions.classes.some((name, index) => name !== classes[index])) {
    throw new LookoutError('LOOKOUT_E_ML_REFERENCE', `reference.predictions.classes must be [${classes.join(', ')}]`);
  }
  assertCounts('reference.predictions', predictions.classCounts, classes.length);
  assertNumeric('reference.predictions.confidence', predictions.confidence);
}
