import { describe, expect, it } from 'vitest';
import { bucketIndex, fastBucketIndex, IndexTables, MAX_SCHEMA, MIN_SCHEMA } from './native-index.js';
import { MAX_WINDOW, NativeBuckets } from './native.js';
import { seededRandom } from '../../test/support/random.js';

const scratch = new Float64Array(1);
const bits = new BigUint64Array(scratch.buffer);
/** The next double above a positive finite `value`. */
function nextUp(value: number): number {
  scratch[0] = value;
  bits[0]! += 1n;
  return scratch[0]!;
}
/** The next double below a positive `value`. */
function nextDown(value: number): number {
  scratch[0] = value;
  bits[0]! -= 1n;
  return scratch[0]!;
}

/** Values that probe every kind of input: random over the whole double range, powers of two and their neighbours, subnormals, bucket bounds. */
function probes(schema: number): number[] {
  const random = seededRandom(1000 + schema);
  const values: number[] = [Number.MIN_VALUE, 2 ** -1074 * 3, 2 ** -1023, 2 ** -1022, nextDown(2 ** -1022), Number.MAX_VALUE, 1, 0.5, 2, 1e-9, 2.938735877055719e-39];
  for (let exponent = -1074; exponent <= 1023; exponent++) {
    const power = 2 ** exponent;
    values.push(power);
    if (power < Number.MAX_VALUE) values.push(nextUp(power));
    values.push(nextDown(power));
  }
  // Bucket bounds 2^(i/2^s) near 1 and far from it (the bound as a double and both neighbours).
  const perOctave = 2 ** Math.max(schema, 0);
  for (const octave of [-1030, -600, -20, -1, 0, 1, 7, 300, 1000]) {
    for (let j = 0; j < perOctave; j++) {
      const bound = 2 ** (j / perOctave) * 2 ** octave;
      if (!(bound > 0) || !Number.isFinite(bound)) continue;
      values.push(bound, nextDown(bound));
      if (bound < Number.MAX_VALUE) values.push(nextUp(bound));
    }
  }
  for (let draw = 0; draw < 20_000; draw++) {
    // Uniform bits: every exponent and mantissa pattern, subnormals included.
    scratch[0] = 0;
    bits[0] = (BigInt(Math.floor(random() * 2 ** 31)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
    const value = scratch[0]!;
    if (value > 0 && Number.isFinite(value)) values.push(value);
    values.push(Math.exp((random() - 0.5) * 60));
  }
  return values;
}

describe('fastBucketIndex', () => {
  for (let schema = MIN_SCHEMA; schema <= MAX_SCHEMA; schema++) {
    it(`equals bucketIndex and ceil(log2(v) * 2^schema) at schema ${schema}`, () => {
      const tables = new IndexTables(schema);
      let exactChecks = 0;
      const mismatches: string[] = [];
      for (const value of probes(schema)) {
        const fast = fastBucketIndex(tables, value);
        if (fast !== bucketIndex(value, schema)) mismatches.push(`${value}: fast ${fast}, plain ${bucketIndex(value, schema)}`);
        // The straightforward formula is exact where log2 is (powers of two) and where its rounding cannot cross an integer.
        const scaled = Math.log2(value) * 2 ** schema;
        const isPower = Number.isInteger(Math.log2(value)) && 2 ** Math.log2(value) === value;
        if (isPower || Math.abs(scaled - Math.round(scaled)) > 1e-12 * Math.max(1, Math.abs(scaled))) {
          if (fast !== Math.ceil(scaled) + 0) mismatches.push(`${value}: fast ${fast}, formula ${Math.ceil(scaled)}`);
          exactChecks++;
        }
      }
      expect(mismatches).toEqual([]);
      expect(exactChecks).toBeGreaterThan(40_000);
    });
  }

  it('puts a bound in its own bucket and the next double in the one above, at every schema', () => {
    for (let schema = MIN_SCHEMA; schema <= MAX_SCHEMA; schema++) {
      const tables = new IndexTables(schema);
      for (let index = -40 * 2 ** Math.max(schema, 0); index <= 40 * 2 ** Math.max(schema, 0); index += 1) {
        // Bound of bucket `index`: 2^(index / 2^schema), as a double (for schema < 0 an exact power of two).
        const bound = schema > 0 ? 2 ** Math.floor(index / 2 ** schema) * 2 ** ((((index % 2 ** schema) + 2 ** schema) % 2 ** schema) / 2 ** schema) : 2 ** (index * 2 ** -schema);
        const below = fastBucketIndex(tables, bound);
        expect(below, `bound of ${index} at ${schema}`).toBe(bucketIndex(bound, schema));
        expect(fastBucketIndex(tables, nextUp(bound))).toBe(below + 1);
        if (schema <= 0) expect(below).toBe(index);
      }
    }
  });

  it('sends zero-threshold values, negatives, NaN and ±Inf where NativeBuckets.observe says', () => {
    for (let schema = MIN_SCHEMA; schema <= MAX_SCHEMA; schema++) {
      const buckets = new NativeBuckets({ schema, zeroThreshold: 1e-9, maxBuckets: 10_000 });
      for (const value of [1e-9, -1e-9, 0, -0, 5e-324, NaN, Infinity, -Infinity, -3, 3, 1.0000000001e-9]) buckets.observe(value);
      expect(buckets.zeroCount).toBe(5);
      expect(buckets.positiveInfinity).toBe(1);
      expect(buckets.negativeInfinity).toBe(1);
      // 1e-9 and 3 are too far apart for one window at the finest schemas: the resolution drops until they fit.
      const reached = buckets.schema;
      let fitting = schema;
      while (bucketIndex(3, fitting) - bucketIndex(1.0000000001e-9, fitting) + 1 > MAX_WINDOW) fitting--;
      expect(reached).toBe(fitting);
      expect(buckets.negative.pairs()).toEqual([bucketIndex(3, reached), 1]);
      expect(buckets.positive.pairs()).toEqual([bucketIndex(1.0000000001e-9, reached), 1, bucketIndex(3, reached), 1]);
    }
  });
});
