import { describe, expect, it } from 'vitest';
import { decodeCopyBinary } from '../../test/kpi/copy-decode.js';
import { batchIds } from './batch.js';
import { EventBuffer } from './buffer.js';
import { encodeCopyBinary } from './copy-binary.js';
import { IdGenerator } from './ids.js';

describe('encodeCopyBinary', () => {
  it('writes every column so that PostgreSQL reads back what was recorded', () => {
    const buffer = new EventBuffer(10);
    const time = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    buffer.push('good_inference', time, 'u-1', 'resnet', '{"label":"cat"}', 0.25);
    buffer.push('bad_inference', time + 1, null, null, null, null);
    buffer.push('good_inference', time + 2, 'tab\tnew\nline\\back', 'ünïcödé 😀', '{"q":"a\\"b"}', Number.NaN);
    buffer.push('good_inference', time + 3, 'nul\0gone', 'x', '[1,2]', -Infinity);
    const batch = buffer.take(10, new IdGenerator());
    const rows = decodeCopyBinary(Buffer.concat(encodeCopyBinary(batch)));
    expect(rows.map((row) => row.id)).toEqual(batchIds(batch));
    expect(rows[0]).toMatchObject({ event: 'good_inference', user: 'u-1', model: 'resnet', args: '{"label":"cat"}', value: 0.25 });
    expect(rows[0]!.creationTime.getTime()).toBe(time);
    expect(rows[0]!.micros % 1000n).toBe(0n);
    expect(rows[1]).toMatchObject({ event: 'bad_inference', user: null, model: null, args: null, value: null });
    expect(rows[2]).toMatchObject({ user: 'tab\tnew\nline\\back', model: 'ünïcödé 😀', args: '{"q":"a\\"b"}' });
    expect(rows[2]!.value).toBeNaN();
    expect(rows[3]).toMatchObject({ user: 'nulgone', value: -Infinity });
  });

  it('splits large batches into chunks and still ends with one trailer', () => {
    const buffer = new EventBuffer(5000);
    const big = JSON.stringify({ text: 'y'.repeat(4000) });
    for (let index = 0; index < 5000; index++) buffer.push('good_inference', 1_700_000_000_000 + index, `u-${index}`, null, index % 2 ? big : '{}', index);
    const chunks = encodeCopyBinary(buffer.take(5000, new IdGenerator()));
    expect(chunks.length).toBeGreaterThan(10);
    const rows = decodeCopyBinary(Buffer.concat(chunks));
    expect(rows).toHaveLength(5000);
    expect(rows[4999]).toMatchObject({ user: 'u-4999', args: big, value: 4999 });
  });

  it('encodes dates before 2000 (negative PostgreSQL time)', () => {
    const buffer = new EventBuffer(1);
    buffer.push('e', Date.UTC(1999, 11, 31, 23, 59, 59, 1), null, null, null, null);
    const [row] = decodeCopyBinary(Buffer.concat(encodeCopyBinary(buffer.take(1, new IdGenerator()))));
    expect(row!.creationTime.toISOString()).toBe('1999-12-31T23:59:59.001Z');
  });
});
