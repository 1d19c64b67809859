import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { durationFlag, parseFlags, usageError, type CliCommand } from '../command.js';

/**
 * Where the demo script is: the repository's `examples/demo.ts`, three folders above this file
 * both as source (src/cli/commands) and as built code (dist/cli/commands).
 *
 * @example
 * ```ts
 * DEMO_SCRIPT; // '/home/me/lookout/examples/demo.ts'
 * ```
 */
export const DEMO_SCRIPT = fileURLToPath(new URL('../../../examples/demo.ts', import.meta.url));

const usage = `Usage: lookout demo [options]

Runs the demo of a lookout checkout (the same as \`npm run demo\`): the reference inference API
with its KPI events in embedded PGlite, live traffic, Prometheus with the generated config when
\`prometheus\` is on PATH, and Alertmanager with the generated routing when it is installed. Prints the URLs; Ctrl-C stops everything and flushes the KPI events.

Options:
  --port <n>          API port (default 8000, or a free one when 8000 is taken; 0 = any)
  --data-dir <dir>    PGlite data folder (default .lookout/pglite)
  --store-port <n>    port of the embedded store's process on 127.0.0.1 when the demo starts it,
                      for psql or a Grafana datasource (default: any free one)
  --rate <n>          traffic, requests per second (default 20)
  --duration <d>      stop by itself after this long, e.g. 10m (default 1h)
  --no-prometheus     do not start Prometheus even when it is on PATH
  --no-alertmanager   do not start Alertmanager even when it is on PATH
  --fault <spec>      start the API with fault injection and this fault, e.g.
                      latency:/inference/start:1500ms, errors:/inference/start:50%, hang:*:3s,
                      kpi-store-down, memory-leak:20mb, event-loop-block:800ms (more at
                      /faults, or: npm run traffic -- --fault <spec>)
  --once              smoke run: a few seconds of traffic, a summary, then stop
  -h, --help          show this help`;

/**
 * The demo's flags (the same as examples/demo.ts takes; a test keeps them in step).
 *
 * @example
 * ```ts
 * Object.keys(DEMO_FLAGS); // ['port', 'data-dir', 'store-port', 'rate', 'duration', 'no-prometheus', 'no-alertmanager', 'fault', 'once', 'help']
 * ```
 */
export const DEMO_FLAGS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'store-port': { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  'no-prometheus': { type: 'boolean' },
  'no-alertmanager': { type: 'boolean' },
  fault: { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `lookout demo`: checks the flags, then runs examples/demo.ts with tsx in a child process,
 * passing its output through. Ctrl-C reaches the demo, which stops cleanly; the exit code is the demo's.
 *
 * @example
 * ```ts
 * await demo.run(['--once', '--port', '0'], io);
 * ```
 */
export const demo: CliCommand = {
  name: 'demo',
  summary: 'Run the demo: the reference inference API, live traffic, Prometheus when installed.',
  usage,
  async run(argv, io) {
    const { values } = parseFlags(argv, DEMO_FLAGS, usage);
    for (const flag of ['port', 'store-port', 'rate'] as const) {
      const text = values[flag];
      const port = flag !== 'rate';
      if (text !== undefined && (text === '' || !Number.isInteger(Number(text)) || Number(text) < (port ? 0 : 1) || Number(text) > (port ? 65535 : 10_000))) {
        throw usageError(`--${flag} must be an integer (${port ? '0-65535' : '1-10000'}), got ${JSON.stringify(text)}`, usage);
      }
    }
    if (values.duration !== undefined) durationFlag(values.duration, '--duration', usage);
    if (!(await exists(DEMO_SCRIPT))) {
      io.err('lookout demo: the demo runs from a clone of the lookout repository (examples/ is not in the npm package): git clone <lookout repository> && cd lookout && npm ci && npm run demo');
      return 1;
    }
    let tsx: string;
    try {
      tsx = import.meta.resolve('tsx');
    } catch {
      io.err('lookout demo: tsx is not installed; run `npm ci` in the lookout checkout first');
      return 1;
    }
    return runChild(process.execPath, ['--import', tsx, DEMO_SCRIPT, ...argv], io);
  },
};

function runChild(command: string, args: readonly string[], io: Parameters<CliCommand['run']>[1]): Promise<number> {
  return new Promise((resolve) => {
    // Its own process group: the terminal's Ctrl-C reaches this process only, which passes each
    // signal on exactly once (the demo stops cleanly on the first and at once on the second).
    const child = spawn(command, args, { cwd: io.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    const lines = (write: (line: string) => void) => {
      let pending = '';
      return {
        push(chunk: Buffer) {
          pending += chunk.toString('utf8');
          const parts = pending.split('\n');
          pending = parts.pop()!;
          for (const line of parts) write(line);
        },
        end() {
          if (pending !== '') write(pending);
        },
      };
    };
    const out = lines(io.out);
    const err = lines(io.err);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => {
      io.err(`lookout demo: ${error.message}`);
    });
    child.once('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      out.end();
      err.end();
      resolve(code ?? (signal === null ? 1 : 128 + (signal === 'SIGINT' ? 2 : 15)));
    });
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
