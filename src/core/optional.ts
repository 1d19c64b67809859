import { createRequire } from 'node:module';
import { LookoutError } from './errors.js';

/**
 * What each optional part of lookout needs besides lookout itself, as the one
 * `npm install` line that adds it. These packages are optional peer dependencies:
 * an app that only records HTTP metrics installs none of them, and the code that
 * uses one loads it on first use (never from the metrics entry points).
 *
 * @example
 * ```ts
 * INSTALL_LINES.pgStore; // 'npm install pg pg-copy-streams'
 * ```
 */
export const INSTALL_LINES = {
  pgStore: 'npm install pg pg-copy-streams',
  pgliteStore: 'npm install @electric-sql/pglite',
  embeddedStore: 'npm install @electric-sql/pglite pg pg-copy-streams',
  dashboard: 'npm install uplot',
  cli: 'npm install @grafana/grafana-foundation-sdk yaml',
  provision: 'npm install @grafana/grafana-foundation-sdk yaml',
  check: 'npm install pg',
} as const;

/** One of the optional parts in `INSTALL_LINES`. @example const part: OptionalPart = 'pgStore'; */
export type OptionalPart = keyof typeof INSTALL_LINES;

const FEATURES: Record<OptionalPart, string> = {
  pgStore: 'the PostgreSQL KPI store (pgStore)',
  pgliteStore: 'the in-process PGlite KPI store (pgliteStore)',
  embeddedStore: 'the embedded KPI store (embeddedStore, the default without DATABASE_URL)',
  dashboard: 'the built-in dashboard page',
  cli: 'the `lookout` command',
  provision: 'provisioning (lookout/provision)',
  check: '`lookout check --database-url`',
};

const require = createRequire(import.meta.url);

/**
 * The error for an optional peer dependency that is not installed: code
 * `LOOKOUT_E_MISSING_DEPENDENCY`, and the exact install command in the message.
 *
 * @example
 * ```ts
 * missingDependency('pgStore', 'pg').message;
 * // 'LOOKOUT_E_MISSING_DEPENDENCY: the PostgreSQL KPI store (pgStore) needs the package "pg", which is not installed: npm install pg pg-copy-streams'
 * ```
 */
export function missingDependency(part: OptionalPart, pkg: string, cause?: unknown): LookoutError {
  const error = new LookoutError('LOOKOUT_E_MISSING_DEPENDENCY', `${FEATURES[part]} needs the package "${pkg}", which is not installed: ${INSTALL_LINES[part]}`);
  if (cause !== undefined) error.cause = cause;
  return error;
}

/**
 * The optional peer dependency a module-not-found error is about, if it is one
 * of lookout's (`undefined` for anything else, a file of lookout's own say).
 *
 * @example
 * ```ts
 * missingPeer(error); // 'yaml' for "Cannot find package 'yaml' imported from ..."
 * ```
 */
export function missingPeer(error: unknown): string | undefined {
  return PEERS.find((pkg) => isNotFound(error, pkg));
}

const PEERS = ['@electric-sql/pglite', '@grafana/grafana-foundation-sdk', 'pg', 'pg-copy-streams', 'uplot', 'yaml'];

/** Whether an error is "this package cannot be found" (CommonJS and ES module loaders word it differently). */
function isNotFound(error: unknown, pkg: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return false;
  // Only the package itself missing, not a file it needs that its own install lost.
  const message = String((error as Error).message);
  return [`'${pkg}'`, `'${pkg}/`, `"${pkg}"`, `"${pkg}/`].some((quoted) => message.includes(quoted));
}

/**
 * Loads an optional peer dependency synchronously (CommonJS `require`, which
 * also loads an ES module on the Node.js lines lookout supports), or throws
 * `LOOKOUT_E_MISSING_DEPENDENCY` naming the install command.
 *
 * @example
 * ```ts
 * const pg = requireOptional<typeof pg>('pgStore', 'pg');
 * ```
 */
export function requireOptional<T>(part: OptionalPart, pkg: string): T {
  try {
    return require(pkg) as T;
  } catch (error) {
    if (isNotFound(error, pkg)) throw missingDependency(part, pkg, error);
    throw error;
  }
}

/**
 * Where a file of an optional peer dependency is, or `LOOKOUT_E_MISSING_DEPENDENCY`.
 *
 * @example
 * ```ts
 * readFileSync(resolveOptional('dashboard', 'uplot', 'uplot/dist/uPlot.min.css'), 'utf8');
 * ```
 */
export function resolveOptional(part: OptionalPart, pkg: string, specifier: string): string {
  try {
    return require.resolve(specifier);
  } catch (error) {
    if (isNotFound(error, pkg) && !installed(pkg)) throw missingDependency(part, pkg, error);
    throw error;
  }
}

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * Imports an optional peer dependency (an ES module with top-level await, say),
 * or rejects with `LOOKOUT_E_MISSING_DEPENDENCY` naming the install command.
 *
 * @example
 * ```ts
 * const { PGlite } = await importOptional<typeof PgliteModule>('pgliteStore', '@electric-sql/pglite');
 * ```
 */
export async function importOptional<T>(part: OptionalPart, pkg: string): Promise<T> {
  try {
    return (await import(pkg)) as T;
  } catch (error) {
    if (isNotFound(error, pkg)) throw missingDependency(part, pkg, error);
    throw error;
  }
}
