/** Small helpers shared by the benchmark scripts. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

/** Median of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** `min–max` spread as text. */
export function spread(values: readonly number[], digits = 0): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

/** Prints one JSON result line (machine-readable) and returns it. */
export function emit(result: Record<string, unknown>): Record<string, unknown> {
  console.log(JSON.stringify(result));
  return result;
}

const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on Linux

/**
 * CPU time a process has used so far, user and system, in µs (from `/proc/<pid>/stat`, 10 ms ticks).
 *
 * @example
 * ```ts
 * const { user, system } = cpuMicros(server.child.pid!);
 * ```
 */
export function cpuMicros(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { user: Number(fields[11]) * TICK_US, system: Number(fields[12]) * TICK_US };
}

/**
 * Starts a script with tsx in a child process and waits for `READY <port>`.
 * `cpu` pins it with taskset (default: BENCH_SERVER_CPU; the throughput
 * benchmarks pass {@link SERVER_CPU} and run the load generator on another
 * CPU, see {@link pinLoader}).
 */
export async function startServer(script: string, args: readonly string[], nodeFlags: readonly string[] = [], env: Record<string, string> = {}, cpu = process.env['BENCH_SERVER_CPU'], launcher: { prefix: readonly string[]; startSeconds: number; node?: string } = { prefix: [], startSeconds: 30 }): Promise<{ child: ChildProcess; port: number }> {
  const command = [...launcher.prefix, launcher.node ?? process.execPath, ...nodeFlags, '--import', 'tsx', script, ...args];
  const [file, ...argv] = cpu === undefined || cpu === '' ? command : ['taskset', '-c', cpu, ...command];
  const child = spawn(file!, argv, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')} did not start`)), launcher.startSeconds * 1000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /READY (\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return { child, port };
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether servers and the load generator run on separate CPUs (Linux with
 * `taskset`, unless `BENCH_PIN=0`): unpinned on a 2-CPU machine, the
 * scheduler sometimes puts both on one CPU and a run halves.
 */
export const PINNED = process.platform === 'linux' && process.env['BENCH_PIN'] !== '0' && hasTaskset();

/** The CPU servers are pinned to when {@link PINNED} (the load generator gets {@link LOADER_CPU}). */
export const SERVER_CPU: string | undefined = PINNED ? process.env['BENCH_SERVER_CPU'] ?? '0' : undefined;
/** The CPU this process (autocannon) is pinned to while it loads. */
export const LOADER_CPU = process.env['BENCH_LOADER_CPU'] ?? '1';

/** The CPU list a process may run on, as `taskset -c` takes it (`0,1`). */
export function affinityOf(pid: number): string {
  return execFileSync('taskset', ['-p', '-c', String(pid)], { encoding: 'utf8' }).split(':').pop()!.trim();
}

/** Pins this process (the load generator) to {@link LOADER_CPU}; returns the undo. */
export function pinLoader(): () => void {
  if (!PINNED) return () => {};
  const affinity = affinityOf(process.pid);
  execFileSync('taskset', ['-p', '-c', LOADER_CPU, String(process.pid)], { stdio: 'ignore' });
  return () => execFileSync('taskset', ['-p', '-c', affinity, String(process.pid)], { stdio: 'ignore' });
}

/** Stops a child process and waits for it. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/**
 * Fresh server processes every round (default; `BENCH_PROCESSES=persistent` keeps one per
 * variant for the whole run). Two processes of the same code can settle at throughputs
 * several per cent apart for their whole life (JIT and inlining decisions, heap layout,
 * what else shared the CPU while they warmed up); with one process per variant that draw
 * is made once and no number of rounds averages it out. With fresh processes it becomes
 * part of each round's noise, which the median of paired per-round ratios absorbs.
 */
export const FRESH = process.env['BENCH_PROCESSES'] !== 'persistent';

/** Sends SIGUSR2 to a hello-world server and resolves with the next `ALLOC ...` line it prints. */
async function allocationSignal(child: ChildProcess): Promise<string> {
  const line = new Promise<string>((resolve) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /ALLOC ([^\n]*)\n/.exec(output);
      if (match === null) return;
      child.stdout!.off('data', onData);
      resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
  });
  child.kill('SIGUSR2');
  return Promise.race([line, once(child, 'exit').then((): never => { throw new Error('server exited while counting allocations'); })]);
}

/**
 * Starts counting the bytes a hello-world server (bench/servers/hello.ts, which
 * answers SIGUSR2 with v8's GC profiler) allocates on its JavaScript heap; the
 * function it resolves to stops counting and resolves to the bytes allocated.
 *
 * @example
 * ```ts
 * const stop = await countAllocations(server.child);
 * await load(server.port, 3);
 * const bytes = await stop();
 * ```
 */
export async function countAllocations(child: ChildProcess): Promise<() => Promise<number>> {
  await allocationSignal(child);
  return async () => Number((await allocationSignal(child)).split(' ')[0]);
}

/** A started server: its process and port. */
export type Server = Awaited<ReturnType<typeof startServer>>;

/**
 * Runs rounds over a set of servers: with {@link FRESH} the servers are started (and warmed
 * up) anew for every round and stopped after it; otherwise once for the whole run. Every
 * server is stopped when this returns or throws.
 *
 * @example
 * ```ts
 * await inRounds({ start: () => Promise.all(variants.map(startOne)), warm: (s) => load(s.port, 2), rounds: 10 },
 *   async (servers, round) => { for (const index of rotation(servers.length, round)) results[index]!.push(await load(servers[index]!.port, 2)); });
 * ```
 */
export async function inRounds(setup: { start: () => Promise<Server[]>; warm: (server: Server) => Promise<unknown>; rounds: number }, runRound: (servers: readonly Server[], round: number) => Promise<void>): Promise<void> {
  const open = async (): Promise<Server[]> => {
    const servers = await setup.start();
    for (const server of servers) await setup.warm(server); // JIT
    return servers;
  };
  let servers: Server[] = [];
  try {
    if (!FRESH) servers = await open();
    for (let round = 0; round < setup.rounds; round++) {
      if (FRESH) servers = await open();
      await runRound(servers, round);
      if (FRESH) await Promise.all(servers.splice(0).map(({ child }) => stopServer(child)));
    }
  } finally {
    await Promise.all(servers.map(({ child }) => stopServer(child)));
  }
}

/**
 * The order in which round `round` measures `count` variants one after another: rotated by
 * one each round, so no variant always runs first.
 *
 * @example
 * ```ts
 * rotation(3, 1); // [1, 2, 0]
 * ```
 */
export function rotation(count: number, round: number): number[] {
  return Array.from({ length: count }, (_, step) => (round + step) % count);
}

/** Seconds of load each server gets before it is measured (with {@link FRESH}: every round). */
export const WARMUP_SECONDS = Number(process.env['BENCH_WARMUP_SECONDS'] ?? (FRESH ? 2 : 1));

/** Environment knobs: BENCH_ROUNDS, BENCH_SECONDS. */
export const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
export const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 4);

/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in
 * a markdown file (BENCHMARKS.md by default), appending the section when missing.
 */
export async function writeSection(name: string, body: string, file = 'BENCHMARKS.md'): Promise<void> {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = existsSync(file) ? await readFile(file, 'utf8') : `# ${file.replace(/\.md$/, '')}\n`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  text = from >= 0 && to > from ? text.slice(0, from) + block + text.slice(to + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(file, text);
}

/**
 * The node binary asked for with `--node <path>` (e.g. `npm run bench -- --node
 * ~/.cache/lookout-node/24/bin/node`) or `BENCH_NODE=<path>`, if any.
 *
 * @example
 * ```ts
 * benchNode(['--node', '/opt/node24/bin/node'], {}); // '/opt/node24/bin/node'
 * ```
 */
export function benchNode(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const at = argv.indexOf('--node');
  const value = at >= 0 ? argv[at + 1] : env['BENCH_NODE'];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Runs this benchmark script again on {@link benchNode}'s binary when that is not
 * the one running it, so the in-process measurements and every server it starts
 * (through `process.execPath`) run on that node; resolves to the child's exit
 * code, or undefined when this process already is that node.
 *
 * @example
 * ```ts
 * const code = await onBenchNode();
 * if (code !== undefined) process.exit(code);
 * ```
 */
export async function onBenchNode(): Promise<number | undefined> {
  const node = benchNode();
  if (node === undefined || realpathSync(node) === realpathSync(process.execPath)) return undefined;
  const args = process.argv.slice(2).filter((arg, index, all) => arg !== '--node' && all[index - 1] !== '--node');
  const child = spawn(node, [...process.execArgv, process.argv[1]!, ...args], { stdio: 'inherit', env: { ...process.env, BENCH_NODE: node } });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code ?? 1;
}
