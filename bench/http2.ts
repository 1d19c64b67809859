/**
 * HTTP/2 (h2c) side by side: bare vs lookout, node:http2 and Fastify `http2: true`,
 * one variant after another in each round, the order rotated, fresh server processes
 * each round, Node's default flags. The load: `BENCH_H2_SESSIONS` sessions (4) with
 * `BENCH_H2_STREAMS` streams each kept in flight (25), from this process, for
 * BENCH_SECONDS (3) after a 1 s warm-up; median of per-round ratios with spread.
 *
 *   npx tsx bench/http2.ts            (BENCH_ROUNDS=5)
 */
import http2 from 'node:http2';
import { cpuMicros, emit, median, spread, startServer } from './lib.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const SESSIONS = Number(process.env['BENCH_H2_SESSIONS'] ?? 4);
const STREAMS = Number(process.env['BENCH_H2_STREAMS'] ?? 25);
const FRAMEWORKS = (process.env['BENCH_FRAMEWORKS'] ?? 'node,fastify').split(',');
const VARIANTS = ['bare', 'lookout'] as const;

/** Requests answered in `seconds` over `SESSIONS` sessions with `STREAMS` streams each in flight. */
async function load(port: number, seconds: number): Promise<number> {
  const sessions = Array.from({ length: SESSIONS }, () => http2.connect(`http://127.0.0.1:${port}`));
  let done = 0;
  let id = 0;
  const until = Date.now() + seconds * 1000;
  const stream = (session: http2.ClientHttp2Session): Promise<void> => new Promise((resolve) => {
    const loop = (): void => {
      if (Date.now() >= until) {
        resolve();
        return;
      }
      const request = session.request({ ':path': `/users/${id++ % 1000}` });
      request.on('error', () => resolve());
      request.resume();
      request.on('end', () => {
        done++;
        loop();
      });
    };
    loop();
  });
  await Promise.all(sessions.flatMap((session) => Array.from({ length: STREAMS }, () => stream(session))));
  for (const session of sessions) session.close();
  return done / seconds;
}

for (const framework of FRAMEWORKS) {
  const throughput: Record<string, number[]> = { bare: [], lookout: [] };
  const cpu: Record<string, number[]> = { bare: [], lookout: [] };
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    const perRound: Record<string, number> = {};
    for (const variant of order) {
      const { child, port } = await startServer('bench/servers/hello-h2.ts', [framework, variant]);
      try {
        await load(port, 1);
        const before = cpuMicros(child.pid!);
        const rate = await load(port, SECONDS);
        const after = cpuMicros(child.pid!);
        perRound[variant] = rate;
        throughput[variant]!.push(rate);
        cpu[variant]!.push((after.user + after.system - before.user - before.system) / (rate * SECONDS));
      } finally {
        child.kill();
      }
    }
    ratios.push(perRound['lookout']! / perRound['bare']!);
  }
  const row = {
    bench: 'http2', framework, rounds: ROUNDS, seconds: SECONDS, sessions: SESSIONS, streams: STREAMS,
    bare: median(throughput['bare']!), lookout: median(throughput['lookout']!), lookoutRatio: median(ratios), ratios,
    cpuMicrosPerRequest: { bare: median(cpu['bare']!), lookout: median(cpu['lookout']!) },
  };
  emit(row);
  console.log(`| ${framework} over h2c | ${Math.round(row.bare)} (${spread(throughput['bare']!)}) | ${Math.round(row.lookout)} (${spread(throughput['lookout']!)}) | **${row.lookoutRatio.toFixed(3)}** (${spread(ratios, 2)}); CPU per request ${row.cpuMicrosPerRequest.bare.toFixed(1)} → ${row.cpuMicrosPerRequest.lookout.toFixed(1)} µs |`);
}
