/**
 * The model the API serves, its versions, and the labelled feedback it can be retrained on.
 * Inference with `samples > 1` averages the predictions of jittered copies of each point
 * (test-time augmentation), so its cost, and the processing time the API measures, grows with
 * points × samples: that is what makes an inference "slow".
 *
 * @example
 * ```ts
 * const service = await ModelService.create({ seed: 1 });
 * const [prediction] = await service.infer([[0.2, -0.3]], { samples: 16 });
 * prediction.label; // 'cobalt'
 * ```
 */
import { CLASS_LABELS, gaussian, seededRandom, spirals, type ClassLabel, type Dataset } from './data.js';
import { argmax, trainModel, yieldToEventLoop, type TrainedModel } from './model.js';

/**
 * One point's predicted class and the model's probability for it.
 *
 * @example
 * ```ts
 * const prediction: Prediction = { label: 'jade', confidence: 0.93 };
 * ```
 */
export interface Prediction {
  readonly label: ClassLabel;
  readonly confidence: number;
}

/**
 * The model being served.
 *
 * @example
 * ```ts
 * const { version, source, trainingAccuracy } = service.info;
 * ```
 */
export interface ModelInfo {
  readonly name: string;
  readonly version: number;
  /** What it was trained on: the generated spirals, or users' labelled feedback. */
  readonly source: 'spirals' | 'feedback';
  readonly trainingAccuracy: number;
  readonly samples: number;
  readonly epochs: number;
  readonly trainingSeconds: number;
  readonly trainedAt: string;
}

/**
 * Labelled points kept for retraining: the most recent 300, so a retrain learns where the inputs
 * are now rather than where they drifted from.
 */
const FEEDBACK_CAPACITY = 300;
/** Fewer labelled points than this and a retrain uses the generated spirals instead. */
const MIN_FEEDBACK = 150;
/** Sample passes per training run: epochs = this / training-set size, within 20..300. */
const TRAINING_BUDGET = 60_000;

/**
 * Holds the current model and swaps in a retrained one atomically; running inferences keep the
 * model they started with.
 *
 * @example
 * ```ts
 * const service = await ModelService.create();
 * service.addFeedback(0.1, 0.2, 'amber');
 * await service.retrain();
 * ```
 */
export class ModelService {
  private current: TrainedModel;
  private currentInfo: ModelInfo;
  private currentData: Dataset;
  private readonly feedbackInputs = new Float64Array(FEEDBACK_CAPACITY * 2);
  private readonly feedbackLabels = new Uint8Array(FEEDBACK_CAPACITY);
  private feedbackCount = 0;
  private feedbackNext = 0;
  private readonly seed: number;

  private constructor(trained: TrainedModel, seed: number, data: Dataset) {
    this.current = trained;
    this.currentData = data;
    this.seed = seed;
    this.currentInfo = describe(trained, 1, 'spirals');
  }

  /**
   * Trains version 1 on the generated spirals (about 0.3 s).
   *
   * @example
   * ```ts
   * const service = await ModelService.create({ seed: 7 });
   * ```
   */
  static async create(options: { readonly seed?: number } = {}): Promise<ModelService> {
    const seed = options.seed ?? 1;
    const data = spirals({ seed });
    return new ModelService(await trainModel(data, { seed, epochs: epochsFor(data.size) }), seed, data);
  }

  /** The model being served. @example service.info.version; */
  get info(): ModelInfo {
    return this.currentInfo;
  }

  /** Labelled points held for the next retrain. @example service.feedbackSize; */
  get feedbackSize(): number {
    return this.feedbackCount;
  }

  /**
   * Predicts every point, averaging `samples` jittered passes per point, yielding to the event
   * loop every few milliseconds. Throws `OutOfDomainError` for a point outside the training domain.
   *
   * @example
   * ```ts
   * await service.infer([[0.1, 0.9], [-0.5, 0.2]], { samples: 64, signal });
   * ```
   */
  async infer(points: readonly (readonly [number, number])[], options: { readonly samples?: number; readonly seed?: number; readonly signal?: AbortSignal } = {}): Promise<Prediction[]> {
    const model = this.current.model;
    const samples = options.samples ?? 1;
    const random = seededRandom(options.seed ?? 1);
    const mean = new Float64Array(CLASS_LABELS.length);
    const predictions: Prediction[] = [];
    let sliceStart = performance.now();
    for (const [x, y] of points) {
      mean.fill(0);
      for (let pass = 0; pass < samples; pass++) {
        // The first pass is the point itself; the others are jittered copies.
        const jitter = pass === 0 ? 0 : 0.02;
        const probabilities = model.predict(x + jitter * gaussian(random), y + jitter * gaussian(random));
        for (let index = 0; index < mean.length; index++) mean[index]! += probabilities[index]! / samples;
        if ((pass & 1023) === 1023 && performance.now() - sliceStart > 8) {
          options.signal?.throwIfAborted();
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      const best = argmax(mean);
      predictions.push({ label: CLASS_LABELS[best]!, confidence: Math.round(mean[best]! * 1e4) / 1e4 });
    }
    return predictions;
  }

  /**
   * The served model's training inputs with its own predictions on them: what a drift monitor
   * fits its reference from when a version is published.
   *
   * @example
   * ```ts
   * const rows = service.referenceRows(); // [{ input: { x, y }, output: { label, confidence } }, ...]
   * ```
   */
  referenceRows(): { input: { x: number; y: number }; output: { label: ClassLabel; confidence: number } }[] {
    const { model } = this.current;
    const data = this.currentData;
    return Array.from({ length: data.size }, (_, index) => {
      const x = data.inputs[index * 2]!;
      const y = data.inputs[index * 2 + 1]!;
      const probabilities = model.predict(x, y);
      const best = argmax(probabilities);
      // Rounded as infer() rounds what it serves, so the reference has the served distribution.
      return { input: { x, y }, output: { label: CLASS_LABELS[best]!, confidence: Math.round(probabilities[best]! * 1e4) / 1e4 } };
    });
  }

  /**
   * Keeps a user-labelled point for retraining (the most recent 300 are kept).
   *
   * @example
   * ```ts
   * service.addFeedback(0.4, -0.1, 'jade');
   * ```
   */
  addFeedback(x: number, y: number, label: ClassLabel): void {
    const slot = this.feedbackNext;
    this.feedbackInputs[slot * 2] = x;
    this.feedbackInputs[slot * 2 + 1] = y;
    this.feedbackLabels[slot] = CLASS_LABELS.indexOf(label);
    this.feedbackNext = (slot + 1) % FEEDBACK_CAPACITY;
    this.feedbackCount = Math.min(this.feedbackCount + 1, FEEDBACK_CAPACITY);
  }

  /**
   * Trains the next version, on the labelled feedback when there is enough of it (150 points),
   * else on freshly generated spirals, and serves it from then on.
   *
   * @example
   * ```ts
   * const info = await service.retrain({ signal });
   * info.version; // 2
   * ```
   */
  async retrain(options: { readonly epochs?: number; readonly source?: 'feedback' | 'spirals'; readonly signal?: AbortSignal } = {}): Promise<ModelInfo> {
    const version = this.currentInfo.version + 1;
    const source = options.source ?? (this.feedbackCount >= MIN_FEEDBACK ? 'feedback' : 'spirals');
    const data: Dataset = source === 'feedback' ? this.feedbackSet() : spirals({ seed: this.seed + version });
    if (data.size === 0) throw new Error('no labelled feedback to train on yet (PUT /inference/select with labels)');
    const trained = await trainModel(data, { seed: this.seed + version, epochs: options.epochs ?? epochsFor(data.size), ...(options.signal !== undefined && { signal: options.signal }) });
    this.current = trained;
    this.currentData = data;
    this.currentInfo = describe(trained, version, source);
    return this.currentInfo;
  }

  private feedbackSet(): Dataset {
    const size = this.feedbackCount;
    return { inputs: this.feedbackInputs.slice(0, size * 2), labels: this.feedbackLabels.slice(0, size), size };
  }
}

function epochsFor(size: number): number {
  return Math.max(20, Math.min(300, Math.round(TRAINING_BUDGET / Math.max(size, 1))));
}

function describe(trained: TrainedModel, version: number, source: 'spirals' | 'feedback'): ModelInfo {
  return {
    name: 'spiral-mlp',
    version,
    source,
    trainingAccuracy: Math.round(trained.accuracy * 1e4) / 1e4,
    samples: trained.samples,
    epochs: trained.epochs,
    trainingSeconds: Math.round(trained.seconds * 1000) / 1000,
    trainedAt: new Date().toISOString(),
  };
}
