import { LookoutError } from '../core/errors.js';
import type { CliIo } from './command.js';
import { COMMANDS } from './commands/index.js';

const HELP = `Usage: lookout <command> [options]

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(12)}${command.summary}`).join('\n')}

Run \`lookout <command> --help\` for the options of a command.`;

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failure, 2 bad usage.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    io.err(`lookout: unknown command ${JSON.stringify(name)}\n\n${HELP}`);
    return 2;
  }
  // Every command answers --help the same way, before its own flags are parsed.
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof LookoutError && error.code === 'LOOKOUT_E_CLI_USAGE') {
      io.err(`lookout ${command.name}: ${error.message.replace('LOOKOUT_E_CLI_USAGE: ', '')}`);
      return 2;
    }
    io.err(`lookout ${command.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

function defaultIo(): CliIo {
  return { out: (line) => console.log(line), err: (line) => console.error(line), cwd: process.cwd() };
}
