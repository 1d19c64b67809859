import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { createKpi } from './kpi.js';
import { pgliteStore } from './pglite-store.js';

describe('pgliteStore.query (what the built-in dashboard reads)', () => {
  it('reads the events table of its own location, read-only, while writes go on', async () => {
    const store = pgliteStore({ dataDir: 'memory://', schema: 'analytics', table: 'kpi_rows' });
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store });
    kpi.record('good_inference');
    kpi.record('good_inference');
    kpi.record('bad_inference');
    expect(await kpi.flush()).toBe(true);
    const rows = await store.query('SELECT event, count(*)::float8 AS n FROM {events} WHERE creation_time > $1 GROUP BY 1 ORDER BY 1', [new Date(Date.now() - 60_000)]);
    expect(rows).toEqual([{ event: 'bad_inference', n: 1 }, { event: 'good_inference', n: 2 }]);
    await expect(store.query(`INSERT INTO {events} (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toThrow(/read-only/);
    // The session is usable again: the failed transaction was rolled back.
    kpi.record('bad_inference');
    expect(await kpi.flush()).toBe(true);
    expect(await store.query('SELECT count(*)::float8 AS n FROM {events}')).toEqual([{ n: 4 }]);
    expect(await kpi.close()).toBe(true);
  });
});
