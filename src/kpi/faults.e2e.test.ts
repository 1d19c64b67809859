import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../test/support/e2e.js';
import { PG_HOST, PG_PORT, PG_URL, adminPool, countRows, pgReachable, uniqueName } from '../../test/kpi/pg.js';
import { TcpProxy } from '../../test/kpi/tcp-proxy.js';
import type { Counter } from '../core/counter.js';
import type { LookoutError } from '../core/errors.js';
import { Registry } from '../core/registry.js';
import { createKpi, type Kpi } from './kpi.js';
import { pgStore } from './pg-store.js';

const available = await probe('PostgreSQL', pgReachable);
const TOTAL = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Connection options that go through the proxy. */
function proxied(proxy: TcpProxy): { host: string; port: number; user: string; database: string } {
  const url = new URL(PG_URL);
  return { host: '127.0.0.1', port: proxy.port, user: decodeURIComponent(url.username) || 'postgres', database: url.pathname.slice(1) };
}

/** Records `total` events with `args.i` numbered from 0, `perTick` at a time, pausing `pauseMs` between ticks. */
async function recordSteadily(kpi: Kpi<'good_inference'>, total: number, perTick: number, pauseMs: number): Promise<void> {
  for (let index = 0; index < total;) {
    for (let step = 0; step < perTick && index < total; step++, index++) kpi.record('good_inference', { user: `u-${index % 50}`, args: { i: index } });
    await sleep(pauseMs);
  }
}

describe.skipIf(!available)('KPI writes survive a failing PostgreSQL (real server)', () => {
  const admin = available ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  const proxies: TcpProxy[] = [];
  afterAll(async () => {
    if (!available) return;
    for (const proxy of proxies) await proxy.stop();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it(`${TOTAL} events while the store's connections are killed with pg_terminate_backend: exactly ${TOTAL} rows`, async () => {
    const schema = uniqueName('terminate');
    schemas.push(schema);
    const registry = new Registry();
    const errors: LookoutError[] = [];
    const kpi = createKpi({
      registry, events: ['good_inference'], batchSize: 2000, retry: { minDelayMs: 5, maxDelayMs: 100 },
      store: pgStore({ connectionString: PG_URL, schema, applicationName: schema }), onError: (error) => errors.push(error),
    });
    expect(await kpi.ready()).toBe(true);
    let terminated = 0;
    let killing = true;
    const killer = (async () => {
      while (killing) {
        const { rows } = await admin.query<{ killed: boolean }>('SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = $1', [schema]);
        terminated += rows.filter((row) => row.killed).length;
        await sleep(15);
      }
    })();
    await recordSteadily(kpi, TOTAL, 500, 2);
    await sleep(200);
    killing = false;
    await killer;
    expect(await kpi.flush({ deadlineMs: 30_000 })).toBe(true);
    await kpi.close();
    expect(await countRows(admin, schema)).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(kpi.stats()).toMatchObject({ recorded: TOTAL, written: TOTAL, pending: 0, dropped: { buffer_full: 0, close_timeout: 0 } });
    // The kills did land on writes in progress: those were retried.
    expect(terminated).toBeGreaterThan(5);
    expect((registry.get('lookout_kpi_flush_errors') as Counter).value).toBeGreaterThan(0);
    expect(errors.some((error) => /terminat/i.test(error.message))).toBe(true);
  });

  it(`${TOTAL} events while the database refuses, then resets, connections for seconds: exactly ${TOTAL} rows`, async () => {
    const schema = uniqueName('refuse');
    schemas.push(schema);
    const proxy = await TcpProxy.start(PG_HOST, PG_PORT);
    proxies.push(proxy);
    const registry = new Registry();
    const errors: LookoutError[] = [];
    const kpi = createKpi({
      registry, events: ['good_inference'], batchSize: 2000, retry: { minDelayMs: 20, maxDelayMs: 400 },
      store: pgStore({ ...proxied(proxy), schema, connectTimeoutMs: 1000 }),
      onError: (error) => errors.push(error),
    });
    expect(await kpi.ready()).toBe(true);
    const outage = (async () => {
      await sleep(800);
      await proxy.refuse();
      await sleep(2000);
      await proxy.reset();
      await sleep(1500);
      await proxy.pass();
    })();
    await recordSteadily(kpi, TOTAL, 250, 10); // about 4 s of traffic, across the outage
    await outage;
    expect(await kpi.flush({ deadlineMs: 30_000 })).toBe(true);
    await kpi.close();
    expect(await countRows(admin, schema)).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(kpi.stats()).toMatchObject({ recorded: TOTAL, written: TOTAL, pending: 0, dropped: { buffer_full: 0 } });
    expect(errors.some((error) => /ECONNREFUSED/.test(error.message))).toBe(true);
    expect(errors.some((error) => /ECONNRESET|terminated|Connection/i.test(error.message))).toBe(true);
  });

  it('a stalled network (bytes dropped, nothing closed): writes time out, are retried, and no row is lost or doubled', async () => {
    const schema = uniqueName('stall');
    schemas.push(schema);
    const proxy = await TcpProxy.start(PG_HOST, PG_PORT);
    proxies.push(proxy);
    const registry = new Registry();
    const errors: LookoutError[] = [];
    const kpi = createKpi({
      registry, events: ['good_inference'], batchSize: 2000, retry: { minDelayMs: 20, maxDelayMs: 200 },
      store: pgStore({ ...proxied(proxy), schema, connectTimeoutMs: 500, writeTimeoutMs: 800 }),
      onError: (error) => errors.push(error),
    });
    expect(await kpi.ready()).toBe(true);
    const outage = (async () => {
      await sleep(300);
      await proxy.stall();
      await sleep(2500);
      await proxy.pass();
    })();
    await recordSteadily(kpi, 30_000, 250, 25); // about 3 s of traffic, across the stall
    await outage;
    expect(await kpi.flush({ deadlineMs: 30_000 })).toBe(true);
    await kpi.close();
    expect(await countRows(admin, schema)).toEqual({ rows: 30_000, distinct: 30_000 });
    expect(errors.some((error) => /writeTimeoutMs|timeout/i.test(error.message))).toBe(true);
  });

  it('close() keeps its deadline while the database is stalled, and counts what it could not write', async () => {
    const schema = uniqueName('closestall');
    schemas.push(schema);
    const proxy = await TcpProxy.start(PG_HOST, PG_PORT);
    proxies.push(proxy);
    const kpi = createKpi({ registry: new Registry(), events: ['good_inference'], store: pgStore({ ...proxied(proxy), schema, connectTimeoutMs: 60_000, writeTimeoutMs: 60_000 }) });
    expect(await kpi.ready()).toBe(true);
    await proxy.stall();
    for (let index = 0; index < 1000; index++) kpi.record('good_inference', { args: { i: index } });
    const started = Date.now();
    expect(await kpi.close({ deadlineMs: 1000 })).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    const { written, dropped, pending } = kpi.stats();
    await proxy.pass();
    const { rows } = await countRows(admin, schema);
    expect(pending).toBe(0);
    expect(rows).toBe(written);
    expect(rows + dropped.close_timeout).toBe(1000);
  });

  it('buffer overflow while the database is unreachable: rows + dropped = recorded, exactly', async () => {
    const schema = uniqueName('overflow');
    schemas.push(schema);
    const proxy = await TcpProxy.start(PG_HOST, PG_PORT);
    proxies.push(proxy);
    const registry = new Registry();
    const kpi = createKpi({
      registry, events: ['good_inference'], retry: { minDelayMs: 20, maxDelayMs: 200 },
      store: pgStore({ ...proxied(proxy), schema, connectTimeoutMs: 1000 }),
    });
    expect(await kpi.ready()).toBe(true);
    await proxy.refuse();
    const recorded = 150_000;
    await recordSteadily(kpi, recorded, 5000, 1);
    expect(kpi.stats().pending).toBe(100_000); // the default buffer, full
    await proxy.pass();
    expect(await kpi.flush({ deadlineMs: 30_000 })).toBe(true);
    await kpi.close();
    const { rows, distinct } = await countRows(admin, schema);
    const { dropped } = kpi.stats();
    expect(distinct).toBe(rows);
    expect(rows + dropped.buffer_full).toBe(recorded);
    expect(rows).toBe(100_000);
    expect(await registry.metrics()).toContain('lookout_kpi_dropped_total{reason="buffer_full"} 50000');
  });
});
