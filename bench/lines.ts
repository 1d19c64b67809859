/**
 * Node.js lines side by side, in the same run: the HTTP hello-world bare vs +
 * lookout for every framework, each server on each line, interleaved in every
 * round; then KPI ingest (PostgreSQL COPY and PGlite, in the process, so the
 * whole KPI benchmark runs on each line in turn, the lines rotated per round).
 * Servers run with node's default flags (no semi-space sizing). Writes the
 * `lines` section of BENCHMARKS.md.
 *
 *   npx tsx bench/lines.ts                         this node, 24 and 26 (scripts/node-lines.sh --path)
 *   npx tsx bench/lines.ts --node /a/node --node /b/node   (or BENCH_NODES=/a/node,/b/node)
 *   BENCH_ROUNDS=5 BENCH_SECONDS=3 BENCH_LINES_PARTS=http,kpi npx tsx bench/lines.ts
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { load } from './http.js';
import { cpuMicros, emit, inRounds, median, pinLoader, ROUNDS, rotation, SECONDS, SERVER_CPU, spread, startServer, WARMUP_SECONDS, writeSection } from './lib.js';

const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'fastify,express,hono,node').split(',');
const VARIANTS = ['bare', 'lookout'] as const;
const PARTS = new Set((process.env['BENCH_LINES_PARTS'] ?? 'http,kpi').split(','));
const KPI_ROUNDS = Math.min(ROUNDS, 3);

/** The node binaries to compare: `--node` (repeated), BENCH_NODES, or this node with lines 24 and 26. */
export function lineNodes(argv: readonly string[] = process.argv, env: NodeJS.ProcessEnv = process.env): string[] {
  const given = argv.flatMap((arg, index) => (argv[index - 1] === '--node' ? [arg] : []));
  if (given.length > 0) return given;
  if (env['BENCH_NODES']) return env['BENCH_NODES'].split(',');
  const cached = ['24', '26'].map((major) => execFileSync('scripts/node-lines.sh', ['--path', major], { encoding: 'utf8' }).trim());
  return [process.execPath, ...cached];
}

function versionOf(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

/** Per framework and line: req/s and CPU µs per request of bare and lookout, round by round. */
async function httpRows(nodes: readonly string[], versions: readonly string[]): Promise<string[]> {
  const rows: string[] = [];
  for (const framework of FRAMEWORKS) {
    const servers = nodes.flatMap((node, line) => VARIANTS.map((variant) => ({ node, line, variant })));
    const throughput = servers.map((): number[] => []);
    const cpu = servers.map((): number[] => []);
    const unpin = pinLoader();
    try {
      await inRounds({ start: () => Promise.all(servers.map(({ node, variant }) => startServer('bench/servers/hello.ts', [framework, variant], [], {}, SERVER_CPU, { prefix: [], startSeconds: 30, node }))), warm: (server) => load(server.port, WARMUP_SECONDS), rounds: ROUNDS }, async (started, round) => {
        for (const index of rotation(started.length, round)) {
          const pid = started[index]!.child.pid!;
          const before = cpuMicros(pid);
          const value = await load(started[index]!.port, SECONDS);
          const after = cpuMicros(pid);
          throughput[index]!.push(value);
          cpu[index]!.push((after.user + after.system - before.user - before.system) / (value * SECONDS));
        }
      });
    } finally {
      unpin();
    }
    for (let line = 0; line < nodes.length; line++) {
      const [bare, lookout] = [line * 2, line * 2 + 1];
      const ratios = throughput[lookout]!.map((value, round) => value / throughput[bare]![round]!);
      const cpuRatios = cpu[lookout]!.map((micros, round) => cpu[bare]![round]! / micros);
      emit({ bench: 'lines', framework, node: versions[line], bare: throughput[bare], lookout: throughput[lookout], cpuBare: cpu[bare], cpuLookout: cpu[lookout], lookoutRatio: median(ratios), cpuRatio: median(cpuRatios) });
      rows.push(`| ${framework} | ${versions[line]} | ${Math.round(median(throughput[bare]!))} (${spread(throughput[bare]!)}) | ${Math.round(median(throughput[lookout]!))} (${spread(throughput[lookout]!)}) | **${median(ratios).toFixed(3)}** (${spread(ratios, 2)}) | ${median(cpu[bare]!).toFixed(1)} → ${median(cpu[lookout]!).toFixed(1)} | ${median(cpuRatios).toFixed(3)} (${spread(cpuRatios, 2)}) |`);
    }
  }
  return rows;
}

/** One round of bench/kpi.ts's ingest parts on `node`: events/s by name from its JSON lines. */
async function kpiRound(node: string): Promise<Record<string, number>> {
  const child = spawn(node, ['--import', 'tsx', 'bench/kpi.ts'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_KPI_PARTS: 'ingest,pglite', BENCH_ROUNDS: '1' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/kpi.ts on ${node} exited with ${code}`);
  const results: Record<string, number> = {};
  for (const line of output.split('\n').filter((text) => text.startsWith('{'))) {
    const result = JSON.parse(line) as { name?: string; eventsPerSecond?: number[] | Record<string, number[]> };
    const rates = result.eventsPerSecond;
    if (result.name === 'pg_ingest' && rates !== undefined && !Array.isArray(rates)) {
      for (const [dedupe, values] of Object.entries(rates)) results[`pg ${dedupe}`] = values[0]!;
    } else if (result.name === 'pglite_ingest' && Array.isArray(rates)) {
      results['pglite'] = rates[0]!;
    } else if (result.name === 'reference_insert' && rates !== undefined && !Array.isArray(rates)) {
      results['reference sequential'] = rates['sequential']![0]!;
    }
  }
  return results;
}

const KPI_NAMES: Record<string, string> = {
  'pg on-retry': 'PostgreSQL ingest, lookout default (binary COPY; staging + ON CONFLICT on retries)',
  'pg always': "PostgreSQL ingest, `dedupe: 'always'`",
  pglite: 'PGlite ingest (embedded, default batch of 2,000)',
  'reference sequential': 'Reference: one INSERT per event, 1 connection',
};

/** KPI ingest per line: rounds of bench/kpi.ts, the lines rotated every round. */
async function kpiRows(nodes: readonly string[], versions: readonly string[]): Promise<string[]> {
  const rates = nodes.map((): Record<string, number[]> => ({}));
  for (let round = 0; round < KPI_ROUNDS; round++) {
    for (const line of rotation(nodes.length, round)) {
      for (const [name, value] of Object.entries(await kpiRound(nodes[line]!))) (rates[line]![name] ??= []).push(value);
    }
  }
  const rows: string[] = [];
  for (const [name, what] of Object.entries(KPI_NAMES)) {
    const cells = rates.map((byName) => byName[name] ?? []);
    if (cells.every((values) => values.length === 0)) continue;
    rows.push(`| ${what} | ${cells.map((values) => (values.length === 0 ? '' : `${Math.round(median(values)).toLocaleString('en-US')} (${Math.min(...values) >= 10_000 ? `${spread(values.map((value) => value / 1000))} k` : spread(values)})`)).join(' | ')} |`);
  }
  emit({ bench: 'lines', kpi: Object.fromEntries(versions.map((version, line) => [version, rates[line]])) });
  return rows;
}

/** Runs both parts and writes the `lines` section. */
export async function runLinesBench(nodes: readonly string[] = lineNodes()): Promise<void> {
  const versions = nodes.map(versionOf);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`;
  const http = PARTS.has('http') ? await httpRows(nodes, versions) : [];
  const kpi = PARTS.has('kpi') ? await kpiRows(nodes, versions) : [];
  const body = [
    `## Node.js lines: ${versions.join(', ')}`,
    '',
    `${machine}, one run. Reproduce: \`BENCH_ROUNDS=${ROUNDS} BENCH_SECONDS=${SECONDS} npx tsx bench/lines.ts\` (the binaries from \`scripts/node-lines.sh --path <major>\`; \`--node <path>\` repeated for others).`,
    '',
    `HTTP hello-world \`/users/:id\` as in the HTTP section, bare and + lookout (Hono: \`instrument(app)\`), every server with node's **default flags** (no semi-space sizing, as in the HTTP section), pinned to CPU ${SERVER_CPU ?? '(unpinned)'} with autocannon (50 connections) in the benchmark process on the other CPU; ${ROUNDS} rounds, each starting every server of every line afresh, warming each for ${WARMUP_SECONDS} s and then loading them one after another for ${SECONDS} s, the order rotated every round. Medians with min–max spreads; the ratios are medians of per-round ratios (bare and lookout of the same line, same round); CPU µs per request from /proc.`,
    '',
    '| framework | node | bare req/s | + lookout req/s | lookout / bare | CPU µs per request, bare → lookout | CPU ratio (bare / lookout) |',
    '|---|---|---|---|---|---|---|',
    ...http,
    '',
    `KPI ingest: \`bench/kpi.ts\`'s ingest and PGlite parts (\`BENCH_KPI_PARTS=ingest,pglite BENCH_ROUNDS=1\`) run on each line in turn (${process.env['BENCH_KPI_EVENTS'] ?? '1,000,000'} events per PostgreSQL round, ${process.env['BENCH_KPI_PGLITE_EVENTS'] ?? '200,000'} per PGlite round), ${KPI_ROUNDS} rounds with the lines rotated, into PostgreSQL 15 on 127.0.0.1 and embedded PGlite; events/s, median (min–max).`,
    '',
    `| what | ${versions.join(' | ')} |`,
    `|---|${versions.map(() => '---').join('|')}|`,
    ...kpi,
  ];
  console.log(body.join('\n'));
  if (PARTS.has('http') && PARTS.has('kpi')) await writeSection('lines', body.join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runLinesBench();
