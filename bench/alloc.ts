/**
 * Bytes allocated on the JavaScript heap per request, bare vs lookout, for each
 * framework's hello-world (bench/servers/hello.ts), with Node's default flags.
 *
 * Each server is warmed up, then told (SIGUSR2) to start v8's GC profiler; a fixed
 * number of keep-alive requests is sent; a second SIGUSR2 stops it and the server
 * prints what was allocated meanwhile: what the collections freed plus how much the
 * used heap grew. Like the instruction counts (bench/instructions.ts), the figure
 * does not move with the machine's load; unlike them it says what a request leaves
 * for the garbage collector, whose pauses land on other requests.
 *
 *   npx tsx bench/alloc.ts                                  (every framework, bare vs lookout, 3 processes each)
 *   BENCH_FRAMEWORKS=node BENCH_VARIANTS='bare;lookout;floor' npx tsx bench/alloc.ts
 *   npx tsx bench/alloc.ts --node ~/.cache/lookout-node/24/bin/node   (on another Node.js line)
 */
import autocannon from 'autocannon';
import { serverArgs } from './http.js';
import { countAllocations, emit, median, onBenchNode, startServer, stopServer } from './lib.js';

const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'fastify,express,hono,node').split(',');
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'bare;lookout').split(';');
const PROCESSES = Number(process.env['BENCH_ROUNDS'] ?? 3);
const WARMUP = Number(process.env['BENCH_WARMUP_REQUESTS'] ?? 30_000);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 50_000);
/** Node's default flags unless asked otherwise: what users run. */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);

async function load(port: number, amount: number): Promise<void> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: 10, amount, timeout: 30 });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) throw new Error(`load had ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
}

/** One server process: bytes allocated per request over {@link REQUESTS} after warm-up. */
async function measure(framework: string, variant: string): Promise<number> {
  const { script, name, env } = serverArgs(variant);
  const server = await startServer(script, [framework, name], NODE_FLAGS, env, '');
  try {
    await load(server.port, WARMUP);
    const stop = await countAllocations(server.child);
    await load(server.port, REQUESTS);
    return (await stop()) / REQUESTS;
  } finally {
    await stopServer(server.child);
  }
}

const code = await onBenchNode();
if (code !== undefined) process.exit(code);

for (const framework of FRAMEWORKS) {
  const bytes: Record<string, number[]> = Object.fromEntries(VARIANTS.map((variant) => [variant, []]));
  // Interleaved: one process of each variant per round.
  for (let round = 0; round < PROCESSES; round++) {
    for (const variant of VARIANTS) bytes[variant]!.push(await measure(framework, variant));
  }
  for (const variant of VARIANTS) {
    const values = bytes[variant]!;
    emit({
      bench: 'alloc',
      node: process.version,
      framework,
      variant,
      requests: REQUESTS,
      bytesPerRequest: Math.round(median(values)),
      spread: `${Math.round(Math.min(...values))}–${Math.round(Math.max(...values))}`,
      extraBytesPerRequest: Math.round(median(values) - median(bytes[VARIANTS[0]!]!)),
    });
  }
}
