import { beforeEach, describe, expect, it } from 'vitest';
import type { Counter } from '../core/counter.js';
import { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { MemoryStore } from '../../test/kpi/memory-store.js';
import type { KpiBatch } from './batch.js';
import { KPI_ERRORS } from './errors.js';
import { EncodedBatch } from './row-buffer.js';
import { createKpi, type KpiOptions } from './kpi.js';

const EVENTS = ['good_inference', 'bad_inference'] as const;
type Event = (typeof EVENTS)[number];

/** The same store, asking for rows encoded at record time (what `pgStore` does): batches are `EncodedBatch`es. */
class EncodedMemoryStore extends MemoryStore {
  readonly rowEncoding = 'pg-copy-binary';

  override async write(batch: KpiBatch, retry: boolean): Promise<void> {
    if (!(batch instanceof EncodedBatch)) throw new Error('expected an EncodedBatch');
    await super.write(batch, retry);
  }
}

let Store: typeof MemoryStore = MemoryStore;

function setup(overrides: Partial<KpiOptions<Event>> = {}) {
  const registry = new Registry();
  const store = new Store();
  const errors: LookoutError[] = [];
  const kpi = createKpi({
    registry, store, events: EVENTS, flushIntervalMs: 60_000, retry: { minDelayMs: 5, maxDelayMs: 20 },
    onError: (error) => errors.push(error), ...overrides,
  });
  return { registry, store, errors, kpi };
}

function counterValue(registry: Registry, name: string, labels: Record<string, string>): number {
  return registry.get(name)!.labels(labels).value as number;
}

describe.each([
  ['columns', MemoryStore],
  ['rows encoded at record time', EncodedMemoryStore],
])('createKpi / record (%s)', (_name, StoreClass) => {
  beforeEach(() => {
    Store = StoreClass;
  });

  it('counts at once, writes rows in order with ids and timestamps, and keeps the books', async () => {
    const { registry, store, kpi } = setup();
    const before = Date.now();
    expect(kpi.record('good_inference', { user: 'u-1', model: 'resnet', args: { label: 'cat' }, value: 0.9 })).toBe(true);
    expect(kpi.record('bad_inference', { user: 7 })).toBe(true);
    expect(kpi.record('good_inference')).toBe(true);
    expect(counterValue(registry, 'kpi_events_total', { event: 'good_inference' })).toBe(2);
    expect(store.rows.size).toBe(0); // nothing written on the request path
    expect(await kpi.flush()).toBe(true);
    const rows = store.sorted();
    expect(rows.map((row) => row.event)).toEqual(['good_inference', 'bad_inference', 'good_inference']);
    expect(rows[0]).toMatchObject({ user: 'u-1', model: 'resnet', args: '{"label":"cat"}', value: 0.9 });
    expect(rows[1]).toMatchObject({ user: '7', model: null, args: null, value: null });
    expect(rows[0]!.time).toBeGreaterThanOrEqual(before);
    expect(kpi.stats()).toMatchObject({ recorded: 3, written: 3, pending: 0 });
    const text = await registry.metrics();
    expect(text).toContain('kpi_events_total{event="good_inference"} 2');
    expect(text).toContain('kpi_events_total{event="bad_inference"} 1');
    expect(text).toContain('lookout_kpi_written_total 3');
    expect(text).toContain('lookout_kpi_dropped_total{reason="buffer_full"} 0');
    expect(text).toContain('lookout_kpi_queue_depth 0');
    expect(text).toContain('lookout_kpi_store_up 1');
    expect(text).toMatch(/lookout_kpi_flush_duration_seconds_count 1/);
    expect(text).toMatch(/lookout_kpi_last_flush_timestamp_seconds \d/);
    expect(text).toContain('lookout_kpi_flush_errors_total 0');
    await kpi.close();
    expect(store.closed).toBe(true);
  });

  it('refuses undeclared events, bad and oversized fields without throwing, counting each', async () => {
    const { registry, store, errors, kpi } = setup({ maxArgsBytes: 64, maxFieldLength: 8, onError: (error) => { errors.push(error); throw new Error('callback bug'); } });
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    expect(kpi.record('nope' as Event)).toBe(false);
    expect(kpi.record('good_inference', { args: circular })).toBe(false);
    expect(kpi.record('good_inference', { args: { big: 10n } })).toBe(false);
    expect(kpi.record('good_inference', { args: { text: 'x'.repeat(100) } })).toBe(false);
    expect(kpi.record('good_inference', { user: 'much-too-long' })).toBe(false);
    expect(kpi.record('good_inference', { value: '3' as unknown as number })).toBe(false);
    expect(kpi.record('good_inference', { model: {} as unknown as string })).toBe(false);
    expect(kpi.record('good_inference', { get user(): string { throw new Error('getter'); } })).toBe(false);
    expect(errors.map((error) => error.code)).toEqual([
      KPI_ERRORS.unknownEvent, KPI_ERRORS.invalid, KPI_ERRORS.invalid, KPI_ERRORS.tooLarge, KPI_ERRORS.tooLarge, KPI_ERRORS.invalid, KPI_ERRORS.invalid, KPI_ERRORS.invalid,
    ]);
    expect(errors.every((error) => error instanceof LookoutError)).toBe(true);
    expect(kpi.stats().dropped).toMatchObject({ unknown_event: 1, invalid: 5, too_large: 2 });
    // A refused event still happened: the Prometheus count has it, the table does not.
    expect(counterValue(registry, 'kpi_events_total', { event: 'good_inference' })).toBe(7);
    expect(await kpi.flush()).toBe(true);
    expect(store.rows.size).toBe(0);
    await kpi.close();
    expect(kpi.record('good_inference')).toBe(false);
    expect(errors.at(-1)?.code).toBe(KPI_ERRORS.closed);
    expect(kpi.stats()).toMatchObject({ recorded: 9, written: 0, pending: 0 });
  });

  it('flushes by size without being asked, one batch in flight at a time', async () => {
    const { store, kpi } = setup({ batchSize: 100 });
    store.delayMs = 5;
    for (let index = 0; index < 1000; index++) kpi.record('good_inference', { args: { index } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(store.rows.size).toBe(1000);
    expect(store.maxInFlight).toBe(1);
    expect(store.writes.every((write) => write.size === 100)).toBe(true);
    await kpi.close();
  });

  it('flushes by interval', async () => {
    const { store, kpi } = setup({ flushIntervalMs: 20 });
    kpi.record('good_inference');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(store.rows.size).toBe(1);
    await kpi.close();
  });

  it('retries failed writes with backoff; a batch whose commit reply was lost is not duplicated', async () => {
    const { registry, store, errors, kpi } = setup({ batchSize: 10 });
    store.failNext = 3;
    store.loseAckNext = 1;
    for (let index = 0; index < 25; index++) kpi.record('good_inference', { args: { index } });
    expect(await kpi.flush({ deadlineMs: 5000 })).toBe(true);
    expect(store.rows.size).toBe(25);
    expect(store.sorted().map((row) => JSON.parse(row.args!).index)).toEqual([...Array(25).keys()]);
    expect(store.writes.slice(0, 5).map((write) => write.retry)).toEqual([false, true, true, true, true]);
    expect((registry.get('lookout_kpi_flush_errors') as Counter).value).toBe(4);
    expect(errors.filter((error) => error.code === KPI_ERRORS.store)).toHaveLength(4);
    expect(errors[0]!.message).toMatch(/connection/);
    expect(kpi.stats()).toMatchObject({ written: 25, pending: 0 });
    await kpi.close();
  });

  it('isolates a row PostgreSQL rejects and writes the others in order', async () => {
    const { store, errors, kpi } = setup({ batchSize: 64 });
    store.rejectArgsContaining = 'poison';
    for (let index = 0; index < 64; index++) kpi.record('good_inference', { args: { index, text: index === 41 ? 'poison' : 'ok' } });
    expect(await kpi.flush()).toBe(true);
    expect(store.rows.size).toBe(63);
    expect(store.sorted().map((row) => JSON.parse(row.args!).index)).toEqual([...Array(64).keys()].filter((index) => index !== 41));
    expect(kpi.stats().dropped.invalid).toBe(1);
    expect(errors.map((error) => error.code)).toEqual([KPI_ERRORS.rowRejected]);
    await kpi.close();
  });

  it('drop-newest: keeps accepting until full, then counts every drop; rows + dropped = recorded', async () => {
    const { store, errors, kpi } = setup({ bufferSize: 100, batchSize: 50 });
    store.down = true;
    for (let index = 0; index < 250; index++) kpi.record('good_inference', { args: { index } });
    expect(kpi.stats()).toMatchObject({ pending: 100, dropped: { buffer_full: 150 } });
    expect(errors.filter((error) => error.code === KPI_ERRORS.bufferFull)).toHaveLength(1);
    store.down = false;
    expect(await kpi.flush({ deadlineMs: 5000 })).toBe(true);
    expect(store.rows.size + kpi.stats().dropped.buffer_full).toBe(250);
    expect(store.sorted().map((row) => JSON.parse(row.args!).index)).toEqual([...Array(100).keys()]);
    await kpi.close();
  });

  it('drop-oldest: keeps the newest events', async () => {
    const { store, kpi } = setup({ bufferSize: 100, batchSize: 50, dropPolicy: 'drop-oldest' });
    store.down = true;
    for (let index = 0; index < 250; index++) expect(kpi.record('good_inference', { args: { index } })).toBe(true);
    store.down = false;
    expect(await kpi.flush({ deadlineMs: 5000 })).toBe(true);
    expect(store.rows.size).toBe(100);
    expect(kpi.stats().dropped.buffer_full).toBe(150);
    expect(store.sorted().map((row) => JSON.parse(row.args!).index)).toEqual([...Array(100).keys()].map((index) => index + 150));
    await kpi.close();
  });

  it('close() gives up at its deadline and counts what is left as close_timeout', async () => {
    const { store, errors, kpi } = setup();
    store.down = true;
    for (let index = 0; index < 10; index++) kpi.record('good_inference');
    const started = Date.now();
    expect(await kpi.close({ deadlineMs: 200 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(kpi.stats()).toMatchObject({ recorded: 10, written: 0, pending: 0, dropped: { close_timeout: 10 } });
    expect(errors.at(-1)?.code).toBe(KPI_ERRORS.closeTimeout);
    expect(await kpi.close()).toBe(false); // idempotent
  });

  it('close() flushes what is pending', async () => {
    const { store, kpi } = setup();
    for (let index = 0; index < 10; index++) kpi.record('bad_inference');
    expect(await kpi.close()).toBe(true);
    expect(store.rows.size).toBe(10);
  });

  it('ready() reports whether the store opened', async () => {
    const { store, kpi } = setup();
    expect(await kpi.ready()).toBe(true);
    await kpi.close();
    const down = setup();
    down.store.down = true;
    expect(await down.kpi.ready({ deadlineMs: 50 })).toBe(false);
    expect(down.store.opens).toBeGreaterThan(0);
    await down.kpi.close({ deadlineMs: 10 });
    expect(store.closed).toBe(true);
  });

  it('validates options at creation', () => {
    const registry = new Registry();
    const store = new MemoryStore();
    const code = (make: () => unknown): string | undefined => {
      try {
        make();
      } catch (error) {
        return (error as LookoutError).code;
      }
      return undefined;
    };
    expect(code(() => createKpi({ registry: undefined as unknown as Registry, store, events: ['a'] }))).toBe(KPI_ERRORS.option);
    expect(code(() => createKpi({ registry, store, events: [] }))).toBe(KPI_ERRORS.option);
    expect(code(() => createKpi({ registry, store, events: ['a', 'a'] }))).toBe(KPI_ERRORS.option);
    expect(code(() => createKpi({ registry, store, events: ['a'], bufferSize: 0 }))).toBe(KPI_ERRORS.option);
    expect(code(() => createKpi({ registry, store, events: ['a'], batchSize: 10, bufferSize: 5 }))).toBe(KPI_ERRORS.option);
    expect(code(() => createKpi({ registry, store, events: ['a'], dropPolicy: 'random' as 'drop-oldest' }))).toBe(KPI_ERRORS.option);
  });
});
