/**
 * PostgreSQL helpers shared by the end-to-end tests (KPI, provisioning, verification).
 *
 * @example
 * ```ts
 * const available = await probe('PostgreSQL', pgReachable);
 * ```
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The test server (LOOKOUT_TEST_PG_URL, as the KPI tests use).
 *
 * @example
 * ```ts
 * new pg.Client({ connectionString: PG_URL });
 * ```
 */
export const PG_URL = process.env['LOOKOUT_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Host and port of PG_URL (for proxies in front of it). */
export const PG_HOST = new URL(PG_URL).hostname;
export const PG_PORT = Number(new URL(PG_URL).port || 5432);

/**
 * True when the test server answers within 3 s.
 *
 * @example
 * ```ts
 * await probe('PostgreSQL', pgReachable);
 * ```
 */
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

/**
 * A lower-case SQL name unique to this run, e.g. `lookout_verify_1234_9f3a2b`.
 *
 * @example
 * ```ts
 * const schema = uniqueName('verify');
 * ```
 */
export function uniqueName(purpose: string): string {
  return `lookout_${purpose}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/**
 * A random password for a role created by a test.
 *
 * @example
 * ```ts
 * await createReaderRole(admin, { role, password: randomPassword() });
 * ```
 */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * PG_URL with another user, password and/or database.
 *
 * @example
 * ```ts
 * connectionString({ user: 'lookout_reader', password });
 * ```
 */
export function connectionString(changes: { user?: string; password?: string; database?: string }): string {
  const url = new URL(PG_URL);
  if (changes.user !== undefined) url.username = changes.user;
  if (changes.password !== undefined) url.password = changes.password;
  if (changes.database !== undefined) url.pathname = `/${changes.database}`;
  return url.toString();
}

/**
 * Drops what a test created: its schemas (with everything in them) and its roles.
 *
 * @example
 * ```ts
 * afterAll(() => dropCreated(admin, schemas, roles));
 * ```
 */
export async function dropCreated(admin: { query(sql: string): Promise<unknown> }, schemas: readonly string[], roles: readonly string[]): Promise<void> {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  for (const role of roles) {
    await admin.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS "${role}"`);
  }
}

/**
 * The error a promise rejects with, as `{ code, message }` (a PostgreSQL error's SQLSTATE in
 * `code`); throws when it resolves.
 *
 * @example
 * ```ts
 * expect(await failure(client.query('INSERT INTO events DEFAULT VALUES'))).toMatchObject({ code: '42501' });
 * ```
 */
export async function failure(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a failure');
}
