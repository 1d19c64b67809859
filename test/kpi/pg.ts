/**
 * PostgreSQL helpers for the KPI end-to-end tests: the server URL, a probe,
 * and a schema of its own per test (files run in parallel).
 *
 * @example
 * ```ts
 * const available = await probe('PostgreSQL', pgReachable);
 * const schema = uniqueName('faults');
 * ```
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env['LOOKOUT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const PG_HOST = new URL(PG_URL).hostname;
export const PG_PORT = Number(new URL(PG_URL).port || 5432);

/** True when the test server answers within 3 s. */
export async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A lower-case SQL name unique to this run, e.g. `kpi_faults_1234_9f3a`. */
export function uniqueName(purpose: string): string {
  return `kpi_${purpose}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** An admin pool for checks and clean-up. */
export function adminPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: PG_URL, max: 3 });
  pool.on('error', () => undefined);
  return pool;
}

/** Row count and distinct `args->>'i'` count of a schema's events table. */
export async function countRows(pool: pg.Pool, schema: string): Promise<{ rows: number; distinct: number }> {
  const { rows } = await pool.query<{ rows: number; distinct: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT args->>'i')::int AS distinct FROM "${schema}".events`);
  return rows[0]!;
}
