import { describe, expect, it } from 'vitest';
import { type BucketWindow, bucketIndex, infinityIndex, NativeBuckets, resolveNative, schemaForFactor } from './native.js';
import { Registry } from './registry.js';
import { seededRandom } from '../../test/support/random.js';

/** Populated buckets of a window as index -> count. */
function populated(window: BucketWindow): Map<number, number> {
  const buckets = new Map<number, number>();
  window.counts.forEach((count, slot) => {
    if (count !== 0) buckets.set(window.offset + slot, count);
  });
  return buckets;
}

describe('bucketIndex', () => {
  // Upper bounds are inclusive: a power of two is the top of the bucket below it.
  it.each([
    [1, 0, 0],
    [2, 0, 1],
    [3, 0, 2],
    [4, 0, 2],
    [4.000000000000001, 0, 3],
    [0.5, 0, -1],
    [0.75, 0, 0],
    [0.25, 0, -2],
    [1 + Number.EPSILON, 0, 1],
    [1, 3, 0],
    [1 + Number.EPSILON, 3, 1],
    [2 ** (1 / 8), 3, 1],
    [2, 3, 8],
    [2.0000000000000004, 3, 9],
    [4, 3, 16],
    [0.5, 3, -8],
    [0.4999999999999999, 3, -8],
    [2, 8, 256],
    [0.5, 8, -256],
    [1, 8, 0],
    [1, -1, 0],
    [4, -1, 1],
    [4.000000000000001, -1, 2],
    [1.5, -1, 1],
    [0.25, -1, -1],
    [0.2, -1, -1],
    [0.0625, -1, -2],
    [1, -4, 0],
    [2, -4, 1],
    [2 ** 16, -4, 1],
    [2 ** 16 * 1.0001, -4, 2],
    [2 ** -16, -4, -1],
    [2 ** -16 * 1.0001, -4, 0],
    [5e-324, 0, -1074],
    [5e-324, 3, -1074 * 8],
    [2 ** -1022, 0, -1022],
    [Number.MAX_VALUE, 0, 1024],
  ])('bucketIndex(%d) at schema %d is %d', (value, schema, expected) => {
    expect(bucketIndex(value, schema)).toBe(expected);
  });

  it('agrees with ceil(log2(v) * 2^schema) away from the boundaries, at every schema', () => {
    const random = seededRandom(17);
    for (let schema = -4; schema <= 8; schema++) {
      let checked = 0;
      while (checked < 2000) {
        const value = Math.exp((random() - 0.5) * 60);
        const scaled = Math.log2(value) * 2 ** schema;
        if (Math.abs(scaled - Math.round(scaled)) < 1e-6) continue;
        expect(bucketIndex(value, schema)).toBe(Math.ceil(scaled) + 0);
        checked++;
      }
    }
  });

  it('puts ±Inf one above the largest finite value', () => {
    expect(infinityIndex(0)).toBe(1025);
    expect(infinityIndex(3)).toBe(8193);
  });
});

describe('resolveNative', () => {
  it('takes client_golang defaults and picks the schema from a bucket factor', () => {
    expect(resolveNative('h', true)).toEqual({ schema: 3, zeroThreshold: 2 ** -128, maxBuckets: 160 });
    expect(schemaForFactor(1.1)).toBe(3);
    expect(schemaForFactor(2)).toBe(0);
    expect(schemaForFactor(1.0001)).toBe(8);
    expect(schemaForFactor(1e9)).toBe(-4);
    expect(resolveNative('h', { bucketFactor: 1.01, zeroThreshold: 0, maxBuckets: 10 })).toEqual({ schema: 7, zeroThreshold: 0, maxBuckets: 10 });
  });

  it.each([
    [{ schema: 9 }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ schema: -5 }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ schema: 1.5 }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ bucketFactor: 1 }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ bucketFactor: Number.NaN }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ schema: 3, bucketFactor: 1.1 }, 'LOOKOUT_E_INVALID_SCHEMA'],
    [{ zeroThreshold: -1 }, 'LOOKOUT_E_INVALID_ZERO_THRESHOLD'],
    [{ zeroThreshold: Infinity }, 'LOOKOUT_E_INVALID_ZERO_THRESHOLD'],
    [{ zeroThreshold: Number.NaN }, 'LOOKOUT_E_INVALID_ZERO_THRESHOLD'],
    [{ maxBuckets: 0 }, 'LOOKOUT_E_INVALID_BUCKET_LIMIT'],
    [{ maxBuckets: 2.5 }, 'LOOKOUT_E_INVALID_BUCKET_LIMIT'],
  ])('rejects %j at registration with %s', (native, code) => {
    expect(() => new Registry().histogram({ name: 'h_seconds', help: 'x', native })).toThrow(expect.objectContaining({ code }));
  });
});

describe('NativeBuckets', () => {
  it('files positive, negative and zero-bucket values', () => {
    const buckets = new NativeBuckets({ schema: 0, zeroThreshold: 0.001, maxBuckets: 160 });
    for (const value of [1, 2, 3, 4, -1, -0.5, 0, 0.001, -0.0005]) buckets.observe(value);
    expect(populated(buckets.positive)).toEqual(new Map([[0, 1], [1, 1], [2, 2]]));
    expect(populated(buckets.negative)).toEqual(new Map([[0, 1], [-1, 1]]));
    expect(buckets.zeroCount).toBe(3);
  });

  it('follows Prometheus for NaN and ±Inf: NaN in no bucket, ±Inf apart', () => {
    const buckets = new NativeBuckets({ schema: 3, zeroThreshold: 0, maxBuckets: 160 });
    for (const value of [Number.NaN, Infinity, Infinity, -Infinity, 1]) buckets.observe(value);
    expect(buckets.positiveInfinity).toBe(2);
    expect(buckets.negativeInfinity).toBe(1);
    expect(buckets.zeroCount).toBe(0);
    expect(populated(buckets.positive)).toEqual(new Map([[0, 1]]));
    expect(buckets.schema).toBe(3);
  });

  it('halves the resolution when maxBuckets is exceeded: bucket i becomes ceil(i / 2)', () => {
    const buckets = new NativeBuckets({ schema: 0, zeroThreshold: 0, maxBuckets: 2 });
    for (const value of [1, 2, 3]) buckets.observe(value);
    expect(buckets.schema).toBe(-1);
    expect(populated(buckets.positive)).toEqual(new Map([[0, 1], [1, 2]]));
  });

  it('after reductions, holds exactly what a histogram started at the final schema holds', () => {
    const random = seededRandom(3);
    const values = Array.from({ length: 5000 }, () => (random() < 0.1 ? -1 : 1) * Math.exp((random() - 0.5) * 12));
    const reduced = new NativeBuckets({ schema: 8, zeroThreshold: 0, maxBuckets: 100 });
    for (const value of values) reduced.observe(value);
    expect(reduced.schema).toBeLessThan(8);
    expect(reduced.positive.populated + reduced.negative.populated).toBeLessThanOrEqual(100);
    const direct = new NativeBuckets({ schema: reduced.schema, zeroThreshold: 0, maxBuckets: 10_000 });
    for (const value of values) direct.observe(value);
    expect(populated(reduced.positive)).toEqual(populated(direct.positive));
    expect(populated(reduced.negative)).toEqual(populated(direct.negative));
  });

  it('keeps its window bounded: values 2^±500 apart coarsen the schema instead of allocating', () => {
    const buckets = new NativeBuckets({ schema: 8, zeroThreshold: 0, maxBuckets: 160 });
    buckets.observe(2 ** -500);
    buckets.observe(2 ** 500);
    expect(buckets.positive.counts.length).toBeLessThanOrEqual(4096);
    expect(buckets.schema).toBe(2);
    expect(populated(buckets.positive)).toEqual(new Map([[-2000, 1], [2000, 1]]));
  });
});

describe('native histogram metric', () => {
  it('keeps only the +Inf classic bucket unless buckets are given, and counts NaN without throwing', async () => {
    const registry = new Registry();
    const native = registry.histogram({ name: 'native_seconds', help: 'x', native: { schema: 2 } });
    native.observe(0.5);
    native.observe(Number.NaN);
    const both = registry.histogram({ name: 'both_seconds', help: 'x', buckets: [1], native: true });
    both.observe(0.5);
    expect(native.buckets).toEqual([]);
    const text = await registry.metrics();
    expect(text).toContain('native_seconds_bucket{le="+Inf"} 2\nnative_seconds_sum NaN\nnative_seconds_count 2\n');
    expect(text).toContain('both_seconds_bucket{le="1.0"} 1\nboth_seconds_bucket{le="+Inf"} 1\n');
    expect(() => registry.histogram({ name: 'classic_seconds', help: 'x' }).observe(Number.NaN)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_VALUE' }));
  });
});
