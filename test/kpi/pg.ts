/**
 * PostgreSQL helpers for the KPI end-to-end tests: the shared ones from
 * test/support/pg.ts, an admin pool and a row counter.
 *
 * @example
 * ```ts
 * const available = await probe('PostgreSQL', pgReachable);
 * const schema = uniqueName('faults');
 * ```
 */
import pg from 'pg';
import { PG_URL } from '../support/pg.js';

export { PG_URL, PG_HOST, PG_PORT, pgReachable, uniqueName } from '../support/pg.js';

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
