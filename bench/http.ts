/**
 * Side-by-side HTTP throughput: for each framework, bare vs + lookout vs + the
 * peer library, A/B/C interleaved over several rounds; autocannon runs in this
 * process, each server in its own child process, all on 127.0.0.1.
 *
 *   npx tsx bench/http.ts            (BENCH_ROUNDS=5 BENCH_SECONDS=4 by default)
 *   BENCH_FRAMEWORKS=fastify,node npx tsx bench/http.ts
 *   BENCH_PROCESSES=persistent npx tsx bench/http.ts   (one server process per variant for the whole run)
 *   BENCH_HTTP_MODE=simultaneous npx tsx bench/http.ts
 *       (all variants at once on one CPU, with CPU per request and the spin check: see MODE)
 *   BENCH_EXTRA_VARIANTS=floor,noop npx tsx bench/http.ts   (diagnostic variants, see bench/servers/hello.ts)
 *   BENCH_EXTRA_VARIANTS='lookout@/tmp/base' npx tsx bench/http.ts
 *       (lookout as another checkout has it, in the same rounds: see serverArgs)
 */
import autocannon from 'autocannon';
import { countAllocations, cpuMicros, emit, FRESH, inRounds, median, pinLoader, ROUNDS, SECONDS, SERVER_CPU, spread, startServer, rotation, WARMUP_SECONDS } from './lib.js';

const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'fastify,express,hono,node').split(',');
const VARIANTS = ['bare', 'lookout', 'peer'] as const;
/** Extra lookout variants run in the same rotation: Hono's middleware beside `instrument(app)`. */
const EXTRA_VARIANTS: Record<string, readonly string[]> = { hono: ['middleware'], express: ['instrument'] };
const EXTRA_NAMES: Record<string, string> = { middleware: '`app.use(metrics())`', instrument: '`instrument(app)`', floor: 'floor: listener wrap + finish channel, doing nothing', spin: `calibration: bare + ${process.env['BENCH_SPIN_NS'] ?? 1000} ns busy per request`, noop: "the framework's cheapest empty hook" };
/** More variants for every framework, e.g. BENCH_EXTRA_VARIANTS=floor,noop (see bench/servers/hello.ts). */
export const EXTRA_VARIANTS_EVERYWHERE = (process.env['BENCH_EXTRA_VARIANTS'] ?? '').split(/,(?![^{]*})/).filter(Boolean);
/**
 * A variant as the server takes it: `lookout:{"metrics":{"inFlight":false}}` passes lookout
 * options (see bench/servers/hello.ts); `lookout@../old` runs the server of another checkout
 * (a `git worktree` of an earlier commit, with node_modules linked), so two versions of
 * lookout are compared in the same rounds.
 */
export function serverArgs(variant: string): { script: string; name: string; env: Record<string, string> } {
  const colon = variant.indexOf(':');
  const [head, options] = colon < 0 ? [variant, undefined] : [variant.slice(0, colon), variant.slice(colon + 1)];
  const at = head.indexOf('@');
  return {
    script: at < 0 ? 'bench/servers/hello.ts' : `${head.slice(at + 1)}/bench/servers/hello.ts`,
    name: at < 0 ? head : head.slice(0, at),
    env: options === undefined ? {} : { BENCH_LOOKOUT_OPTIONS: options },
  };
}

/**
 * V8 flags for every server process alike: none by default, as users run node.
 * `BENCH_NODE_FLAGS` sets others; `BENCH_FIXED_YOUNG=1` adds a second pass of
 * every framework with {@link FIXED_YOUNG_FLAGS} as extra rows.
 */
export const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
/**
 * A fixed young generation, the flags this bench used by default until issue 25: V8
 * sizes the young generation by what a process allocates, which alone moved a bare
 * hello-world by up to 14 % between processes (BENCHMARKS.md); no user sets them.
 */
export const FIXED_YOUNG_FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
/** The flag sets the HTTP section runs, each a pass over every framework. */
export const FLAG_SETS: readonly (readonly string[])[] = process.env['BENCH_FIXED_YOUNG'] === '1' ? [NODE_FLAGS, FIXED_YOUNG_FLAGS] : [NODE_FLAGS];
/** Only this checkout's hello-world answers SIGUSR2 by counting its allocations. */
const countsAllocations = (variant: string): boolean => serverArgs(variant).script === 'bench/servers/hello.ts';
const PEERS: Record<string, string> = {
  fastify: 'fastify-metrics 12',
  express: 'express-prom-bundle 8',
  hono: '@hono/prometheus 1',
  node: 'prom-client 15 by hand',
};

/**
 * How a round measures its variants. `alternating` (default): one after another, each alone
 * on the server CPU with all 50 connections; on a shared machine its per-round ratios wander by
 * ±40 %. `simultaneous` (`BENCH_HTTP_MODE=simultaneous`): all at once, every server on the same
 * CPU with an equal share of the connections, so whatever slows the machine down in that second
 * slows every variant alike. If the scheduler gave every server the same CPU time, each one's
 * throughput would be inversely proportional to its CPU cost per request; it does not quite: a
 * cheaper server waits more often on the shared load generator, leaves CPU time to the others,
 * and its advantage reads smaller (session 6: node:http's lookout 0.971 by throughput, 0.935 by
 * CPU per request, in the same rounds). Both modes read each server's CPU time from /proc
 * around its load and give the CPU-per-request ratio beside the throughput ratio: in this
 * mode that figure is the cost and the throughput ratio an upper bound. The `spin` variant (the bare
 * app plus `BENCH_SPIN_NS` of busy waiting per request) always runs in this mode as a check.
 */
export const MODE = process.env['BENCH_HTTP_MODE'] === 'simultaneous' ? 'simultaneous' : 'alternating';
const CONNECTIONS = 50;

/** Loads `/users/42` on 127.0.0.1 with autocannon; returns the average req/s (throws on any non-2xx or error). */
export async function load(port: number, seconds: number, connections = CONNECTIONS): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`bench run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.average;
}

/** Runs the HTTP benchmark; returns markdown table rows. */
export async function runHttpBench(): Promise<string[]> {
  const rows: string[] = [];
  for (const flags of FLAG_SETS) rows.push(...(await runHttpPass(flags)));
  return rows;
}

/** One pass over every framework with the servers started with `flags`. */
async function runHttpPass(flags: readonly string[]): Promise<string[]> {
  const rows: string[] = [];
  const flagNote = flags === NODE_FLAGS ? '' : `, ${flags.join(' ')}`;
  for (const framework of FRAMEWORKS) {
    const calibration = MODE === 'simultaneous' && !EXTRA_VARIANTS_EVERYWHERE.includes('spin') ? ['spin'] : [];
    const extras = [...(EXTRA_VARIANTS[framework] ?? []), ...EXTRA_VARIANTS_EVERYWHERE, ...calibration];
    const variants = [...VARIANTS, ...extras];
    const throughput: Record<string, number[]> = Object.fromEntries(variants.map((variant) => [variant, []]));
    /** CPU µs per request of each server, per round (from /proc around its load). */
    const cpu: Record<string, number[]> = Object.fromEntries(variants.map((variant) => [variant, []]));
    /** Bytes allocated on each server's JavaScript heap per request, per round (bench/servers/hello.ts's SIGUSR2). */
    const allocated: Record<string, number[]> = Object.fromEntries(variants.map((variant) => [variant, []]));
    const unpin = pinLoader();
    try {
      await inRounds({ start: () => Promise.all(variants.map((variant) => serverArgs(variant)).map(({ script, name, env }) => startServer(script, [framework, name], flags, env, SERVER_CPU))), warm: (server) => load(server.port, WARMUP_SECONDS), rounds: ROUNDS }, async (servers, round) => {
        const busy = (index: number): number => {
          const { user, system } = cpuMicros(servers[index]!.child.pid!);
          return user + system;
        };
        /** One server's req/s and the CPU µs it used for them. */
        const record = (index: number, value: number, micros: number, bytes: number | undefined): void => {
          throughput[variants[index]!]!.push(value);
          cpu[variants[index]!]!.push(micros / (value * SECONDS));
          if (bytes !== undefined) allocated[variants[index]!]!.push(bytes / (value * SECONDS));
        };
        const counting = (index: number): Promise<(() => Promise<number>) | undefined> =>
          countsAllocations(variants[index]!) ? countAllocations(servers[index]!.child) : Promise.resolve(undefined);
        if (MODE === 'simultaneous') {
          const share = Math.max(1, Math.round(CONNECTIONS / servers.length));
          const stops = await Promise.all(servers.map((_, index) => counting(index)));
          const before = servers.map((_, index) => busy(index));
          const results = await Promise.all(servers.map((server) => load(server.port, SECONDS, share)));
          const spent = servers.map((_, index) => busy(index) - before[index]!);
          const bytes = await Promise.all(stops.map((stop) => stop?.()));
          results.forEach((value, index) => record(index, value, spent[index]!, bytes[index]));
        } else {
          for (const index of rotation(servers.length, round)) {
            const stop = await counting(index);
            const before = busy(index);
            const value = await load(servers[index]!.port, SECONDS);
            const spent = busy(index) - before;
            record(index, value, spent, await stop?.());
          }
        }
      });
    } finally {
      unpin();
    }
    /** Median of the per-round ratios of bare's CPU per request to the variant's: what its throughput alone on a CPU would be. */
    const cpuRatio = (variant: string): number => median(cpu[variant]!.map((micros, round) => cpu['bare']![round]! / micros));
    const cpuNote = (variant: string): string =>
      (cpu[variant]!.length === 0 ? '' : `; CPU per request ${median(cpu['bare']!).toFixed(1)} → ${median(cpu[variant]!).toFixed(1)} µs, ratio ${cpuRatio(variant).toFixed(3)}`) +
      (allocated[variant]!.length === 0 || allocated['bare']!.length === 0 ? '' : `; heap allocated per request ${Math.round(median(allocated['bare']!))} → ${Math.round(median(allocated[variant]!))} B`);
    const bytesPerRequest = Object.fromEntries(Object.entries(allocated).filter(([, values]) => values.length > 0).map(([variant, values]) => [variant, Math.round(median(values))]));
    const bare = median(throughput['bare']!);
    const lookout = median(throughput['lookout']!);
    const peer = median(throughput['peer']!);
    // Per-round ratios against the bare run of the same round: the spread of what matters.
    const lookoutRatios = throughput['lookout']!.map((value, round) => value / throughput['bare']![round]!);
    const peerRatios = throughput['peer']!.map((value, round) => value / throughput['bare']![round]!);
    // Each round runs every variant back to back, so a round's ratio is a paired
    // comparison: its median resists the machine's drift better than a ratio of medians.
    const lookoutRatio = median(lookoutRatios);
    const peerRatio = median(peerRatios);
    const cpuPerRequest = Object.fromEntries(Object.entries(cpu).filter(([, values]) => values.length > 0).map(([variant, values]) => [variant, Number(median(values).toFixed(2))]));
    emit({ bench: 'http', framework, processes: FRESH ? 'fresh each round' : 'one per variant', mode: MODE, bare, lookout, peer, peerName: PEERS[framework], lookoutRatio, peerRatio, ratioOfMedians: lookout / bare, lookoutRatios, peerRatios, rounds: ROUNDS, seconds: SECONDS, throughput, cpuMicrosPerRequest: cpuPerRequest, lookoutCpuRatio: cpuRatio('lookout'), bytesPerRequest, nodeFlags: flags.join(' ') });
    const name = `${framework === 'hono' ? 'hono (`instrument(app)`)' : framework}${flagNote}`;
    rows.push(
      `| ${name} | ${Math.round(bare)} (${spread(throughput['bare']!)}) | ${Math.round(lookout)} (${spread(throughput['lookout']!)}) | **${lookoutRatio.toFixed(3)}** (${spread(lookoutRatios, 2)})${cpuNote('lookout')} | ${PEERS[framework]}: ${Math.round(peer)} (${spread(throughput['peer']!)}) | ${peerRatio.toFixed(3)} (${spread(peerRatios, 2)}) |`,
    );
    for (const variant of extras) {
      const values = throughput[variant]!;
      const value = median(values);
      const ratios = values.map((v, round) => v / throughput['bare']![round]!);
      emit({ bench: 'http', framework, variant, bare, lookout: value, lookoutRatio: median(ratios), ratioOfMedians: value / bare, lookoutRatios: ratios, rounds: ROUNDS, seconds: SECONDS, ...(cpu[variant]!.length > 0 ? { cpuRatio: cpuRatio(variant) } : {}) });
      rows.push(`| ${framework} (${EXTRA_NAMES[variant] ?? variant}, same rounds${flagNote}) | ${Math.round(bare)} | ${Math.round(value)} (${spread(values)}) | **${median(ratios).toFixed(3)}** (${spread(ratios, 2)})${cpuNote(variant)} | | |`);
    }
  }
  return rows;
}

/** Header of the table {@link runHttpBench} fills. */
export const HTTP_TABLE_HEADER = [
  '| framework | bare req/s, median (spread) | + lookout req/s | lookout / bare: median of per-round ratios (spread) | + peer req/s | peer / bare: median of per-round ratios (spread) |',
  '|---|---|---|---|---|---|',
];

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runHttpBench();
  console.log([...HTTP_TABLE_HEADER, ...rows].join('\n'));
}
