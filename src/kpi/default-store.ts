import { pgStore } from './pg-store.js';
import { embeddedStore } from './embedded-store.js';
import type { KpiStore } from './store.js';

/**
 * The store `createKpi` uses when none is given: PostgreSQL when
 * `DATABASE_URL` is set, otherwise the embedded store (`embeddedStore`: PGlite in
 * `.lookout/pglite`, served by a store process of its own).
 *
 * @example
 * ```ts
 * defaultStore({ DATABASE_URL: 'postgres://app@db/app' }).kind; // 'postgres'
 * ```
 */
export function defaultStore(env: NodeJS.ProcessEnv = process.env): KpiStore {
  const url = env['DATABASE_URL'];
  return url !== undefined && url !== '' ? pgStore({ connectionString: url }) : embeddedStore();
}
