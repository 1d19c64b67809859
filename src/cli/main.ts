/**
 * Entry of the `lookout` command (bin/lookout.js imports the built copy of this file).
 *
 * @example
 * ```sh
 * lookout provision --out deploy/
 * ```
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2));
