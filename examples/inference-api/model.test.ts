import { describe, expect, it } from 'vitest';
import { CLASS_LABELS, seededRandom, spiralPoint, spirals } from './data.js';
import { argmax, Mlp, OutOfDomainError, trainModel } from './model.js';
import { ModelService } from './service.js';

describe('spirals and the seeded PRNG', () => {
  it('are deterministic for a seed and differ between seeds', () => {
    expect(Array.from({ length: 3 }, seededRandom(42))).toEqual(Array.from({ length: 3 }, seededRandom(42)));
    expect(seededRandom(1)()).not.toBe(seededRandom(2)());
    const data = spirals({ pointsPerClass: 20, seed: 5 });
    expect(data.size).toBe(60);
    expect(spirals({ pointsPerClass: 20, seed: 5 }).inputs).toEqual(data.inputs);
    expect(new Set(data.labels)).toEqual(new Set([0, 1, 2]));
    for (const value of data.inputs) expect(Math.abs(value)).toBeLessThanOrEqual(1);
  });
});

describe('the MLP', () => {
  it('learns the spirals (held-out accuracy above 95%) and loses accuracy when the inputs rotate', async () => {
    const { model, accuracy, epochs } = await trainModel(spirals({ seed: 1 }), { epochs: 120, seed: 1 });
    expect(epochs).toBe(120);
    expect(accuracy).toBeGreaterThan(0.97);
    expect(model.accuracy(spirals({ seed: 99 }))).toBeGreaterThan(0.95);
    expect(model.accuracy(spirals({ seed: 99, rotation: 1 }))).toBeLessThan(0.7);
    const probabilities = model.predict(0.1, 0.2);
    expect(probabilities.reduce((sum, value) => sum + value, 0)).toBeCloseTo(1, 9);
    expect(CLASS_LABELS[argmax(probabilities)]).toBeDefined();
  });

  it('refuses inputs outside the training domain with a 422 error', () => {
    const model = new Mlp([2, 4, 3], seededRandom(1));
    expect(() => model.predict(2, 0)).toThrow(OutOfDomainError);
    expect(() => model.predict(Number.NaN, 0)).toThrow(/outside the training domain/);
    expect(new OutOfDomainError(2, 0).statusCode).toBe(422);
  });

  it('training yields to the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await trainModel(spirals({ seed: 2 }), { epochs: 150, seed: 2, sliceMs: 5 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });
});

describe('ModelService', () => {
  it('serves version 1, retrains on the labelled feedback once there is enough, and tracks the version', async () => {
    const service = await ModelService.create({ seed: 3 });
    expect(service.info).toMatchObject({ name: 'spiral-mlp', version: 1, source: 'spirals' });
    const random = seededRandom(11);
    const rotated = () => spiralPoint(random, { rotation: 1.2 });
    const before = Array.from({ length: 200 }, rotated);
    const correct = async (points: typeof before) => {
      const predictions = await service.infer(points.map((point) => [point.x, point.y] as [number, number]));
      return predictions.filter((prediction, index) => prediction.label === CLASS_LABELS[points[index]!.label]).length / points.length;
    };
    expect(await correct(before)).toBeLessThan(0.7);
    for (let index = 0; index < 300; index++) {
      const point = rotated();
      service.addFeedback(point.x, point.y, CLASS_LABELS[point.label]!);
    }
    const info = await service.retrain();
    expect(info).toMatchObject({ version: 2, source: 'feedback', samples: 300 });
    expect(await correct(Array.from({ length: 200 }, rotated))).toBeGreaterThan(0.9);
  });

  it('averages jittered passes when asked for samples', async () => {
    const service = await ModelService.create({ seed: 4 });
    const [single] = await service.infer([[0.05, 0.05]]);
    const [averaged] = await service.infer([[0.05, 0.05]], { samples: 500 });
    expect(single!.confidence).toBeGreaterThan(0);
    expect(averaged!.confidence).toBeLessThanOrEqual(1);
    await expect(service.infer([[0, 0], [3, 3]])).rejects.toThrow(OutOfDomainError);
  });
});
