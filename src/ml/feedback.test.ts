import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../test/support/random.js';
import { Registry } from '../core/registry.js';
import { createKpi } from '../kpi/kpi.js';
import { pgliteStore } from '../kpi/pglite-store.js';
import { accuracyByVersion } from './feedback.js';

describe('accuracyByVersion (SQL over the KPI events table)', () => {
  it('counts good and bad feedback per model version as an independent tally does, within the time range', async () => {
    const store = pgliteStore({ dataDir: 'memory://', schema: 'ml_feedback', table: 'kpi_rows' });
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference', 'inference_start'], store });
    const random = seededRandom(16);
    const tally = new Map<string, { good: number; labelled: number }>();
    // v1 right 90% of the time, v2 70%, a few without a model; starts are not feedback.
    for (let index = 0; index < 600; index++) {
      const model = index % 50 === 0 ? undefined : index % 3 === 0 ? 'spiral-mlp-v2' : 'spiral-mlp-v1';
      const good = random() < (model === 'spiral-mlp-v2' ? 0.7 : 0.9);
      kpi.record(good ? 'good_inference' : 'bad_inference', model === undefined ? {} : { model });
      kpi.record('inference_start', { model: 'spiral-mlp-v3' });
      const entry = tally.get(model ?? '(none)') ?? { good: 0, labelled: 0 };
      tally.set(model ?? '(none)', { good: entry.good + (good ? 1 : 0), labelled: entry.labelled + 1 });
    }
    expect(await kpi.flush()).toBe(true);
    const rows = await accuracyByVersion(store, { since: new Date(Date.now() - 60_000) });
    const expected = [...tally].map(([model, { good, labelled }]) => ({ model, good, labelled, accuracy: good / labelled })).sort((a, b) => b.labelled - a.labelled);
    expect(rows).toEqual(expected);
    expect(rows.find((row) => row.model === 'spiral-mlp-v2')!.accuracy).toBeLessThan(rows.find((row) => row.model === 'spiral-mlp-v1')!.accuracy);
    // Other event names, and a range with nothing in it.
    expect(await accuracyByVersion(store, { since: new Date(Date.now() - 60_000), good: 'inference_start', bad: 'nothing' })).toEqual([
      { model: 'spiral-mlp-v3', good: 600, labelled: 600, accuracy: 1 },
    ]);
    expect(await accuracyByVersion(store, { since: new Date(Date.now() - 120_000), until: new Date(Date.now() - 60_000) })).toEqual([]);
    expect(await kpi.close()).toBe(true);
  });

  it('refuses a store without query and invalid dates with LOOKOUT_E_ML_OPTION', async () => {
    await expect(accuracyByVersion({}, { since: new Date() })).rejects.toMatchObject({ code: 'LOOKOUT_E_ML_OPTION' });
    const store = { query: async () => [] };
    await expect(accuracyByVersion(store, { since: new Date(Number.NaN) })).rejects.toMatchObject({ code: 'LOOKOUT_E_ML_OPTION', message: expect.stringContaining('since') });
    await expect(accuracyByVersion(store, { since: new Date(), until: 'today' as never })).rejects.toMatchObject({ code: 'LOOKOUT_E_ML_OPTION' });
  });
});
