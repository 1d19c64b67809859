/**
 * Scale benchmark of the generated SLO rules (issue 26): real Prometheus on backfilled data,
 * each rule group's evaluation time, missed iterations and samples read per evaluation, the rules
 * before issue 26 (bench/fixtures/slo-rules-before-issue-26.yml: every window read from the raw
 * series) beside the current ones (deploy/prometheus/rules/slo.yml).
 *
 *   npx tsx bench/slo-scale.ts                 (or BENCH_ONLY=slo npm run bench)
 *   SLO_BENCH_CASES=small npx tsx bench/slo-scale.ts     the CI-sized subset
 *
 * The current rules read raw series only over their step window (1m15s), so raw data is backfilled
 * for the last hour; their long-window rules read only the step recordings, backfilled for the
 * full 30 days directly. The old rules read raw series over every window up to 30d: they are
 * measured on shorter spans and fewer label sets (a 30-day raw backfill of 3,000 label sets is
 * 2 billion samples), which shows how their cost grows.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadProvisionConfig } from '../src/provision/config-file.js';
import { resolveProvisionOptions } from '../src/provision/options.js';
import { sliStepRecords, sliStepWindow } from '../src/provision/prometheus/slo-rules.js';
import { durationSeconds } from '../src/provision/promql.js';
import { renderYaml } from '../src/provision/yaml.js';
import { startPrometheus } from '../test/support/prometheus.js';
import { writeSection } from './lib.js';
import { backfillOpenMetrics, measureRuleGroups, writeRawOpenMetrics, writeRecordedOpenMetrics, type GroupCost } from '../test/support/slo-backfill.js';

const ROOT = join(import.meta.dirname, '..');
const OLD_RULES = join(ROOT, 'bench/fixtures/slo-rules-before-issue-26.yml');
const NEW_RULES = join(ROOT, 'deploy/prometheus/rules/slo.yml');
const DAY = 86_400;

/**
 * One measured configuration.
 *
 * @example
 * ```ts
 * const scaleCase: SloScaleCase = { rules: 'new', labelSets: 3000, rawSeconds: 3600, recordedSeconds: 30 * 86400 };
 * ```
 */
export interface SloScaleCase {
  readonly rules: 'old' | 'new';
  readonly labelSets: number;
  /** Span of raw series backfilled, ending now. */
  readonly rawSeconds: number;
  /** Span of step recordings backfilled (new rules only), ending now. */
  readonly recordedSeconds?: number;
}

/**
 * A measured case: its groups' costs and the interval each group runs at in production.
 *
 * @example
 * ```ts
 * const rows = (await runSloScaleCase({ rules: 'new', labelSets: 30, rawSeconds: 3600, recordedSeconds: 86400 })).costs;
 * ```
 */
export interface SloScaleResult {
  readonly scaleCase: SloScaleCase;
  readonly intervalSeconds: number;
  readonly costs: readonly GroupCost[];
}

/**
 * Backfills one case, starts Prometheus on it with the case's rules (evaluated every 10s so that
 * three evaluations take half a minute; the cost of one evaluation does not depend on the
 * interval), and measures every group.
 *
 * @example
 * ```ts
 * const result = await runSloScaleCase({ rules: 'old', labelSets: 30, rawSeconds: 86400 });
 * ```
 */
export async function runSloScaleCase(scaleCase: SloScaleCase): Promise<SloScaleResult> {
  const options = resolveProvisionOptions(await loadProvisionConfig(join(ROOT, 'deploy/lookout.config.yaml')));
  const dir = await mkdtemp(join(tmpdir(), 'lookout-slo-scale-'));
  try {
    const end = Math.floor(Date.now() / 1000) - 5;
    const data = join(dir, 'data');
    const scrape = durationSeconds(options.scrapeInterval);
    // The raw series run 10 minutes past now: the evaluations measured (a minute after the
    // backfill) read full windows, as on a live server; queries at now ignore later samples.
    await writeRawOpenMetrics(join(dir, 'raw.om'), { job: options.service, labelSets: scaleCase.labelSets, spanSeconds: scaleCase.rawSeconds + 600, scrapeSeconds: scrape, endSeconds: end + 600 });
    backfillOpenMetrics(join(dir, 'raw.om'), data);
    await rm(join(dir, 'raw.om'));
    if (scaleCase.recordedSeconds !== undefined) {
      const step = sliStepWindow(options);
      const stepRecords = sliStepRecords(step);
      await writeRecordedOpenMetrics(join(dir, 'recorded.om'), { job: options.service, ...stepRecords, labelSets: scaleCase.labelSets, stepSeconds: durationSeconds(options.evaluationInterval), spanSeconds: scaleCase.recordedSeconds, endSeconds: end - 60 });
      backfillOpenMetrics(join(dir, 'recorded.om'), data);
    }
    const ruleFile = scaleCase.rules === 'old' ? OLD_RULES : NEW_RULES;
    const groups = (parse(await readFile(ruleFile, 'utf8')) as { groups: { name: string; rules: { expr: string }[] }[] }).groups;
    const config = renderYaml({ global: { evaluation_interval: '10s' }, rule_files: [ruleFile] });
    const prometheus = await startPrometheus(config, ['--storage.tsdb.retention.time=400d', '--query.max-samples=500000000', '--query.timeout=5m'], data);
    try {
      const costs = await measureRuleGroups(prometheus.url, groups, 3);
      // The old rules ran every 15s (the generated default then); the new ones every evaluationInterval.
      return { scaleCase, intervalSeconds: scaleCase.rules === 'old' ? 15 : durationSeconds(options.evaluationInterval), costs };
    } finally {
      await prometheus.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const SPAN = (seconds: number) => (seconds >= DAY ? `${seconds / DAY}d` : `${seconds / 3600}h`);

/** The cases of the full run and of the CI-sized one. */
export const SLO_SCALE_CASES: Record<'full' | 'small' | 'new', readonly SloScaleCase[]> = {
  full: [
    { rules: 'old', labelSets: 30, rawSeconds: 6 * 3600 },
    { rules: 'old', labelSets: 30, rawSeconds: DAY },
    { rules: 'old', labelSets: 30, rawSeconds: 3 * DAY },
    { rules: 'old', labelSets: 300, rawSeconds: 6 * 3600 },
    { rules: 'new', labelSets: 30, rawSeconds: 3600, recordedSeconds: 30 * DAY },
    { rules: 'new', labelSets: 300, rawSeconds: 3600, recordedSeconds: 30 * DAY },
    { rules: 'new', labelSets: 3000, rawSeconds: 3600, recordedSeconds: 30 * DAY },
  ],
  new: [
    { rules: 'new', labelSets: 30, rawSeconds: 3600, recordedSeconds: 30 * DAY },
    { rules: 'new', labelSets: 300, rawSeconds: 3600, recordedSeconds: 30 * DAY },
    { rules: 'new', labelSets: 3000, rawSeconds: 3600, recordedSeconds: 30 * DAY },
  ],
  small: [
    { rules: 'old', labelSets: 30, rawSeconds: 6 * 3600 },
    { rules: 'new', labelSets: 30, rawSeconds: 3600, recordedSeconds: 30 * DAY },
  ],
};

/**
 * Markdown table rows of measured cases.
 *
 * @example
 * ```ts
 * sloScaleRows(results).join('\n');
 * ```
 */
export function sloScaleRows(results: readonly SloScaleResult[]): string[] {
  const rows = ['| rules | label sets | raw data | recordings | group | rules in it | last evaluation | share of interval | missed | samples read per evaluation |', '|---|---|---|---|---|---|---|---|---|---|'];
  for (const { scaleCase, intervalSeconds, costs } of results) {
    for (const cost of costs) {
      rows.push(`| ${scaleCase.rules === 'old' ? 'before #26' : 'current'} | ${scaleCase.labelSets.toLocaleString('en-US')} | ${SPAN(scaleCase.rawSeconds)} | ${scaleCase.recordedSeconds === undefined ? '–' : SPAN(scaleCase.recordedSeconds)} | ${cost.group} | ${cost.rules} | ${(cost.seconds * 1000).toFixed(1)} ms | ${((cost.seconds / intervalSeconds) * 100).toFixed(2)}% of ${intervalSeconds}s | ${cost.missed} | ${cost.samples.toLocaleString('en-US')} |`);
    }
  }
  return rows;
}

/**
 * Runs the cases (`SLO_BENCH_CASES=small` for the CI-sized subset) and writes the `slo-scale`
 * section of BENCHMARKS.md.
 *
 * @example
 * ```ts
 * await runSloScaleBench();
 * ```
 */
export async function runSloScaleBench(): Promise<void> {
  const which = process.env['SLO_BENCH_CASES'] === 'small' || process.env['SLO_BENCH_CASES'] === 'new' ? process.env['SLO_BENCH_CASES'] : 'full';
  const results: SloScaleResult[] = [];
  const loads: number[] = [];
  for (const scaleCase of SLO_SCALE_CASES[which]) {
    const started = Date.now();
    results.push(await runSloScaleCase(scaleCase));
    loads.push(loadavg()[0]!);
    console.error(`${scaleCase.rules} ${scaleCase.labelSets} label sets: ${((Date.now() - started) / 1000).toFixed(0)} s, load ${loadavg()[0]!.toFixed(2)}`);
  }
  const rows = sloScaleRows(results);
  console.log(rows.join('\n'));
  await writeSloScaleSection(rows, loads);
}

/**
 * Writes the `slo-scale` section of BENCHMARKS.md from table rows and the load average after each case.
 *
 * @example
 * ```ts
 * await writeSloScaleSection(sloScaleRows(results), [2.1, 2.4]);
 * ```
 */
export async function writeSloScaleSection(rows: readonly string[], loads: readonly number[]): Promise<void> {
  await writeSection('slo-scale', [
    '## SLO rules at scale (issue 26): evaluation cost per rule group, before and after',
    '',
    `Prometheus ${'2.42'} on data backfilled with \`promtool tsdb create-blocks-from openmetrics\` at the generated 15s scrape interval (label set: route × status 200/404/500, each with \`http_requests_total\` and the duration histogram's \`le="1.0"\`, \`+Inf\` and \`_count\`: 4 series). Rules evaluated every 10s for the measurement; *share of interval* is the last evaluation over the interval the group runs at in production (before: 15s; now: 1m). Samples: \`totalQueryableSamples\` of \`stats=all\` summed over the group's expressions at the end of the data. Current rules: raw series for the last hour (they read raw series only over 1m15s) and 30 days of step recordings backfilled directly (the long-window rules read only those). Rules before #26 (\`bench/fixtures/slo-rules-before-issue-26.yml\`): raw series only, on shorter spans (their \`[30d]\` rules read everything that exists); a 30-day raw backfill of 3,000 label sets is 2 billion samples, beyond this machine: their cost grows with label sets × span (the issue measured 2.25 s per evaluation for 12 label sets over 30 days). Load average (1 min) after each case: ${loads.map((load) => load.toFixed(1)).join(', ')} (2 cores shared with other work: durations are noisy, sample counts are not).`,
    'Reproduce: `flock /tmp/cpu.lock env BENCH_ONLY=slo npm run bench` (or `npx tsx bench/slo-scale.ts`; `SLO_BENCH_CASES=small` for the CI-sized subset).',
    '',
    ...rows,
  ].join('\n'));
}

if (import.meta.url === `file://${process.argv[1]}`) await runSloScaleBench();
