/**
 * The model the reference API serves: a small multilayer perceptron (2 → 32 → 32 → 3, ReLU,
 * softmax) trained with Adam on the generated spirals of data.ts. Everything is computed
 * in-process, deterministic for a given seed, and nothing is downloaded. Long work (training, many-sample inferences) yields to the event loop every few
 * milliseconds so the API keeps answering while the model computes.
 *
 * @example
 * ```ts
 * const { model, accuracy } = await trainModel(spirals({ seed: 1 }), { epochs: 150, seed: 1 });
 * model.predict(0.1, -0.4); // Float64Array [p(amber), p(cobalt), p(jade)]
 * ```
 */
import { CLASS_LABELS, gaussian, seededRandom, type Dataset } from './data.js';

/** Inputs further than this from the origin are outside what the model was trained on. */
const DOMAIN_LIMIT = 1.5;

/**
 * Thrown for an input outside the region the model was trained on (|x| or |y| above 1.5): a
 * prediction there would be meaningless. The API answers 422.
 *
 * @example
 * ```ts
 * try { model.classify(40, 2); } catch (error) { error instanceof OutOfDomainError; } // true
 * ```
 */
export class OutOfDomainError extends Error {
  readonly statusCode = 422;
  constructor(x: number, y: number) {
    super(`input (${x}, ${y}) is outside the training domain [-${DOMAIN_LIMIT}, ${DOMAIN_LIMIT}]²`);
    this.name = 'OutOfDomainError';
  }
}

/**
 * A dense ReLU network with a softmax output, trained with Adam. Buffers are allocated once per
 * model, so `predict` allocates only its result.
 *
 * @example
 * ```ts
 * const model = new Mlp([2, 32, 32, 3], seededRandom(1));
 * model.trainEpoch(spirals(), { random: seededRandom(2) });
 * ```
 */
export class Mlp {
  private readonly sizes: readonly number[];
  private readonly weights: Float64Array[];
  private readonly biases: Float64Array[];
  private readonly activations: Float64Array[];
  private readonly deltas: Float64Array[];
  private readonly weightGrads: Float64Array[];
  private readonly biasGrads: Float64Array[];
  private readonly moments: { m: Float64Array; v: Float64Array }[];
  private step = 0;

  constructor(sizes: readonly number[], random: () => number) {
    this.sizes = sizes;
    const layers = sizes.slice(1).map((size, index) => ({ fanIn: sizes[index]!, size }));
    // He initialisation for ReLU layers.
    this.weights = layers.map(({ fanIn, size }) => Float64Array.from({ length: fanIn * size }, () => gaussian(random) * Math.sqrt(2 / fanIn)));
    this.biases = layers.map(({ size }) => new Float64Array(size));
    this.activations = sizes.map((size) => new Float64Array(size));
    this.deltas = sizes.map((size) => new Float64Array(size));
    this.weightGrads = this.weights.map((layer) => new Float64Array(layer.length));
    this.biasGrads = this.biases.map((layer) => new Float64Array(layer.length));
    this.moments = [...this.weights, ...this.biases].map((layer) => ({ m: new Float64Array(layer.length), v: new Float64Array(layer.length) }));
  }

  /**
   * Class probabilities of one point. Throws `OutOfDomainError` outside the training domain.
   *
   * @example
   * ```ts
   * const [amber, cobalt, jade] = model.predict(0.3, -0.2);
   * ```
   */
  predict(x: number, y: number): Float64Array {
    if (!(Math.abs(x) <= DOMAIN_LIMIT && Math.abs(y) <= DOMAIN_LIMIT)) throw new OutOfDomainError(x, y);
    return Float64Array.from(this.forward(x, y));
  }

  /**
   * Mean accuracy on a data set.
   *
   * @example
   * ```ts
   * model.accuracy(spirals({ seed: 99 })); // 0.97
   * ```
   */
  accuracy(data: Dataset): number {
    let correct = 0;
    for (let index = 0; index < data.size; index++) {
      const output = this.forward(data.inputs[index * 2]!, data.inputs[index * 2 + 1]!);
      if (argmax(output) === data.labels[index]) correct++;
    }
    return data.size === 0 ? 0 : correct / data.size;
  }

  /**
   * One pass over `data` in shuffled mini-batches (cross-entropy loss, Adam).
   *
   * @example
   * ```ts
   * for (let epoch = 0; epoch < 100; epoch++) model.trainEpoch(data, { random });
   * ```
   */
  trainEpoch(data: Dataset, options: { readonly random: () => number; readonly batchSize?: number; readonly learningRate?: number }): void {
    const order = Uint32Array.from({ length: data.size }, (_, index) => index);
    for (let index = order.length - 1; index > 0; index--) {
      const other = Math.floor(options.random() * (index + 1));
      [order[index], order[other]] = [order[other]!, order[index]!];
    }
    const batchSize = options.batchSize ?? 32;
    for (let start = 0; start < order.length; start += batchSize) {
      for (const grads of [...this.weightGrads, ...this.biasGrads]) grads.fill(0);
      const end = Math.min(start + batchSize, order.length);
      for (let position = start; position < end; position++) {
        const sample = order[position]!;
        this.backward(data.inputs[sample * 2]!, data.inputs[sample * 2 + 1]!, data.labels[sample]!);
      }
      this.adam(options.learningRate ?? 0.01, end - start);
    }
  }

  private forward(x: number, y: number): Float64Array {
    const input = this.activations[0]!;
    input[0] = x;
    input[1] = y;
    const last = this.weights.length - 1;
    for (let layer = 0; layer <= last; layer++) {
      const from = this.activations[layer]!;
      const to = this.activations[layer + 1]!;
      const weights = this.weights[layer]!;
      const biases = this.biases[layer]!;
      const fanIn = from.length;
      for (let unit = 0; unit < to.length; unit++) {
        let sum = biases[unit]!;
        for (let source = 0; source < fanIn; source++) sum += weights[unit * fanIn + source]! * from[source]!;
        to[unit] = layer === last || sum > 0 ? sum : 0;
      }
    }
    const output = this.activations[last + 1]!;
    let max = -Infinity;
    for (const value of output) max = Math.max(max, value);
    let total = 0;
    for (let unit = 0; unit < output.length; unit++) total += output[unit] = Math.exp(output[unit]! - max);
    for (let unit = 0; unit < output.length; unit++) output[unit]! /= total;
    return output;
  }

  private backward(x: number, y: number, label: number): void {
    const output = this.forward(x, y);
    const last = this.weights.length;
    const outputDelta = this.deltas[last]!;
    for (let unit = 0; unit < output.length; unit++) outputDelta[unit] = output[unit]! - (unit === label ? 1 : 0);
    for (let layer = last - 1; layer >= 0; layer--) {
      const from = this.activations[layer]!;
      const delta = this.deltas[layer + 1]!;
      const weights = this.weights[layer]!;
      const weightGrads = this.weightGrads[layer]!;
      const biasGrads = this.biasGrads[layer]!;
      const fanIn = from.length;
      const previous = this.deltas[layer]!;
      previous.fill(0);
      for (let unit = 0; unit < delta.length; unit++) {
        const gradient = delta[unit]!;
        biasGrads[unit]! += gradient;
        for (let source = 0; source < fanIn; source++) {
          weightGrads[unit * fanIn + source]! += gradient * from[source]!;
          previous[source]! += gradient * weights[unit * fanIn + source]!;
        }
      }
      // ReLU derivative of the layer below (the input layer has none).
      if (layer > 0) for (let source = 0; source < fanIn; source++) if (from[source]! <= 0) previous[source] = 0;
    }
  }

  private adam(learningRate: number, batch: number): void {
    this.step++;
    const beta1 = 0.9;
    const beta2 = 0.999;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    const params = [...this.weights, ...this.biases];
    const grads = [...this.weightGrads, ...this.biasGrads];
    for (let index = 0; index < params.length; index++) {
      const param = params[index]!;
      const grad = grads[index]!;
      const { m, v } = this.moments[index]!;
      for (let item = 0; item < param.length; item++) {
        const g = grad[item]! / batch;
        m[item] = beta1 * m[item]! + (1 - beta1) * g;
        v[item] = beta2 * v[item]! + (1 - beta2) * g * g;
        param[item]! -= (learningRate * (m[item]! / correction1)) / (Math.sqrt(v[item]! / correction2) + 1e-8);
      }
    }
  }

  /** Layer sizes, e.g. `[2, 32, 32, 3]`. @example model.layerSizes; */
  get layerSizes(): readonly number[] {
    return this.sizes;
  }
}

/**
 * Index of the largest value.
 *
 * @example
 * ```ts
 * argmax(Float64Array.of(0.1, 0.7, 0.2)); // 1
 * ```
 */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if (values[index]! > values[best]!) best = index;
  return best;
}

/**
 * Resolves on the next turn of the event loop (after pending I/O callbacks).
 *
 * @example
 * ```ts
 * if (performance.now() - sliceStart > 8) await yieldToEventLoop();
 * ```
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A trained model and how it was trained.
 *
 * @example
 * ```ts
 * const trained: TrainedModel = await trainModel(spirals(), { epochs: 100 });
 * ```
 */
export interface TrainedModel {
  readonly model: Mlp;
  /** Accuracy on the training set. */
  readonly accuracy: number;
  readonly epochs: number;
  readonly samples: number;
  readonly seconds: number;
}

/**
 * Trains a fresh MLP on `data`, yielding to the event loop about every `sliceMs` (default 8 ms).
 *
 * @example
 * ```ts
 * const { model, accuracy } = await trainModel(spirals({ seed: 3 }), { epochs: 200, seed: 3 });
 * ```
 */
export async function trainModel(data: Dataset, options: { readonly epochs?: number; readonly seed?: number; readonly hidden?: number; readonly sliceMs?: number; readonly signal?: AbortSignal } = {}): Promise<TrainedModel> {
  const started = performance.now();
  const random = seededRandom(options.seed ?? 1);
  const hidden = options.hidden ?? 32;
  const model = new Mlp([2, hidden, hidden, CLASS_LABELS.length], random);
  const epochs = options.epochs ?? 150;
  let sliceStart = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    options.signal?.throwIfAborted();
    model.trainEpoch(data, { random, learningRate: epoch < epochs * 0.7 ? 0.01 : 0.003 });
    if (performance.now() - sliceStart > (options.sliceMs ?? 8)) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return { model, accuracy: model.accuracy(data), epochs, samples: data.size, seconds: (performance.now() - started) / 1000 };
}
