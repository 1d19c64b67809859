import { parseArgs, type ParseArgsConfig } from 'node:util';
import { LookoutError } from '../core/errors.js';

/**
 * Where a command writes: injectable so tests capture output instead of printing it.
 *
 * @example
 * ```ts
 * const io: CliIo = { out: (line) => lines.push(line), err: (line) => errors.push(line), cwd: process.cwd() };
 * ```
 */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly cwd: string;
}

/**
 * One `lookout` subcommand. Adding a subcommand = one file in `src/cli/commands/` exporting a
 * `CliCommand`, plus its line in `commands/index.ts`.
 *
 * @example
 * ```ts
 * export const hello: CliCommand = {
 *   name: 'hello', summary: 'Say hello.', usage: 'lookout hello',
 *   run: async (_argv, io) => { io.out('hello'); return 0; },
 * };
 * ```
 */
export interface CliCommand {
  readonly name: string;
  /** One line for `lookout --help`. */
  readonly summary: string;
  /** Full text for `lookout <name> --help`. */
  readonly usage: string;
  /** Returns the exit code. Throws `LOOKOUT_E_CLI_USAGE` for bad flags (exit code 2). */
  readonly run: (argv: readonly string[], io: CliIo) => Promise<number>;
}

/**
 * `node:util` parseArgs in strict mode whose errors become `LOOKOUT_E_CLI_USAGE`.
 *
 * @example
 * ```ts
 * const { values } = parseFlags(['--out', 'deploy'], { out: { type: 'string' } }, 'lookout provision --out <dir>');
 * ```
 */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: false }>> {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new LookoutError('LOOKOUT_E_CLI_USAGE', `${(error as Error).message}\n\n${usage}`);
  }
}

/**
 * A usage error (exit code 2).
 *
 * @example
 * ```ts
 * throw usageError('--out is required', command.usage);
 * ```
 */
export function usageError(message: string, usage: string): LookoutError {
  return new LookoutError('LOOKOUT_E_CLI_USAGE', `${message}\n\n${usage}`);
}

/**
 * Parses a duration flag such as `30s`, `2m`, `1h` or `1500ms` into milliseconds.
 *
 * @example
 * ```ts
 * durationFlag('30s', '--wait', usage); // 30000
 * ```
 */
export function durationFlag(text: string, flag: string, usage: string): number {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (match === null) throw usageError(`${flag} must be a duration such as 1500ms, 30s, 2m or 1h, got ${JSON.stringify(text)}`, usage);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}
