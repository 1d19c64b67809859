import { round } from './numbers.js';
import type { DashboardKpi } from './options.js';
import type { ChartData } from './types.js';

/** Events counted per minute: what one row of the query gives. */
const MINUTE_SQL = `SELECT floor(extract(epoch FROM creation_time) / 60)::float8 * 60000 AS minute, event, count(*)::float8 AS n
FROM {events}
WHERE creation_time >= to_timestamp($1::float8 / 1000) AND creation_time < to_timestamp($2::float8 / 1000)
GROUP BY 1, 2
LIMIT 200000`;

const MINUTE = 60_000;
/** Minutes kept in the cache (the longest range the page offers). */
const KEEP_MS = 24 * 60 * MINUTE;
/** Minutes re-read on each refresh: rows of a closed minute may still land while the writer catches up. */
const RECENT_MS = 3 * MINUTE;
/** The recent minutes are re-read at most this often. */
const REFRESH_MS = 5000;
/** Event names shown as lines; the rest are summed. */
const EVENT_LINES = 8;
/** The minute in progress is drawn once this much of it has passed (scaled up to a full minute). */
const PARTIAL_MS = 15_000;
/** The labelled predictions accuracy is computed from, as in the Grafana panel. */
const GOOD = 'good_inference';
const BAD = 'bad_inference';

const floorMinute = (time: number): number => Math.floor(time / MINUTE) * MINUTE;

/**
 * The KPI SQL panels (accuracy per minute, events per minute by type) from
 * the store's events table. Counts are cached per minute: a refresh re-reads
 * only the last few minutes (an index range scan), and a longer range reads
 * only the minutes it adds, so the page's polling stays cheap even on PGlite,
 * which runs on the main thread.
 *
 * @example
 * ```ts
 * const minutes = new KpiMinutes(kpi);
 * const { charts } = await minutes.charts(3600);
 * ```
 */
export class KpiMinutes {
  private readonly kpi: DashboardKpi;
  /** minute (Unix ms) -> event -> rows */
  private readonly minutes = new Map<number, Map<string, number>>();
  private coveredFrom: number | undefined;
  private refreshedAt = 0;
  private loading: Promise<void> | undefined;
  private error: string | undefined;

  constructor(kpi: DashboardKpi) {
    this.kpi = kpi;
  }

  /** The charts for the last `range` seconds, and a notice when the store could not be read. */
  async charts(range: number, now = Date.now()): Promise<{ charts: ChartData[]; notice?: string }> {
    if (this.kpi.store.query === undefined) return { charts: [] };
    const from = floorMinute(now - Math.min(range * 1000, KEEP_MS));
    while (this.loading !== undefined) await this.loading;
    if (this.coveredFrom === undefined || from < this.coveredFrom || now - this.refreshedAt >= REFRESH_MS) {
      this.loading = this.load(from, now).finally(() => (this.loading = undefined));
      await this.loading;
    }
    const charts = this.build(from, now);
    return this.error === undefined ? { charts } : { charts, notice: `KPI store query failed: ${this.error}` };
  }

  private async load(from: number, now: number): Promise<void> {
    const query = this.kpi.store.query!.bind(this.kpi.store);
    try {
      if (this.coveredFrom === undefined) {
        this.absorb(await query(MINUTE_SQL, [from, now + MINUTE]));
        this.coveredFrom = from;
        this.refreshedAt = now;
      } else if (from < this.coveredFrom) {
        this.absorb(await query(MINUTE_SQL, [from, this.coveredFrom]));
        this.coveredFrom = from;
      }
      if (now - this.refreshedAt >= REFRESH_MS) {
        const recent = floorMinute(now - RECENT_MS);
        const rows = await query(MINUTE_SQL, [recent, now + MINUTE]);
        for (const minute of this.minutes.keys()) if (minute >= recent) this.minutes.delete(minute);
        this.absorb(rows);
        this.refreshedAt = now;
      }
      this.error = undefined;
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
    const oldest = floorMinute(now - KEEP_MS);
    for (const minute of this.minutes.keys()) if (minute < oldest) this.minutes.delete(minute);
    if (this.coveredFrom !== undefined && this.coveredFrom < oldest) this.coveredFrom = oldest;
  }

  private absorb(rows: readonly Record<string, unknown>[]): void {
    for (const row of rows) {
      const minute = Number(row['minute']);
      const count = Number(row['n']);
      if (!Number.isFinite(minute) || !Number.isFinite(count)) continue;
      let events = this.minutes.get(minute);
      if (events === undefined) this.minutes.set(minute, (events = new Map()));
      const event = String(row['event']);
      events.set(event, (events.get(event) ?? 0) + count);
    }
  }

  private build(from: number, now: number): ChartData[] {
    const minutes: number[] = [];
    for (let minute = from; minute <= now; minute += MINUTE) minutes.push(minute);
    const rows = minutes.map((minute) => this.minutes.get(minute));
    // The minute in progress would always end the lines with a drop (and a noisy accuracy):
    // hidden for its first seconds, then its counts scaled to a whole minute.
    const elapsed = now - floorMinute(now);
    const scale = (count: number, index: number): number | null =>
      index < minutes.length - 1 ? count : elapsed < PARTIAL_MS ? null : round((count * MINUTE) / elapsed);
    const time = minutes.map((minute) => minute / 1000);
    const totals = new Map<string, number>();
    for (const events of rows) for (const [event, count] of events ?? []) totals.set(event, (totals.get(event) ?? 0) + count);
    if (totals.size === 0) return [];
    const ranked = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([event]) => event);
    const shown = ranked.length > EVENT_LINES ? ranked.slice(0, EVENT_LINES - 1) : ranked;
    const rest = ranked.slice(shown.length);
    const series = shown.map((event) => ({ name: event, values: rows.map((events, index) => scale(events?.get(event) ?? 0, index)) }));
    if (rest.length > 0) series.push({ name: '(other)', values: rows.map((events, index) => scale(rest.reduce((sum, event) => sum + (events?.get(event) ?? 0), 0), index)) });
    const charts: ChartData[] = [];
    if (totals.has(GOOD) || totals.has(BAD)) {
      const accuracy = rows.map((events, index) => {
        const good = events?.get(GOOD) ?? 0;
        const labelled = good + (events?.get(BAD) ?? 0);
        return labelled > 0 && scale(1, index) !== null ? round(good / labelled) : null;
      });
      charts.push({ id: 'accuracy', time, series: [{ name: 'accuracy', values: accuracy }] });
    }
    charts.push({ id: 'eventsByType', time, series });
    return charts;
  }
}
