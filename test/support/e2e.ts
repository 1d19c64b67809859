/**
 * Real-service tests skip loudly when a service is missing, and fail instead
 * when REQUIRE_E2E=1 (as in CI).
 *
 * @example
 * ```ts
 * const pg = await probe('PostgreSQL', () => canConnect(url));
 * describe.skipIf(!pg)('...', () => { ... });
 * ```
 */
import { execFileSync } from 'node:child_process';

export const REQUIRE_E2E = process.env['REQUIRE_E2E'] === '1';

/**
 * Runs `check`; when it fails, either throws (REQUIRE_E2E=1) or prints a loud
 * skip notice and returns false.
 */
export async function probe(service: string, check: () => boolean | Promise<boolean>): Promise<boolean> {
  let available = false;
  let reason = '';
  try {
    available = await check();
  } catch (error) {
    reason = error instanceof Error ? error.message : String(error);
  }
  if (available) return true;
  const message = `${service} is not available${reason ? ` (${reason})` : ''}`;
  if (REQUIRE_E2E) throw new Error(`REQUIRE_E2E=1 but ${message}`);
  console.warn(`\n*** SKIPPING end-to-end tests: ${message}. Set REQUIRE_E2E=1 to make this a failure. ***\n`);
  return false;
}

/** True when `command` runs (e.g. `hasCommand('promtool', ['--version'])`). */
export function hasCommand(command: string, args: readonly string[] = ['--version']): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
