/**
 * Where lookout's per-request time goes, from V8's CPU profiler rather than
 * from throughput (which a shared 2-core box makes noisy): runs the
 * hello-world bare and with lookout under `--cpu-prof`, sends each the same
 * number of requests, and prints the self time per request of every function
 * that differs, lookout's own functions first.
 *
 *   npx tsx bench/profile.ts                 (node:http, 200,000 requests)
 *   PROFILE_FRAMEWORK=fastify PROFILE_REQUESTS=300000 npx tsx bench/profile.ts
 *   PROFILE_KPI=discard npx tsx bench/profile.ts   (Fastify + KPI: `idle` against
 *     `discard` or `kpi`, the servers of bench/kpi-fastify.ts; `kpi` writes to
 *     LOOKOUT_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test)
 *
 * To keep server and load generator apart: `BENCH_SERVER_CPU=0 taskset -c 1
 * npx tsx bench/profile.ts`. Sampling adds its own overhead; compare the two
 * variants, not the absolute numbers.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { emit, startServer, stopServer } from './lib.js';

const KPI = process.env['PROFILE_KPI'];
const FRAMEWORK = KPI === undefined ? process.env['PROFILE_FRAMEWORK'] ?? 'node' : `fastify + kpi (${KPI})`;
const PG_URL = process.env['LOOKOUT_BENCH_PG_URL'] ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `kpi_profile_${process.pid}`;
/** The two servers compared: [script, arguments] for the base and the instrumented one. */
const SERVERS: Record<'bare' | 'lookout', [string, string[]]> = KPI === undefined
  ? { bare: ['bench/servers/hello.ts', [FRAMEWORK, 'bare']], lookout: ['bench/servers/hello.ts', [FRAMEWORK, 'lookout']] }
  : {
    bare: ['bench/kpi-server.ts', ['idle', PG_URL, `${SCHEMA}_idle`, 'lookout-profile-idle']],
    lookout: ['bench/kpi-server.ts', [KPI, PG_URL, SCHEMA, 'lookout-profile']],
  };
const REQUESTS = Number(process.env['PROFILE_REQUESTS'] ?? 200_000);
const FLAGS = ['--min-semi-space-size=16', '--max-semi-space-size=16', '--cpu-prof'];

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time in microseconds by `function file:line`. */
function selfTimes(profile: CpuProfile): Map<string, number> {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = frames.get(id)!;
    const file = frame.url.replace(/^.*\/(src|node_modules|bench)\//, '$1/');
    const key = `${frame.functionName || '(anonymous)'} ${file}${file === '' ? '' : `:${frame.lineNumber + 1}`}`;
    times.set(key, (times.get(key) ?? 0) + (profile.timeDeltas[index] ?? 0));
  });
  return times;
}

async function profile(variant: 'bare' | 'lookout'): Promise<Map<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-profile-'));
  const [script, args] = SERVERS[variant];
  const { child, port } = await startServer(script, args, [...FLAGS, `--cpu-prof-dir=${dir}`]);
  try {
    const url = `http://127.0.0.1:${port}/users/42`;
    await autocannon({ url, connections: 50, amount: 30_000 }); // warm-up (JIT)
    await autocannon({ url, connections: 50, amount: REQUESTS });
  } finally {
    await stopServer(child);
  }
  const file = (await readdir(dir)).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no profile written for ${variant}`);
  const times = selfTimes(JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile);
  await rm(dir, { recursive: true });
  return times;
}

const bare = await profile('bare');
const lookout = await profile('lookout');
if (KPI !== undefined) {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  for (const schema of [SCHEMA, `${SCHEMA}_idle`]) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
}
const total = REQUESTS + 30_000;
const perRequest = (micros: number) => (micros * 1000) / total; // ns
const busy = (times: Map<string, number>) => [...times].filter(([key]) => !key.startsWith('(idle)')).reduce((sum, [, value]) => sum + value, 0);
const rows = [...new Set([...bare.keys(), ...lookout.keys()])]
  .map((key) => ({ key, bare: perRequest(bare.get(key) ?? 0), lookout: perRequest(lookout.get(key) ?? 0) }))
  .filter((row) => !row.key.startsWith('(idle)'));
const own = rows.filter((row) => row.key.includes(' src/')).sort((a, b) => b.lookout - a.lookout);
const ownTotal = own.reduce((sum, row) => sum + row.lookout, 0);
console.log(`${FRAMEWORK}: busy ns per request, bare ${perRequest(busy(bare)).toFixed(0)}, lookout ${perRequest(busy(lookout)).toFixed(0)}; lookout's own functions ${ownTotal.toFixed(0)} ns`);
for (const row of own) console.log(`${row.lookout.toFixed(1).padStart(8)} ns  ${row.key}`);
console.log('largest other differences (lookout − bare, ns per request):');
for (const row of rows.filter((r) => !r.key.includes(' src/')).sort((a, b) => Math.abs(b.lookout - b.bare) - Math.abs(a.lookout - a.bare)).slice(0, 12)) {
  console.log(`${(row.lookout - row.bare).toFixed(1).padStart(8)} ns  ${row.key}`);
}
emit({ bench: 'profile', framework: FRAMEWORK, requests: total, busyNsBare: perRequest(busy(bare)), busyNsLookout: perRequest(busy(lookout)), ownNs: ownTotal });
