import { afterAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { probe } from '../../test/support/e2e.js';
import { PG_URL, adminPool, pgReachable, uniqueName } from '../../test/kpi/pg.js';
import { Registry } from '../core/registry.js';
import { createKpi } from './kpi.js';
import { pgStore } from './pg-store.js';

const available = await probe('PostgreSQL', pgReachable);

describe.skipIf(!available)('pgStore.query against real PostgreSQL (what the built-in dashboard reads)', () => {
  const admin = available ? adminPool() : (undefined as unknown as pg.Pool);
  const schema = uniqueName('query');
  afterAll(async () => {
    if (!available) return;
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('reads its own events table in a read-only transaction and gives the connection back', async () => {
    const store = pgStore({ connectionString: PG_URL, schema, maxConnections: 2 });
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store });
    kpi.record('good_inference');
    kpi.record('bad_inference');
    expect(await kpi.flush()).toBe(true);
    for (let round = 0; round < 5; round++) {
      const rows = await store.query('SELECT event, count(*)::float8 AS n FROM {events} WHERE creation_time > $1 GROUP BY 1 ORDER BY 1', [new Date(Date.now() - 60_000)]);
      expect(rows).toEqual([{ event: 'bad_inference', n: 1 }, { event: 'good_inference', n: 1 }]);
    }
    await expect(store.query(`INSERT INTO {events} (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toThrow(/read-only/);
    expect(store.pool.totalCount).toBeLessThanOrEqual(2);
    kpi.record('good_inference');
    expect(await kpi.flush()).toBe(true);
    expect(await store.query('SELECT count(*)::float8 AS n FROM {events}')).toEqual([{ n: 3 }]);
    expect(await kpi.close()).toBe(true);
  });
});
