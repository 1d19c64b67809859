/**
 * Server CPU time per request, bare vs instrumented: a steadier figure than
 * throughput on a shared 2-core box, because it does not depend on how the
 * scheduler splits the cores between the load generator and the server.
 * Reads each server's utime + stime (all threads, GC included) from
 * /proc/<pid>/stat around each load run; variants are interleaved per round.
 *
 *   npx tsx bench/cost.ts                                 (node:http, bare vs lookout)
 *   BENCH_FRAMEWORKS=fastify,hono npx tsx bench/cost.ts
 *   BENCH_VARIANTS='bare;lookout;lookout:{"exemplars":false}' npx tsx bench/cost.ts
 */
import autocannon from 'autocannon';
import { NODE_FLAGS, serverArgs } from './http.js';
import { cpuMicros, emit, inRounds, median, ROUNDS, SECONDS, type Server, spread, startServer, rotation, WARMUP_SECONDS } from './lib.js';

const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'node').split(',');
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'bare;lookout').split(';');

async function load(port: number, seconds: number): Promise<number> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: 50, duration: seconds, pipelining: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`run had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result.requests.total;
}

for (const framework of FRAMEWORKS) {
  const cost: number[][] = VARIANTS.map(() => []);
  const user: number[][] = VARIANTS.map(() => []);
  const rate: number[][] = VARIANTS.map(() => []);
  const start = (variant: string): Promise<Server> => {
    const { script, name, env } = serverArgs(variant);
    return startServer(script, [framework, name], NODE_FLAGS, env);
  };
  await inRounds({ start: () => Promise.all(VARIANTS.map(start)), warm: (server) => load(server.port, WARMUP_SECONDS), rounds: ROUNDS }, async (servers, round) => {
    for (const index of rotation(servers.length, round)) {
      const { child, port } = servers[index]!;
      const before = cpuMicros(child.pid!);
      const requests = await load(port, SECONDS);
      const after = cpuMicros(child.pid!);
      cost[index]!.push((after.user + after.system - before.user - before.system) / requests);
      user[index]!.push((after.user - before.user) / requests);
      rate[index]!.push(requests / SECONDS);
    }
  });
  const base = median(cost[0]!);
  VARIANTS.forEach((variant, index) => {
    const us = median(cost[index]!);
    const extraNs = cost[index]!.map((value, round) => (value - cost[0]![round]!) * 1000);
    const extraUserNs = user[index]!.map((value, round) => (value - user[0]![round]!) * 1000);
    emit({ bench: 'cost', framework, variant, cpuMicrosPerRequest: us, userMicrosPerRequest: median(user[index]!), extraNsPerRequest: (us - base) * 1000, extraNsSpread: spread(extraNs), extraUserNs: median(extraUserNs), extraUserNsSpread: spread(extraUserNs), requestsPerSecond: median(rate[index]!), ratio: median(rate[index]!) / median(rate[0]!), pairedRatio: median(rate[index]!.map((value, round) => value / rate[0]![round]!)) });
  });
}
