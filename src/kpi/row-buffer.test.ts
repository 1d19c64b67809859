import { describe, expect, it } from 'vitest';
import { decodeCopyBinary, type DecodedRow } from '../../test/kpi/copy-decode.js';
import { batchIds } from './batch.js';
import { EventBuffer } from './buffer.js';
import { COPY_HEADER, COPY_TRAILER, encodeCopyBinary } from './copy-binary.js';
import { IdGenerator } from './ids.js';
import { CopyRowBuffer, sliceBatch, type EncodedBatch } from './row-buffer.js';

type Row = [event: string, time: number, user: string | null, model: string | null, args: string | null, value: number | null];

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const SAMPLE: Row[] = [
  ['good_inference', T0, 'u-1', 'resnet', '{"label":"cat"}', 0.25],
  ['bad_inference', T0 + 1, null, null, null, null],
  ['good_inference', T0 + 2, 'tab\tnew\nline\\back', 'ünïcödé 😀', '{"q":"a\\"b","é":"😀"}', Number.NaN],
  ['good_inference', T0 + 2, 'x'.repeat(100), null, `{"long":"${'y'.repeat(200)}"}`, -Infinity],
  ['e', Date.UTC(1999, 11, 31, 23, 59, 59, 1), '', '', '{}', 0],
];

/** The COPY stream of an encoded batch, as the PostgreSQL store sends it. */
function stream(batch: EncodedBatch): DecodedRow[] {
  return decodeCopyBinary(Buffer.concat([COPY_HEADER, ...batch.parts, COPY_TRAILER]));
}

function fields(row: DecodedRow): unknown[] {
  return [row.event, row.creationTime.getTime(), row.user, row.model, row.args, row.value];
}

describe('CopyRowBuffer', () => {
  it('encodes events into the same COPY rows as the column encoder, ids in record order', () => {
    const rows = new CopyRowBuffer(100, new IdGenerator());
    const columns = new EventBuffer(100);
    for (const row of SAMPLE) {
      rows.push(...row);
      columns.push(...row);
    }
    const encoded = rows.take(100);
    const reference = decodeCopyBinary(Buffer.concat(encodeCopyBinary(columns.take(100, new IdGenerator()))));
    const decoded = stream(encoded);
    expect(decoded.map(fields)).toEqual(reference.map(fields));
    expect(decoded.map((row) => row.id)).toEqual(batchIds(encoded));
    expect([...batchIds(encoded)].sort()).toEqual(batchIds(encoded));
    expect(new Set(batchIds(encoded)).size).toBe(SAMPLE.length);
    expect(rows.size).toBe(0);
  });

  it('keeps pushed events as they are only until the event loop turns (or 1,024 wait)', async () => {
    const buffer = new CopyRowBuffer(10_000, new IdGenerator());
    const staged = (): number => (buffer as unknown as { staged: number }).staged;
    buffer.push('e', T0, 'u', null, '{}', null);
    buffer.push('e', T0, 'v', null, '{}', null);
    expect(staged()).toBe(2);
    expect(buffer.size).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(staged()).toBe(0);
    for (let index = 0; index < 1024; index++) buffer.push('e', T0, null, null, null, index);
    expect(staged()).toBe(0); // encoded synchronously when the stage filled
    buffer.push('e', T0, 'w', null, null, null);
    expect(buffer.size).toBe(1027);
    expect(buffer.take(2_000).users.filter((user) => user !== null)).toEqual(['u', 'v', 'w']);
  });

  it('gives back the recorded columns, decoded on first access', () => {
    const buffer = new CopyRowBuffer(10, new IdGenerator());
    for (const row of SAMPLE) buffer.push(...row);
    buffer.push('nul\0event', T0, 'nul\0gone', 'm', null, 1.5);
    const batch = buffer.take(10);
    expect(batch.size).toBe(SAMPLE.length + 1);
    expect(batch.events).toEqual([...SAMPLE.map((row) => row[0]), 'nulevent']);
    expect([...batch.times]).toEqual([...SAMPLE.map((row) => row[1]), T0]);
    expect(batch.users).toEqual([...SAMPLE.map((row) => row[2]), 'nulgone']);
    expect(batch.models).toEqual([...SAMPLE.map((row) => row[3]), 'm']);
    expect(batch.args).toEqual([...SAMPLE.map((row) => row[4]), null]);
    expect(batch.values).toEqual([...SAMPLE.map((row) => row[5]), 1.5]);
    expect([...batch.idTimes]).toEqual([T0, T0 + 1, T0 + 2, T0 + 2, T0 + 2, T0 + 2]); // never backwards
    expect([...batch.idCounters]).toEqual([0, 0, 0, 1, 2, 3]);
  });

  it('takes exact batch sizes across chunk boundaries, rows larger than a chunk included, and discards the oldest', () => {
    const buffer = new CopyRowBuffer(100_000, new IdGenerator());
    const big = JSON.stringify({ text: 'z'.repeat(300_000) });
    const total = 30_000;
    for (let index = 0; index < total; index++) buffer.push('good_inference', T0 + index, `u-${index}`, null, index === 12_345 ? big : `{"i":${index}}`, index);
    expect(buffer.size).toBe(total);
    expect(buffer.discard(5)).toBe(5);
    const seen: number[] = [];
    while (buffer.size > 0) {
      const batch = buffer.take(7_000);
      expect(batch.size).toBe(Math.min(7_000, total - 5 - seen.length));
      expect(batch.parts.length).toBeGreaterThan(1);
      const decoded = stream(batch);
      expect(decoded).toHaveLength(batch.size);
      seen.push(...decoded.map((row) => row.value!));
      batch.release();
    }
    expect(seen).toEqual([...Array(total - 5).keys()].map((index) => index + 5));
    expect(buffer.discard(3)).toBe(0);
  });

  it('never reuses bytes a batch still holds; reuses them once it is released', () => {
    const buffer = new CopyRowBuffer(100_000, new IdGenerator());
    const fill = (from: number, count: number): void => {
      for (let index = from; index < from + count; index++) buffer.push('e', T0 + index, `user-${index}`, 'm', '{"k":"v"}', index);
    };
    fill(0, 5_000);
    const held = buffer.take(5_000);
    const before = Buffer.concat(held.parts);
    for (let round = 1; round <= 20; round++) {
      fill(round * 5_000, 5_000);
      buffer.take(5_000).release();
    }
    expect(Buffer.concat(held.parts).equals(before)).toBe(true);
    expect(stream(held).map((row) => row.value)).toEqual([...Array(5_000).keys()]);
    held.release();
    held.release(); // twice is harmless
    fill(1_000_000, 3);
    expect(buffer.take(10).users).toEqual(['user-1000000', 'user-1000001', 'user-1000002']);
  });

  it('slices a batch for the split of a rejected write: halves on the same bytes', () => {
    const buffer = new CopyRowBuffer(100_000, new IdGenerator());
    for (let index = 0; index < 9_000; index++) buffer.push('e', T0 + index, null, null, `{"i":${index}}`, index);
    const batch = buffer.take(9_000);
    const left = sliceBatch(batch, 0, 4_500) as EncodedBatch;
    const right = sliceBatch(batch, 4_500, 9_000) as EncodedBatch;
    const middle = batch.slice(4_499, 4_501);
    batch.release();
    expect(stream(left).map((row) => row.value)).toEqual([...Array(4_500).keys()]);
    expect(right.values).toEqual([...Array(4_500).keys()].map((index) => index + 4_500));
    expect(stream(middle).map((row) => row.value)).toEqual([4_499, 4_500]);
    expect(batchIds(middle)).toEqual(batchIds(left).slice(-1).concat(batchIds(right).slice(0, 1)));
  });
});
