// The generated SLI rules on backfilled data in real Prometheus: the step recordings computed for
// the past with `promtool tsdb create-blocks-from rules`, then every window's error ratio (the
// generated expression, queried at the end) against the exact counts the data was made of.
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { backfillOpenMetrics, backfillRules, writeRawOpenMetrics, type TrafficTruth } from '../../test/support/slo-backfill.js';
import { loadProvisionConfig } from './config-file.js';
import { resolveProvisionOptions } from './options.js';
import { durationSeconds } from './promql.js';
import { sliRecordingGroups, sliStepRecords, sliStepWindow } from './prometheus/slo-rules.js';
import { renderYaml } from './yaml.js';

const available = await probe('prometheus and promtool', () => hasCommand('prometheus', ['--version']) && hasCommand('promtool', ['--version']));
const options = resolveProvisionOptions(await loadProvisionConfig(join(import.meta.dirname, '../../deploy/lookout.config.yaml')));

/**
 * Relative tolerance of a recorded ratio against the exact ratio of what was scraped, on clean data: 0.1%.
 * Consecutive step windows share a scrape, so on regular scrapes they count every increment once
 * (measured: 0.000% on the clean hour). What differs: the windows on each side of a gap hold one
 * or two scrapes and extrapolate (GAP_TOLERANCE below; a counter reset costs nothing, rate() takes
 * the restarted counter from 0). Against all requests, the ratio also misses the requests served
 * while nobody scraped (the 18 minutes: +1.4 to +1.7% here); the raw [w] selectors of the old rules
 * did count those, as one increase across the gap. The first hour of data is no special case: every
 * window averages the recordings that exist, as a raw rate over a window longer than the data does.
 */
const TOLERANCE = 0.001;
/**
 * Windows that hold the gap: the few step windows at its edges extrapolate from one or two
 * scrapes, so the ratio moves with the traffic of those minutes and with where the evaluations
 * fall among the scrapes (the group's offset, a hash of its name and file: fixed here, since
 * promtool runs beside the rule file). Measured over 40 group names: -0.13% to 0.00% of the
 * scraped ratio, -0.046% at this test's (2026-12-06); four of the 40 also lost recordings at
 * block boundaries (the first test). Bounded at 0.5%, still far under the +1.4 to +1.7% by which
 * the scraped ratio itself differs from all requests.
 */
const GAP_TOLERANCE = 0.005;

describe.skipIf(!available)('SLI recordings against exact counts (real Prometheus, backfilled)', () => {
  const stepSeconds = durationSeconds(sliStepWindow(options));
  const scrape = durationSeconds(options.scrapeInterval);
  // Scrapes 7s after the minute, as a real target would be (not on the evaluation grid).
  const end = Math.floor(Date.now() / 1000 / 3600) * 3600 - 3600 + 7;
  const traffic = { job: options.service, labelSets: 30, spanSeconds: 6 * 3600, scrapeSeconds: scrape, endSeconds: end, resetAt: 0.6, gap: [0.7, 0.72] as const };
  const evalAt = end - 7;
  let dir = '';
  let truth: TrafficTruth;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-slo-exact-'));
    const data = join(dir, 'data');
    truth = await writeRawOpenMetrics(join(dir, 'raw.om'), traffic);
    backfillOpenMetrics(join(dir, 'raw.om'), data);
    const config = renderYaml({ global: { evaluation_interval: options.evaluationInterval } });
    const retention = ['--storage.tsdb.retention.time=400d'];
    prometheus = await startPrometheus(config, retention, data);
    // Level 1: the step rules (the only ones reading raw series), evaluated for the past.
    const stepRules = sliRecordingGroups(options)[0]!.rules.slice(0, 4);
    await writeFile(join(dir, 'step.yml'), renderYaml({ groups: [{ name: 'step', rules: stepRules }] }));
    backfillRules({ url: prometheus.url, ruleFile: join(dir, 'step.yml'), startSeconds: evalAt - traffic.spanSeconds, endSeconds: evalAt + 1, evalInterval: options.evaluationInterval, outputDir: join(dir, 'rules-out') });
    await prometheus.stop();
    for (const block of await readdir(join(dir, 'rules-out'))) await rename(join(dir, 'rules-out', block), join(data, block));
    prometheus = await startPrometheus(config, retention, data);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  /** Exact error ratio of the requests counted by scrapes in (from, to] (seconds); `visible`: only increments a 1m rate can see. */
  function exact(slo: 'availability' | 'latency', from: number, to: number, visible: boolean): number {
    let bad = 0;
    let all = 0;
    const bads = slo === 'availability' ? truth.errors : truth.slow;
    for (let k = 1; k < truth.timestamps.length; k++) {
      const t = truth.timestamps[k]!;
      if (t <= from || t > to) continue;
      // A rate window sees an increment only between two scrapes inside it: none into a gap, nor out of it.
      if (visible && (truth.scraped[k] === 0 || truth.scraped[k - 1] === 0)) continue;
      bad += bads[k]! - bads[k - 1]!;
      all += truth.requests[k]! - truth.requests[k - 1]!;
    }
    return bad / all;
  }

  async function recordingTimes(window: string): Promise<number[]> {
    const { requests } = sliStepRecords(sliStepWindow(options));
    const result = (await prometheus!.api('/api/v1/query', { query: `${requests}{slo="availability"}[${window}]`, time: String(evalAt) })) as { result: { values: [number, string][] }[] };
    return result.result[0]!.values.map(([t]) => t);
  }

  async function recorded(window: string, slo: 'availability' | 'latency'): Promise<number> {
    const rule = sliRecordingGroups(options).flatMap((group) => group.rules).find((candidate) => candidate.record === `job:slo_errors:ratio_rate${window}` && candidate.labels?.['slo'] === slo)!;
    const result = (await prometheus!.api('/api/v1/query', { query: rule.expr, time: String(evalAt) })) as { result: { value: [number, string] }[] };
    expect(result.result, `${window} ${slo}`).toHaveLength(1);
    return Number(result.result[0]!.value[1]);
  }

  it('a step recording at every evaluation whose window holds two scrapes, and none other', async () => {
    // promtool evaluates in 2h blocks whose ends it truncates to whole seconds: a group whose
    // offset falls in the last second of the interval (a hash of its name and file, here fixed)
    // loses the evaluation before each block boundary, and the averages above miss it (measured:
    // +0.63% on the 6h ratio with a group named 'g2').
    const times = await recordingTimes('6h');
    const interval = durationSeconds(options.evaluationInterval);
    const expected: number[] = [];
    for (let t = times[0]!; t <= times.at(-1)! + 1e-6; t += interval) {
      let scrapes = 0;
      for (let k = 0; k < truth.timestamps.length; k++) if (truth.scraped[k] === 1 && truth.timestamps[k]! > t - stepSeconds && truth.timestamps[k]! <= t) scrapes++;
      if (scrapes >= 2) expected.push(Math.round(t * 1000));
    }
    expect(times.map((t) => Math.round(t * 1000))).toEqual(expected);
  });

  it('1h (clean data) within 0.1%, and 6h and the 30d period (a counter reset, a 5xx and latency burst, an 18-minute gap) within 0.5% of the exact ratio of what was scraped', async () => {
    const rows: string[] = [];
    for (const window of ['1h', '6h', options.slo.period]) {
      for (const slo of ['availability', 'latency'] as const) {
        const value = await recorded(window, slo);
        // The recordings averaged: each counts the increments from the first scrape of its
        // ${step} window to its last; consecutive windows share a scrape, so together they count
        // the scrapes after the first window's first scrape, up to the last recording.
        const times = await recordingTimes(window);
        const from = truth.timestamps.find((t) => t >= times[0]! - stepSeconds)!;
        const to = times.at(-1)!;
        const seen = exact(slo, from, to, true);
        const all = exact(slo, from, to, false);
        rows.push(`${window} ${slo}: recorded ${value.toFixed(6)}, exact (scraped) ${seen.toFixed(6)} (${(((value - seen) / seen) * 100).toFixed(3)}%), exact (all requests, gap included) ${all.toFixed(6)} (${(((value - all) / all) * 100).toFixed(3)}%)`);
        expect(Math.abs(value - seen) / seen, rows.at(-1)).toBeLessThan(window === '1h' ? TOLERANCE : GAP_TOLERANCE);
      }
    }
    console.log(`\nSLI recordings vs exact counts (30 label sets, 6h at ${options.scrapeInterval}, step ${sliStepWindow(options)}):\n  ${rows.join('\n  ')}`);
  });
});
