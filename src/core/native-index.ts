/**
 * The bucket index of a native histogram observation, computed from the bits
 * of the double (frexp without `Math.log2`): Prometheus's boundaries, upper
 * bounds inclusive, at schema `s` bucket `i` holds (2^((i-1)/2^s), 2^(i/2^s)].
 *
 * Two ways to the same index: {@link bucketIndex}, the plain one (frexp, then
 * the first bound at or above the fraction, as client_golang's
 * `sort.SearchFloat64s` over `nativeHistogramBounds[schema]`), and
 * {@link IndexTables} + {@link fastBucketIndex}, what `observe` runs: one read
 * of the double's high word, one table read and an integer comparison.
 */

/** Prometheus's schema range. */
export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

/** For schema s >= 0: the 2^s bucket bounds within [0.5, 1), i.e. 2^(j/2^s) / 2. */
const FRACTION_BOUNDS: readonly Float64Array[] = Array.from({ length: MAX_SCHEMA + 1 }, (_, schema) =>
  Float64Array.from({ length: 2 ** schema }, (_unused, j) => (j === 0 ? 0.5 : 2 ** (j / 2 ** schema) / 2)),
);

/** The bounds with 1 appended, so that index 2^schema can be read. */
const PADDED_BOUNDS: readonly Float64Array[] = FRACTION_BOUNDS.map((bounds) => Float64Array.from([...bounds, 1]));

/**
 * For schema s and each cell of the top s+1 mantissa bits (fractions
 * [0.5 + c/2^(s+2), 0.5 + (c+1)/2^(s+2))): the first bound >= the cell's low
 * end. Cells are narrower than the gap between bounds (0.5 · (2^(2^-s) - 1) > 2^-(s+2)),
 * so a cell holds at most one bound.
 */
const CELL_FIRST_BOUND: readonly Uint16Array[] = FRACTION_BOUNDS.map((bounds, schema) =>
  Uint16Array.from({ length: 2 ** (schema + 1) }, (_, cell) => {
    const low = 0.5 + cell / 2 ** (schema + 2);
    let index = 0;
    while (index < bounds.length && bounds[index]! < low) index++;
    return index;
  }),
);

// frexp without allocation: read the exponent and mantissa bits of one double.
const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;
/** 2^-e for the exponents of normal doubles (e from -1021 to 1024). */
const POWER_OFFSET = 1022;
const INVERSE_POWERS = Float64Array.from({ length: 2048 }, (_, index) => 2 ** -(index - POWER_OFFSET));

/**
 * The bucket index of a finite |value| > 0 at `schema`, the plain way (frexp,
 * then the first bound at or above the fraction).
 *
 * @example
 * ```ts
 * bucketIndex(1, 3); // 0
 * bucketIndex(2, 3); // 8
 * bucketIndex(2.0000001, 0); // 2
 * ```
 */
export function bucketIndex(absValue: number, schema: number): number {
  scratch[0] = absValue;
  let high = words[HIGH]!;
  let biased = high >>> 20;
  let shift = 0;
  if (biased === 0) {
    // Subnormal: scale into the normal range first.
    scratch[0] = absValue * 18446744073709551616; // 2^64
    high = words[HIGH]!;
    biased = high >>> 20;
    shift = 64;
  }
  // frexp: absValue = fraction * 2^exponent with fraction in [0.5, 1).
  const exponent = biased - 1022 - shift;
  if (schema > 0) {
    // Multiplying by a power of two is exact.
    const fraction = shift === 0 ? absValue * INVERSE_POWERS[exponent + POWER_OFFSET]! : scratch[0]! * INVERSE_POWERS[exponent + shift + POWER_OFFSET]!;
    // First j with bounds[j] >= fraction (sort.SearchFloat64s): the top schema+1 mantissa bits
    // pick a cell narrower than the gap between two bounds, so one comparison settles it.
    const bounds = PADDED_BOUNDS[schema]!;
    const first = CELL_FIRST_BOUND[schema]![(high & 0xfffff) >>> (19 - schema)]!;
    const found = bounds[first]! >= fraction ? first : first + 1;
    return found + ((exponent - 1) << schema);
  }
  // fraction === 0.5 exactly: a power of two, which is the upper bound of the bucket below.
  const key = (high & 0xfffff) === 0 && words[LOW] === 0 ? exponent - 1 : exponent;
  const width = -schema;
  return (key + (1 << width) - 1) >> width;
}

/**
 * Where ±Inf goes at `schema`: one above the largest finite double's bucket, as client_golang does.
 *
 * @example
 * ```ts
 * infinityIndex(0); // 1025
 * ```
 */
export function infinityIndex(schema: number): number {
  return bucketIndex(Number.MAX_VALUE, schema) + 1;
}

const HIGH_WORD = new Uint32Array(scratch.buffer, HIGH * 4, 1);
const LOW_WORD = new Uint32Array(scratch.buffer, LOW * 4, 1);

/** Bits of a bucket's cell entry that hold the bound's index j (0..2^8). */
const J_BITS = 9;

/**
 * Per schema 0..8, per cell of the top s+1 mantissa bits: the first bound at
 * or above the cell (as in CELL_FIRST_BOUND), written as its mantissa's high
 * 20 bits << 9 | j. The bound past the last (fraction 1) has high bits 2^20,
 * above every mantissa. Comparing mantissas compares the values: a value and
 * the bounds of its octave share the exponent.
 */
const CELL_ENTRIES: readonly Int32Array[] = CELL_FIRST_BOUND.map((firsts, schema) =>
  Int32Array.from(firsts, (first) => {
    if (first === 2 ** schema) return (0x100000 << J_BITS) | first;
    scratch[0] = FRACTION_BOUNDS[schema]![first]!;
    return ((words[HIGH]! & 0xfffff) << J_BITS) | first;
  }),
);

/** Per schema 0..8, per cell: the low 32 mantissa bits of the cell's bound (read only on a tie of the high bits). */
const CELL_LOWS: readonly Uint32Array[] = CELL_FIRST_BOUND.map((firsts, schema) =>
  Uint32Array.from(firsts, (first) => {
    if (first === 2 ** schema) return 0;
    scratch[0] = FRACTION_BOUNDS[schema]![first]!;
    return words[LOW]!;
  }),
);

/**
 * What {@link fastBucketIndex} reads for one schema. Kept as fields of one
 * object (each series holds one) rather than module constants: V8 (Node 20)
 * reads a module constant from the module context with a check on every call,
 * and a field whose value always has the same map mostly needs no map check
 * (the optimised code still checks the cell table's).
 *
 * @example
 * ```ts
 * const tables = new IndexTables(3);
 * fastBucketIndex(tables, 2); // 8
 * ```
 */
export class IndexTables {
  readonly scratch: Float64Array = scratch;
  /** One-element views of the scratch double's high and low words (a constant index, whatever the byte order). */
  readonly highWord: Uint32Array = HIGH_WORD;
  readonly lowWord: Uint32Array = LOW_WORD;
  /** The schema's cell entries (schema 0's for negative schemas). */
  readonly entries: Int32Array;
  readonly lows: Uint32Array;
  /** 19 - max(schema, 0): the shift that leaves the top cell bits of the 20 high mantissa bits. */
  readonly cellShift: number;
  /** max(schema, 0). */
  readonly tableSchema: number;
  /** -schema for negative schemas (schema 0 indexes are then divided by 2^width, rounding up), else 0. */
  readonly width: number;
  readonly schema: number;

  constructor(schema: number) {
    this.schema = schema;
    this.tableSchema = Math.max(schema, 0);
    this.entries = CELL_ENTRIES[this.tableSchema]!;
    this.lows = CELL_LOWS[this.tableSchema]!;
    this.cellShift = 19 - this.tableSchema;
    this.width = Math.max(-schema, 0);
  }
}

/**
 * The bucket index of a finite |value| > 0 at `tables.schema`, equal to
 * {@link bucketIndex}'s: the high word gives the exponent and the cell, the
 * cell's entry the one bound that can lie in it, and an integer comparison of
 * mantissas which side of it the value is (the low words only on a tie).
 * Subnormals go the plain way.
 *
 * @example
 * ```ts
 * fastBucketIndex(new IndexTables(0), 3); // 2
 * ```
 */
export function fastBucketIndex(tables: IndexTables, absValue: number): number {
  tables.scratch[0] = absValue;
  const high = tables.highWord[0]!;
  const biased = high >>> 20;
  if (biased === 0) return bucketIndex(absValue, tables.schema);
  const mantissa = high & 0xfffff;
  const cell = mantissa >>> tables.cellShift;
  const entry = tables.entries[cell]!;
  // Literals, not J_BITS: V8 reads a module constant from its context on every call.
  const boundHigh = entry >>> 9;
  let found = entry & 511;
  if (mantissa > boundHigh || (mantissa === boundHigh && tables.lowWord[0]! > tables.lows[cell]!)) found++;
  // frexp's exponent is biased - 1022; bucket j of the fraction's octave is j + (exponent - 1) * 2^schema.
  const index = found + ((biased - 1023) << tables.tableSchema);
  const width = tables.width;
  return width === 0 ? index : (index + (1 << width) - 1) >> width;
}
