/**
 * The bounds of issue 21 on the API's process with the embedded KPI store, checked in CI:
 * against the same API with no KPI store, RSS within 40 MB and start-up within 150 ms;
 * event-loop delay p99 ≤ 5 ms and max ≤ 20 ms while recording at 200, 2,000 and 20,000
 * events/s; ingest ≥ 50,000 events/s end to end. Measured as bench/kpi-embedded.ts measures
 * them (bench/kpi-embedded-child.ts, shared), with shorter loads.
 *
 * Timing bounds need the machine to themselves: `npm test` skips this file (and says so), and
 * `.ci/run` runs it alone after the suites, with `npm run test:bounds` (LOOKOUT_BOUNDS=1). The
 * machine may still be shared with other work: each check takes the best of up to
 * LOOKOUT_BOUNDS_ATTEMPTS (default 5) attempts, and each loop-delay attempt runs `none` (the same timer loop,
 * recording nothing) just before `embedded`. An attempt where `none` itself is over the bound
 * says the machine, not lookout, missed it; when every attempt that missed was such a one,
 * the test is skipped with that reason (printed), not passed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChild, vmRssMiB, type ChildReport } from '../../bench/kpi-embedded-child.js';
import { median } from '../../bench/lib.js';
import { joinStore } from '../../src/kpi/store-process.js';

const ATTEMPTS = Number(process.env['LOOKOUT_BOUNDS_ATTEMPTS'] ?? 5);
const RUN = process.env['LOOKOUT_BOUNDS'] === '1';
if (!RUN) console.log('test/kpi/embedded-store.bounds.test.ts skipped: timing bounds run alone, in .ci/run or with `npm run test:bounds`');
const SECONDS = 3;
const RATES = [200, 2000, 20_000];
const MB = 1e6 / 2 ** 20; // MiB per MB
const BOUNDS = { rssMiB: 40 * MB, startupMs: 150, p99Ms: 5, maxMs: 20, ingestPerSecond: 50_000 };

const folder = RUN ? mkdtempSync(join(tmpdir(), 'lookout-kpi-bounds-')) : '';
let storePid: number | undefined;
afterAll(() => {
  try {
    if (storePid !== undefined) process.kill(storePid, 'SIGTERM');
  } catch {
    // stopped already
  }
  if (RUN) rmSync(folder, { recursive: true, force: true });
});

const within = (loop: NonNullable<ChildReport['loop']>): boolean => loop.p99Ms <= BOUNDS.p99Ms && loop.maxMs <= BOUNDS.maxMs;
const fmt = (loop: NonNullable<ChildReport['loop']>): string => `p99 ${loop.p99Ms.toFixed(1)} ms, max ${loop.maxMs.toFixed(1)} ms`;

describe.skipIf(!RUN)('the embedded KPI store keeps the API process within the bounds of issue 21', () => {
  it('RSS, start-up, event-loop delay at 200 / 2,000 / 20,000 events/s, ingest', { timeout: 240_000 }, async (context) => {
    const dataDir = join(folder, 'kpi');
    const started = performance.now();
    // The store process runs before the measurements (joined by every `embedded` child, as by
    // a second app): a fresh folder's initdb is the store's start-up, not the API's.
    const address = await joinStore({ dataDir, idleTimeoutMs: 60_000 });
    storePid = address.pid;
    const lines: string[] = [`store process ready after ${Math.round(performance.now() - started)} ms (fresh folder)`];
    const pairs: { none: ChildReport; embedded: ChildReport }[] = [];
    const loopFailures: { text: string; machine: boolean }[] = [];
    for (const rate of RATES) {
      const missed: { text: string; machine: boolean }[] = [];
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const none = await runChild('none', dataDir, `rate:${rate}`, { seconds: SECONDS, settleMs: 1000 });
        const embedded = await runChild('embedded', dataDir, `rate:${rate}`, { seconds: SECONDS, settleMs: 1000 });
        pairs.push({ none, embedded });
        expect(embedded.loop!.dropped).toBe(0);
        expect(embedded.loop!.written).toBeGreaterThan(0);
        const passed = within(embedded.loop!);
        const machine = !within(none.loop!);
        lines.push(`${rate} events/s, attempt ${attempt}: embedded ${fmt(embedded.loop!)} (${embedded.loop!.written} written: ${Math.round(embedded.loop!.written / SECONDS)} events/s reached); none ${fmt(none.loop!)}${passed ? '' : machine ? ': over the bound, as none is (the machine)' : ': over the bound'}`);
        if (passed) break;
        missed.push({ text: `${rate} events/s attempt ${attempt}: embedded ${fmt(embedded.loop!)}, none ${fmt(none.loop!)}`, machine });
        if (attempt === ATTEMPTS) loopFailures.push(...missed);
      }
    }
    const rssDeltas = pairs.map(({ none, embedded }) => embedded.rssMiB - none.rssMiB);
    const startupDeltas = pairs.map(({ none, embedded }) => embedded.listenMs - none.listenMs);
    lines.push(`API RSS, embedded − none, MiB: ${rssDeltas.map((delta) => delta.toFixed(1)).join(', ')} (bound ${BOUNDS.rssMiB.toFixed(1)} MiB = 40 MB)`);
    lines.push(`API start to listening, embedded − none, ms: ${startupDeltas.map((delta) => delta.toFixed(0)).join(', ')} (bound ${BOUNDS.startupMs})`);
    const ingest: number[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS && !(ingest.at(-1)! >= BOUNDS.ingestPerSecond); attempt++) {
      ingest.push((await runChild('embedded', dataDir, 'ingest', { settleMs: 200 })).ingest!.perSecond);
    }
    lines.push(`ingest end to end, events/s: ${ingest.map((rate) => Math.round(rate)).join(', ')} (bound ${BOUNDS.ingestPerSecond})`);
    lines.push(`store process RSS ${vmRssMiB(address.pid).toFixed(0)} MiB; ${Math.round((performance.now() - started) / 1000)} s in all`);
    const figures = `embedded store bounds (Node ${process.version}):\n  ${lines.join('\n  ')}`;
    console.log(figures);

    // The median pair, not the best one: every rate's attempts give a pair, at least three in all.
    expect(median(rssDeltas), figures).toBeLessThanOrEqual(BOUNDS.rssMiB);
    expect(median(startupDeltas), figures).toBeLessThanOrEqual(BOUNDS.startupMs);
    expect(Math.max(...ingest), figures).toBeGreaterThanOrEqual(BOUNDS.ingestPerSecond);
    if (loopFailures.length > 0 && loopFailures.every((failure) => failure.machine)) {
      context.skip(`the machine, not lookout, missed the event-loop bounds: in every attempt over them, the API with no KPI store was over them too (${loopFailures.map((failure) => failure.text).join('; ')})`);
    }
    expect(loopFailures.map((failure) => failure.text), figures).toEqual([]);
  });
});
