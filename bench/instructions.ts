/**
 * Instructions per request, counted by valgrind's callgrind: a figure that does not move
 * with the machine's load, where throughput and CPU time on this shared 2-core box vary
 * by more than the few per cent in question (BENCHMARKS.md, "Where the HTTP cost goes").
 *
 * Each variant's hello-world server runs under `valgrind --tool=callgrind`; after a warm-up
 * (so the JIT has settled) the counters are zeroed, a fixed number of keep-alive requests is
 * sent, and the counters are dumped: every instruction the server process executed for those
 * requests, in all its threads (GC included), divided by their number. With
 * `BENCH_CACHE_SIM=1` callgrind also simulates the caches and the first-level and last-level
 * data misses per request are printed: a simulation of a generic cache, not this CPU's.
 *
 * Each row also gives lookout's own share: the instructions of its functions (found through
 * node's `--perf-basic-prof` map of JIT code) and of what they call outside JavaScript, with
 * the costliest functions. Two processes of the same server can differ by several per cent in
 * total instructions (V8 inlines and optimises node's own code differently from one process
 * to the next), so compare totals over several processes (`BENCH_VARIANTS='bare;bare;lookout;lookout'`);
 * lookout's own count is steady to about 1 %.
 *
 * Instructions are not time (a cache miss is one instruction and a hundred cycles), so this
 * answers "how much work does lookout add" exactly and "how much time" only together with
 * the throughput runs. Needs valgrind (`apt-get install valgrind`).
 *
 *   npx tsx bench/instructions.ts                                   (every framework, bare vs lookout)
 *   BENCH_FRAMEWORKS=fastify BENCH_VARIANTS='bare;floor;lookout' npx tsx bench/instructions.ts
 *   BENCH_REQUESTS=20000 BENCH_CACHE_SIM=1 npx tsx bench/instructions.ts
 *   BENCH_CALLGRIND_KEEP=/tmp/cg npx tsx bench/instructions.ts                 (keep each dump and perf map)
 *   BENCH_CALLGRIND_READ=/tmp/cg/node-lookout-1234 BENCH_REQUESTS=10000 npx tsx bench/instructions.ts   (read one again)
 *   npx tsx bench/instructions.ts --node ~/.cache/lookout-node/24/bin/node                   (servers on another Node.js line)
 *   BENCH_CALLGRIND_DIFF=/tmp/cg/fastify-bare-1,/tmp/cg/fastify-lookout-2 npx tsx bench/instructions.ts   (where two kept dumps differ, by function)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { NODE_FLAGS, serverArgs } from './http.js';
import { emit, onBenchNode, startServer, stopServer } from './lib.js';

const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'fastify,express,hono,node').split(',');
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'bare;lookout').split(';');
const WARMUP = Number(process.env['BENCH_WARMUP_REQUESTS'] ?? 20_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 10_000);
const CACHE_SIM = process.env['BENCH_CACHE_SIM'] === '1';
/** A folder to keep each run's callgrind dump and perf map in, for `callgrind_annotate` and the like. */
const KEEP = process.env['BENCH_CALLGRIND_KEEP'];
/** Few connections: under valgrind a request takes about a millisecond. */
const CONNECTIONS = 10;

async function load(port: number, amount: number): Promise<void> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: CONNECTIONS, amount, timeout: 60 });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`load had ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
}

/** Runs callgrind_control against the server and waits for it to answer. */
function control(flag: string, pid: number): void {
  execFileSync('callgrind_control', [flag, String(pid)], { stdio: 'ignore', timeout: 120_000 });
}

/** A JIT code range from node's `--perf-basic-prof` map: start address, size, name, line in the map. */
type CodeRange = readonly [number, number, string, number];
/** The ranges by start address, and the longest one (how far back a range holding an address can start). */
interface CodeMap {
  readonly ranges: readonly CodeRange[];
  readonly longest: number;
}

function parsePerfMap(text: string): CodeMap {
  const ranges = text.split('\n').flatMap((line, order): CodeRange[] => {
    const [start, size, ...name] = line.split(' ');
    return start === undefined || size === undefined || name.length === 0 ? [] : [[Number.parseInt(start, 16), Number.parseInt(size, 16), name.join(' '), order]];
  }).sort((a, b) => a[0] - b[0]);
  return { ranges, longest: ranges.reduce((longest, range) => Math.max(longest, range[1]), 0) };
}

function readPerfMap(pid: number): CodeMap {
  const file = `/tmp/perf-${pid}.map`;
  try {
    return parsePerfMap(readFileSync(file, 'utf8'));
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * The JS function whose code holds `address`. V8 reuses the memory of code it has thrown
 * away, so several ranges of the map can hold one address: the last one written (the
 * latest line of the map) is the code that ran there when the counters were dumped.
 */
function codeAt(map: CodeMap, address: number): string | undefined {
  const { ranges, longest } = map;
  let low = 0;
  let high = ranges.length - 1;
  // The last range that starts at or before the address...
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (ranges[middle]![0] <= address) low = middle + 1;
    else high = middle - 1;
  }
  // ...and every earlier one long enough to reach it: the latest written wins.
  let found: CodeRange | undefined;
  for (let index = high; index >= 0 && ranges[index]![0] + longest > address; index--) {
    const range = ranges[index]!;
    if (address < range[0] + range[1] && (found === undefined || range[3] > found[3])) found = range;
  }
  return found?.[2];
}

/** A callgrind dump read once: function names by id, each function's own cost, and its calls' costs by callee. */
interface Dump {
  readonly totals: Record<string, number>;
  readonly names: Map<string, string>;
  readonly self: Map<string, number>;
  readonly calls: Map<string, Map<string, number>>;
}

function parseDump(dump: string): Dump {
  const names = new Map<string, string>();
  const self = new Map<string, number>();
  const calls = new Map<string, Map<string, number>>();
  let fn = '';
  let callee = '';
  let inCall = false;
  const named = (line: string, prefix: string): string => {
    const match = /^\w+=\((\d+)\)(?: (.*))?$/.exec(line);
    if (match === null) return line.slice(prefix.length);
    if (match[2] !== undefined) names.set(match[1]!, match[2]);
    return match[1]!;
  };
  for (const line of dump.split('\n')) {
    if (line.startsWith('fn=')) fn = named(line, 'fn=');
    else if (line.startsWith('cfn=')) callee = named(line, 'cfn=');
    else if (line.startsWith('calls=')) inCall = true;
    else if (/^[0-9+*-]/.test(line)) {
      const cost = Number(line.split(' ')[1] ?? 0);
      if (inCall) {
        const byCallee = calls.get(fn) ?? new Map<string, number>();
        byCallee.set(callee, (byCallee.get(callee) ?? 0) + cost);
        calls.set(fn, byCallee);
        inCall = false;
      } else {
        self.set(fn, (self.get(fn) ?? 0) + cost);
      }
    }
  }
  return { totals: totals(dump), names, self, calls };
}

/**
 * Instructions spent in lookout's own code (functions from `src/`): their own instructions
 * plus what they call outside JavaScript (V8 builtins, node's C++) and in node's own modules. Code
 * inlined into a lookout function counts as its own, so with `BENCH_NODE_FLAGS` including
 * `--no-turbo-inlining` the split by function is exact (and the total a little higher).
 */
function ownInstructions({ names, self, calls }: Dump, map: CodeMap): Map<string, number> {
  const label = (id: string): string => {
    const name = names.get(id) ?? id;
    const address = /^0x([0-9a-f]+)/.exec(name);
    return address === null ? name : codeAt(map, Number.parseInt(address[1]!, 16)) ?? name;
  };
  const source = `file://${process.cwd()}/src/`;
  const isOurs = (name: string): boolean => name.startsWith('JS:') && name.includes(source);
  // What lookout calls in node itself (the clock, the socket's byte count) is its cost; the
  // app's handler and the framework, which an adapter calls on, are not.
  const counts = (name: string): boolean => !name.startsWith('JS:') || name.includes(' node:');
  const own = new Map<string, number>();
  for (const id of new Set([...self.keys(), ...calls.keys()])) {
    const name = label(id);
    if (!isOurs(name)) continue;
    let cost = self.get(id) ?? 0;
    for (const [calleeId, callCost] of calls.get(id) ?? []) if (counts(label(calleeId))) cost += callCost;
    const short = name.replace(/^JS:[*~^]?/, '').replace(source, 'src/').replace(/:\d+:\d+$/, '');
    own.set(short, (own.get(short) ?? 0) + cost);
  }
  return own;
}

/**
 * V8's garbage collector: its marking, sweeping, evacuation and scavenging code and their helpers.
 * A major collection that falls into the counted window adds thousands of instructions per
 * request to that process alone; under valgrind a process runs ~50× slower, so V8's timer-driven
 * collections fall where they would not natively (session 7: two Hono `instrument(app)` processes
 * counted ~10,500 per request of marking and sweeping that the bare ones, and a native
 * `--trace-gc` run of either, did not have). Compare totals without it. The roots every scavenge
 * visits count too (`IterateObjectCache`: on Node 26, ~0.4 M instructions a scavenge): a Fastify
 * lookout server under callgrind ran 57 scavenges in 10,000 requests where its bare twin ran 8,
 * while natively both run the same number (75 and 76 in 100,000 requests, `--trace-gc`): work on
 * timers, stretched ~50× by valgrind, allocates per second, not per request.
 */
const GC_FUNCTION = /^(?:(?:void |auto |bool )?v8::internal::\S*(?:Marking|Marker|MarkCompact|Sweep|Evacuat|Scaveng|RememberedSet|MemoryChunk|PointersUpdating|RecordMigrated|BodyDescriptor|SizeFromMap|SlotSet|WhiteToGrey|Heap::)|v8::internal::\(anonymous namespace\)::IterateObjectCache|heap::base::|std::__detail::_Map_base<v8::internal::MemoryChunk)/;

/**
 * V8's optimising compilers (TurboFan with Turboshaft, Maglev), on their background threads or
 * not. A process still tiering up when the counters are zeroed compiles inside the counted
 * window, and how much differs by process: on Node 24, Hono's and Express's hello-worlds after
 * 60,000 warm-up requests under callgrind still spent 7,300–10,900 instructions per request
 * compiling (BENCHMARKS.md, "Node 24 counted without the compiler"), more than lookout's own
 * code costs. Compare totals without it (`withoutGcOrJit`) when the processes of one variant
 * disagree.
 */
const JIT_FUNCTION = /v8::internal::(?:compiler|maglev)::/;

/** The instructions of the functions whose names match `pattern` (their own, not their callees'). */
function instructionsIn({ names, self }: Dump, pattern: RegExp): number {
  let total = 0;
  for (const [id, cost] of self) if (pattern.test(names.get(id) ?? '')) total += cost;
  return total;
}

/** Totals of the newest dump: `{ Ir, D1mr, ... }`. */
function newestDump(directory: string): string {
  const dumps = readdirSync(directory).filter((name) => /\.\d+$/.test(name)).sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()));
  return readFileSync(join(directory, dumps.at(-1)!), 'utf8');
}

function totals(text: string): Record<string, number> {
  const events = /^events: (.*)$/m.exec(text)![1]!.trim().split(/\s+/);
  const values = /^totals: (.*)$/m.exec(text)![1]!.trim().split(/\s+/).map(Number);
  return Object.fromEntries(events.map((event, index) => [event, values[index] ?? 0]));
}

async function measure(framework: string, variant: string): Promise<{ dump: Dump; own: Map<string, number> }> {
  const directory = mkdtempSync(join(tmpdir(), 'lookout-callgrind-'));
  const valgrind = ['valgrind', '-q', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${join(directory, 'callgrind.out')}`, ...(CACHE_SIM ? ['--cache-sim=yes'] : [])];
  const { script, name, env } = serverArgs(variant);
  // The server's pid is valgrind's (it execs nothing); no pinning: only instructions count here.
  const server = await startServer(script, [framework, name], [...NODE_FLAGS, '--perf-basic-prof'], env, '', { prefix: valgrind, startSeconds: 300 });
  let dump: string;
  try {
    await load(server.port, WARMUP);
    control('--zero', server.child.pid!);
    await load(server.port, REQUESTS);
    control('--dump', server.child.pid!);
    dump = newestDump(directory);
  } finally {
    await stopServer(server.child);
    rmSync(directory, { recursive: true, force: true });
  }
  if (KEEP !== undefined) {
    mkdirSync(KEEP, { recursive: true });
    const stem = join(KEEP, `${framework}-${variant.replace(/[^\w.-]+/g, '_')}-${server.child.pid!}`);
    writeFileSync(`${stem}.callgrind`, dump);
    copyFileSync(`/tmp/perf-${server.child.pid!}.map`, `${stem}.perf.map`);
  }
  const parsed = parseDump(dump);
  return { dump: parsed, own: ownInstructions(parsed, readPerfMap(server.child.pid!)) };
}

/** Per-request figures of one dump, and lookout's top functions. */
function summary(dump: Dump, own: Map<string, number>): Record<string, unknown> {
  const counted = dump.totals;
  const gc = instructionsIn(dump, GC_FUNCTION);
  const jit = instructionsIn(dump, JIT_FUNCTION);
  const ownTotal = [...own.values()].reduce((sum, value) => sum + value, 0);
  const top = [...own].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, value]) => `${name} ${Math.round(value / REQUESTS)}`);
  return {
    instructionsPerRequest: Math.round((counted['Ir'] ?? 0) / REQUESTS),
    gcInstructions: Math.round(gc / REQUESTS),
    withoutGc: Math.round(((counted['Ir'] ?? 0) - gc) / REQUESTS),
    jitInstructions: Math.round(jit / REQUESTS),
    withoutGcOrJit: Math.round(((counted['Ir'] ?? 0) - gc - jit) / REQUESTS),
    lookoutInstructions: Math.round(ownTotal / REQUESTS),
    lookoutShare: Number((ownTotal / (counted['Ir'] ?? 1)).toFixed(4)),
    ...(top.length > 0 ? { lookoutTop: top.join('; ') } : {}),
  };
}

// `--node <path>` / BENCH_NODE: this script and its servers run on that binary.
const code = await onBenchNode();
if (code !== undefined) process.exit(code);

// `BENCH_CALLGRIND_READ=<dump without .callgrind>`: reads a kept dump and perf map again (BENCH_REQUESTS as when it was taken).
const READ = process.env['BENCH_CALLGRIND_READ'];
if (READ !== undefined) {
  const dump = parseDump(readFileSync(`${READ}.callgrind`, 'utf8'));
  emit({ bench: 'instructions', dump: READ, requests: REQUESTS, ...summary(dump, ownInstructions(dump, parsePerfMap(readFileSync(`${READ}.perf.map`, 'utf8')))) });
}

/**
 * `BENCH_CALLGRIND_DIFF=<dump a>,<dump b>` (kept dumps, without `.callgrind`): each function's own
 * instructions per request in both, JIT code named through the perf maps, and the functions that
 * differ most: where instructions go that are not lookout's own (node's channels, V8's builtins,
 * the collector) when a lookout server runs more than its bare twin.
 */
const DIFF = process.env['BENCH_CALLGRIND_DIFF'];
if (DIFF !== undefined) {
  const [a, b] = DIFF.split(',') as [string, string];
  const selfByName = (stem: string): Map<string, number> => {
    const dump = parseDump(readFileSync(`${stem}.callgrind`, 'utf8'));
    const map = parsePerfMap(readFileSync(`${stem}.perf.map`, 'utf8'));
    const byName = new Map<string, number>();
    for (const [id, cost] of dump.self) {
      const name = dump.names.get(id) ?? id;
      const address = /^0x([0-9a-f]+)/.exec(name);
      const label = (address === null ? name : codeAt(map, Number.parseInt(address[1]!, 16)) ?? 'JIT code (unnamed)').replace(/^JS:[*~^+]?/, '').replace(`file://${process.cwd()}/`, '');
      byName.set(label, (byName.get(label) ?? 0) + cost / REQUESTS);
    }
    return byName;
  };
  const before = selfByName(a);
  const after = selfByName(b);
  const rows = [...new Set([...before.keys(), ...after.keys()])].map((name) => ({ name, a: Math.round(before.get(name) ?? 0), b: Math.round(after.get(name) ?? 0) }));
  rows.sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
  const sum = (map: Map<string, number>): number => Math.round([...map.values()].reduce((total, value) => total + value, 0));
  emit({ bench: 'instructions-diff', a, b, requests: REQUESTS, totalA: sum(before), totalB: sum(after) });
  for (const row of rows.slice(0, Number(process.env['BENCH_DIFF_ROWS'] ?? 30))) console.log(`${String(row.b - row.a).padStart(7)} ${String(row.a).padStart(7)} ${String(row.b).padStart(7)}  ${row.name.slice(0, 140)}`);
}

for (const framework of READ === undefined && DIFF === undefined ? FRAMEWORKS : []) {
  let base: Record<string, number> | undefined;
  for (const variant of VARIANTS) {
    const { dump, own } = await measure(framework, variant);
    const counted = dump.totals;
    base ??= counted;
    const perRequest = (event: string): number => Math.round((counted[event] ?? 0) / REQUESTS);
    const extra = (event: string): number => Math.round(((counted[event] ?? 0) - (base![event] ?? 0)) / REQUESTS);
    emit({
      bench: 'instructions',
      node: process.version,
      framework,
      variant,
      requests: REQUESTS,
      ...summary(dump, own),
      extraInstructions: extra('Ir'),
      ratio: Number(((counted['Ir'] ?? 0) / (base['Ir'] ?? 1)).toFixed(4)),
      ...(CACHE_SIM ? { d1MissesPerRequest: perRequest('D1mr') + perRequest('D1mw'), extraD1Misses: extra('D1mr') + extra('D1mw'), llMissesPerRequest: perRequest('DLmr') + perRequest('DLmw'), extraLlMisses: extra('DLmr') + extra('DLmw') } : {}),
    });
  }
}
