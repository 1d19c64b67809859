import { describe, expect, it } from 'vitest';
import { Registry } from '../core/registry.js';
import { createKpi } from '../kpi/kpi.js';
import { pgliteStore } from '../kpi/pglite-store.js';
import { KpiMinutes } from './kpi-source.js';
import type { DashboardKpi } from './options.js';

const MINUTE = 60_000;
const NOW = Math.floor(1_700_000_000_000 / MINUTE) * MINUTE + 30_000;

/** A store answering from a fixed table of rows, counting its queries. */
function fakeKpi(rows: { minute: number; event: string; n: number }[], fail = () => false) {
  const calls: [number, number][] = [];
  const kpi: DashboardKpi = {
    stats: () => ({ pending: 0 }),
    store: {
      async query(_sql, params) {
        const [from, to] = params as [number, number];
        calls.push([from, to]);
        if (fail()) throw new Error('connection refused');
        return rows.filter((row) => row.minute >= from && row.minute < to);
      },
    },
  };
  return { kpi, calls };
}

describe('KPI SQL panels', () => {
  it('computes accuracy per minute and events per minute by type from a real PGlite store', async () => {
    const store = pgliteStore({ dataDir: 'memory://' });
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference', 'page_view'], store });
    for (let index = 0; index < 9; index++) kpi.record('good_inference');
    kpi.record('bad_inference');
    kpi.record('page_view');
    expect(await kpi.flush()).toBe(true);
    // Read as if a minute later: the events' minute is then complete (the one in progress is scaled).
    const { charts, notice } = await new KpiMinutes(kpi).charts(300, Date.now() + MINUTE);
    expect(notice).toBeUndefined();
    const accuracy = charts.find((chart) => chart.id === 'accuracy')!;
    expect(accuracy.time).toHaveLength(6);
    expect(accuracy.series[0]!.values.filter((value) => value !== null)).toEqual([0.9]);
    const byType = charts.find((chart) => chart.id === 'eventsByType')!;
    expect(byType.series.map((series) => [series.name, series.values.reduce((sum: number, value) => sum + (value ?? 0), 0)]))
      .toEqual([['good_inference', 9], ['bad_inference', 1], ['page_view', 1]]);
    expect(await kpi.close()).toBe(true);
  });

  it('reads each closed minute once: a refresh re-reads the last minutes, a longer range only what it adds', async () => {
    const rows = [
      { minute: NOW - 30_000 - 50 * MINUTE, event: 'good_inference', n: 3 },
      { minute: NOW - 30_000 - 2 * MINUTE, event: 'good_inference', n: 3 },
      { minute: NOW - 30_000 - 2 * MINUTE, event: 'bad_inference', n: 1 },
    ];
    const { kpi, calls } = fakeKpi(rows);
    const minutes = new KpiMinutes(kpi);
    const first = await minutes.charts(900, NOW);
    expect(calls).toEqual([[NOW - 30_000 - 15 * MINUTE, NOW + MINUTE]]);
    expect(first.charts.find((chart) => chart.id === 'accuracy')!.series[0]!.values.filter((value) => value !== null)).toEqual([0.75]);
    await minutes.charts(900, NOW + 1000);
    expect(calls).toHaveLength(1);
    const longer = await minutes.charts(3600, NOW + 2000);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual([NOW - 30_000 - 60 * MINUTE, calls[0]![0]]);
    expect(longer.charts.find((chart) => chart.id === 'eventsByType')!.series[0]!.values.reduce((sum: number, value) => sum + (value ?? 0), 0)).toBe(6);
    await minutes.charts(3600, NOW + 6000);
    expect(calls).toHaveLength(3);
    expect(calls[2]![0]).toBe(NOW - 30_000 - 3 * MINUTE);
  });

  it('hides the minute in progress for 15 s, then scales its counts to a whole minute', async () => {
    const rows = [{ minute: NOW - 30_000, event: 'good_inference', n: 3 }, { minute: NOW - 30_000, event: 'bad_inference', n: 1 }];
    const early = await new KpiMinutes(fakeKpi(rows).kpi).charts(300, NOW - 20_000);
    expect(early.charts.map((chart) => chart.series.map((line) => line.values.at(-1)))).toEqual([[null], [null, null]]);
    const later = await new KpiMinutes(fakeKpi(rows).kpi).charts(300, NOW);
    expect(later.charts.map((chart) => chart.series.map((line) => line.values.at(-1)))).toEqual([[0.75], [6, 2]]);
  });

  it('keeps what it has and says so when the store fails; nothing without a query method', async () => {
    let failing = false;
    const { kpi } = fakeKpi([{ minute: NOW - 30_000, event: 'bad_inference', n: 2 }], () => failing);
    const minutes = new KpiMinutes(kpi);
    expect((await minutes.charts(300, NOW)).charts).toHaveLength(2);
    failing = true;
    const after = await minutes.charts(300, NOW + 10_000);
    expect(after.notice).toBe('KPI store query failed: connection refused');
    expect(after.charts).toHaveLength(2);
    const none = new KpiMinutes({ stats: () => ({ pending: 0 }), store: {} });
    expect(await none.charts(300)).toEqual({ charts: [] });
  });
});
