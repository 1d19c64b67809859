import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { EventBuffer } from './buffer.js';
import { IdGenerator } from './ids.js';
import { createKpi } from './kpi.js';
import { pgliteStore } from './pglite-store.js';

const folder = mkdtempSync(join(tmpdir(), 'lookout-kpi-pglite-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('pgliteStore (real PGlite)', () => {
  it('migrates idempotently, writes every column, and serves the dashboard queries', async () => {
    const dataDir = join(folder, 'columns');
    const registry = new Registry();
    const kpi = createKpi({ registry, events: ['good_inference', 'bad_inference'], store: pgliteStore({ dataDir }) });
    kpi.record('good_inference', { user: 'u-1', model: 'resnet', args: { label: 'cat', nested: { score: 1 } }, value: 0.5 });
    kpi.record('bad_inference', { user: 'tab\there', args: { label: 'dog' } });
    kpi.record('good_inference', { user: 'nul\0gone', model: 'ünï 😀', value: Number.POSITIVE_INFINITY });
    expect(await kpi.close()).toBe(true);

    // A second open of the same folder finds the schema in place and applies nothing.
    const again = pgliteStore({ dataDir });
    await again.open();
    await again.close();

    const db = await PGlite.create({ dataDir });
    try {
      const migrations = await db.query<{ version: number }>('SELECT version FROM lookout_schema_migrations ORDER BY version');
      expect(migrations.rows).toEqual([{ version: 1 }, { version: 2 }]);
      const rows = await db.query<Record<string, unknown>>(`SELECT id::text, event, "user", model, args->>'label' AS label, value, creation_time FROM events ORDER BY id`);
      expect(rows.rows.map((row) => [row['event'], row['user'], row['model'], row['label'], row['value']])).toEqual([
        ['good_inference', 'u-1', 'resnet', 'cat', 0.5],
        ['bad_inference', 'tab\there', null, 'dog', null],
        ['good_inference', 'nulgone', 'ünï 😀', null, Infinity],
      ]);
      expect(Math.abs((rows.rows[0]!['creation_time'] as Date).getTime() - Date.now())).toBeLessThan(60_000);
      const accuracy = await db.query<{ good: number; bad: number }>(`SELECT count(*) FILTER (WHERE event = 'good_inference')::int AS good,
        count(*) FILTER (WHERE event = 'bad_inference')::int AS bad FROM events WHERE creation_time > now() - interval '1 hour' GROUP BY date_trunc('minute', creation_time)`);
      expect(accuracy.rows).toEqual([{ good: 2, bad: 1 }]);
      const indexes = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = 'events' ORDER BY indexname`);
      expect(indexes.rows.map((row) => row.indexdef.replace(/^.* USING btree /, ''))).toEqual(['(creation_time)', '(id)']);
    } finally {
      await db.close();
    }
  });

  it('a retried batch never duplicates rows', async () => {
    const store = pgliteStore({ dataDir: 'memory://' });
    await store.open();
    const buffer = new EventBuffer(10);
    for (let index = 0; index < 10; index++) buffer.push('e', Date.now(), null, null, `{"index":${index}}`, null);
    const batch = buffer.take(10, new IdGenerator());
    await store.write(batch, false);
    await store.write(batch, true);
    const db = (store as unknown as { db: PGlite }).db;
    expect((await db.query<{ count: number }>('SELECT count(*)::int AS count FROM events')).rows[0]!.count).toBe(10);
    await store.close();
  });

  it('overflow: rows + dropped = recorded, exactly', async () => {
    const dataDir = join(folder, 'overflow');
    const registry = new Registry();
    const kpi = createKpi({ registry, events: ['good_inference'], store: pgliteStore({ dataDir }), bufferSize: 3000, batchSize: 1000 });
    // One synchronous burst: the writer cannot run until it ends, so the buffer overflows.
    for (let index = 0; index < 10_000; index++) kpi.record('good_inference', { args: { index } });
    expect(await kpi.close({ deadlineMs: 30_000 })).toBe(true);
    const { recorded, dropped, written } = kpi.stats();
    expect(dropped.buffer_full).toBe(7000);
    const db = await PGlite.create({ dataDir });
    try {
      const { rows } = await db.query<{ count: number; distinct: number; max: number }>(
        `SELECT count(*)::int AS count, count(DISTINCT args->>'index')::int AS distinct, max((args->>'index')::int) AS max FROM events`);
      expect(rows[0]).toEqual({ count: 3000, distinct: 3000, max: 2999 });
      expect(rows[0]!.count + dropped.buffer_full).toBe(recorded);
      expect(written).toBe(3000);
    } finally {
      await db.close();
    }
  });
});
