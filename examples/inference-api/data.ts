/**
 * The data the reference API's model learns: three interleaved 2-D spirals, generated from a
 * seed (nothing is downloaded), and the seeded PRNG everything random in the example uses, so a
 * run is reproducible.
 *
 * @example
 * ```ts
 * const data = spirals({ pointsPerClass: 100, seed: 1 });
 * const { x, y, label } = spiralPoint(seededRandom(2), { rotation: 0.3 });
 * ```
 */

/**
 * The three classes, one per spiral arm.
 *
 * @example
 * ```ts
 * CLASS_LABELS[model.classify(0.2, 0.3).index]; // 'cobalt'
 * ```
 */
export const CLASS_LABELS = ['amber', 'cobalt', 'jade'] as const;
/**
 * One of the class names.
 *
 * @example
 * ```ts
 * const label: ClassLabel = 'jade';
 * ```
 */
export type ClassLabel = (typeof CLASS_LABELS)[number];

const ARM_RADIANS = 4;

/**
 * A seeded PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for the same seed.
 *
 * @example
 * ```ts
 * const random = seededRandom(42);
 * random(); // 0.6011037519201636
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A standard normal sample (Box-Muller) from a uniform source.
 *
 * @example
 * ```ts
 * const noise = 0.2 * gaussian(seededRandom(1));
 * ```
 */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * One point of the spiral distribution, rotated by `rotation` radians (the traffic generator
 * turns it slowly to make the served model drift).
 *
 * @example
 * ```ts
 * const { x, y, label } = spiralPoint(seededRandom(7), { rotation: 0.3 });
 * ```
 */
export function spiralPoint(random: () => number, options: { readonly rotation?: number; readonly noise?: number; readonly label?: number } = {}): { x: number; y: number; label: number } {
  const label = options.label ?? Math.floor(random() * CLASS_LABELS.length);
  const radius = random();
  const angle = label * ARM_RADIANS + radius * ARM_RADIANS + (options.noise ?? 0.2) * gaussian(random) + (options.rotation ?? 0);
  return { x: radius * Math.sin(angle), y: radius * Math.cos(angle), label };
}

/**
 * Labelled points: `inputs` holds x, y pairs, `labels` the class index of each.
 *
 * @example
 * ```ts
 * const data: Dataset = spirals({ pointsPerClass: 50 });
 * data.size; // 150
 * ```
 */
export interface Dataset {
  readonly inputs: Float64Array;
  readonly labels: Uint8Array;
  readonly size: number;
}

/**
 * The training set: `pointsPerClass` points on each spiral arm, generated from `seed`.
 *
 * @example
 * ```ts
 * const data = spirals({ pointsPerClass: 100, seed: 1 });
 * ```
 */
export function spirals(options: { readonly pointsPerClass?: number; readonly noise?: number; readonly rotation?: number; readonly seed?: number } = {}): Dataset {
  const perClass = options.pointsPerClass ?? 100;
  const random = seededRandom(options.seed ?? 1);
  const size = perClass * CLASS_LABELS.length;
  const inputs = new Float64Array(size * 2);
  const labels = new Uint8Array(size);
  for (let index = 0; index < size; index++) {
    const point = spiralPoint(random, { label: index % CLASS_LABELS.length, ...(options.noise !== undefined && { noise: options.noise }), ...(options.rotation !== undefined && { rotation: options.rotation }) });
    inputs[index * 2] = point.x;
    inputs[index * 2 + 1] = point.y;
    labels[index] = point.label;
  }
  return { inputs, labels, size };
}
