/**
 * Synthetic HTTP traffic for the SLO rules, backfilled into a Prometheus TSDB with promtool, and
 * the exact counts it was made of: the scale benchmark (bench/slo-scale.ts) and the exactness test
 * (src/provision/slo-rules.e2e.test.ts) compare the recording rules with them.
 *
 * Label set `i` is route `/r{floor(i/3)}` with status 200, 404 or 500; every label set has the
 * counter `http_requests_total` and the histogram `http_request_duration_seconds` (`le="1.0"`,
 * `le="+Inf"`, `_count`). Increments are whole numbers per scrape, deterministic in `i` and the
 * scrape index, with a burst of 5xx and slow requests between 40% and 45% of the span.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, resolve } from 'node:path';

/**
 * What to synthesise.
 *
 * @example
 * ```ts
 * const traffic: SyntheticTraffic = { job: 'api', labelSets: 30, spanSeconds: 6 * 3600, scrapeSeconds: 15, endSeconds: Math.floor(Date.now() / 1000) };
 * ```
 */
export interface SyntheticTraffic {
  readonly job: string;
  readonly labelSets: number;
  readonly spanSeconds: number;
  readonly scrapeSeconds: number;
  /** Unix seconds of the last scrape. */
  readonly endSeconds: number;
  /** Label set 0 restarts (its counters fall to 0) at this fraction of the span. */
  readonly resetAt?: number;
  /** No scrape between these fractions of the span (the target was down; requests still happened). */
  readonly gap?: readonly [number, number];
}

/**
 * Exact cumulative counts over all label sets at every scrape index (index 0: all zero; the
 * counts are of the increments after the first scrape).
 *
 * @example
 * ```ts
 * const truth = await writeRawOpenMetrics('raw.om', traffic);
 * const errorRatio = (truth.errors[b]! - truth.errors[a]!) / (truth.requests[b]! - truth.requests[a]!);
 * ```
 */
export interface TrafficTruth {
  readonly timestamps: Float64Array;
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly slow: Float64Array;
  readonly scraped: Uint8Array;
}

const STATUSES = ['200', '404', '500'] as const;

function increments(i: number, k: number, samples: number): { requests: number; slow: number } {
  const status = STATUSES[i % 3]!;
  const burst = k >= samples * 0.4 && k < samples * 0.45;
  const wave = 1 + 0.5 * Math.sin((2 * Math.PI * k) / 480 + i);
  if (status === '500') return { requests: burst ? 40 : k % 3 === 0 ? 1 : 0, slow: burst ? 10 : 0 };
  const requests = status === '404' ? 2 : Math.round((20 + ((i * 7) % 13)) * wave);
  const slow = burst ? Math.ceil(requests / 4) : k % 10 === 0 ? Math.ceil(requests * 0.05) : 0;
  return { requests, slow };
}

/**
 * Writes the raw series as OpenMetrics text (for `promtool tsdb create-blocks-from openmetrics`)
 * and returns the exact counts.
 *
 * @example
 * ```ts
 * const truth = await writeRawOpenMetrics('/tmp/raw.om', traffic);
 * ```
 */
export async function writeRawOpenMetrics(path: string, traffic: SyntheticTraffic): Promise<TrafficTruth> {
  const samples = Math.floor(traffic.spanSeconds / traffic.scrapeSeconds) + 1;
  const start = traffic.endSeconds - (samples - 1) * traffic.scrapeSeconds;
  const truth: TrafficTruth = {
    timestamps: new Float64Array(samples).map((_, k) => start + k * traffic.scrapeSeconds),
    requests: new Float64Array(samples),
    errors: new Float64Array(samples),
    slow: new Float64Array(samples),
    scraped: new Uint8Array(samples).map((_, k) => (traffic.gap !== undefined && k >= samples * traffic.gap[0] && k < samples * traffic.gap[1] ? 0 : 1)),
  };
  const resetIndex = traffic.resetAt === undefined ? -1 : Math.floor(samples * traffic.resetAt);
  const out = createWriteStream(path);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  for (let i = 0; i < traffic.labelSets; i++) {
    const status = STATUSES[i % 3]!;
    const labels = `job="${traffic.job}",instance="api-1:8000",method="GET",route="/r${Math.floor(i / 3)}",status="${status}"`;
    const lines: string[][] = [[], [], [], []];
    // Counters that existed before the span: the first scrape already reads a large value.
    let requests = 1000 * (i + 1);
    let slow = 10 * (i + 1);
    for (let k = 0; k < samples; k++) {
      if (k > 0) {
        const step = increments(i, k, samples);
        if (k === resetIndex && i === 0) {
          requests = 0;
          slow = 0;
        }
        requests += step.requests;
        slow += step.slow;
        truth.requests[k]! += step.requests;
        if (status === '500') truth.errors[k]! += step.requests;
        truth.slow[k]! += step.slow;
      }
      if (truth.scraped[k] === 0) continue;
      const at = ` ${truth.timestamps[k]}\n`;
      lines[0]!.push(`http_requests_total{${labels}} ${requests}${at}`);
      lines[1]!.push(`http_request_duration_seconds_bucket{${labels},le="1.0"} ${requests - slow}${at}`);
      lines[2]!.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${requests}${at}`);
      lines[3]!.push(`http_request_duration_seconds_count{${labels}} ${requests}${at}`);
    }
    for (const series of lines) await write(series.join(''));
  }
  await write('# EOF\n');
  out.end();
  await once(out, 'finish');
  for (const counts of [truth.requests, truth.errors, truth.slow]) for (let k = 1; k < samples; k++) counts[k]! += counts[k - 1]!;
  return truth;
}

/**
 * Writes per-job step recordings (`records.requests` and `records.errors`, `slo` label) every
 * `stepSeconds` over the span, as OpenMetrics: the input of the long-window rules without the raw
 * series behind them (those rules read only these recordings).
 *
 * @example
 * ```ts
 * await writeRecordedOpenMetrics('/tmp/rec.om', { job: 'api', requests: 'job:slo_requests:rate1m', errors: 'job:slo_errors:rate1m', labelSets: 3000, stepSeconds: 60, spanSeconds: 30 * 86400, endSeconds });
 * ```
 */
export async function writeRecordedOpenMetrics(path: string, input: { readonly job: string; readonly requests: string; readonly errors: string; readonly labelSets: number; readonly stepSeconds: number; readonly spanSeconds: number; readonly endSeconds: number }): Promise<void> {
  const samples = Math.floor(input.spanSeconds / input.stepSeconds) + 1;
  const start = input.endSeconds - (samples - 1) * input.stepSeconds;
  const out = createWriteStream(path);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  for (const [name, slo, share] of [[input.requests, 'availability', 1], [input.errors, 'availability', 0.001], [input.requests, 'latency', 1], [input.errors, 'latency', 0.01]] as const) {
    const lines: string[] = [];
    for (let k = 0; k < samples; k++) {
      const perSecond = input.labelSets * 0.8 * (1 + 0.5 * Math.sin((2 * Math.PI * k * input.stepSeconds) / 86_400)) * share;
      lines.push(`${name}{job="${input.job}",slo="${slo}"} ${perSecond.toFixed(6)} ${start + k * input.stepSeconds}\n`);
    }
    await write(lines.join(''));
  }
  await write('# EOF\n');
  out.end();
  await once(out, 'finish');
}

/**
 * `promtool tsdb create-blocks-from openmetrics <file> <dataDir>`; throws with promtool's output on failure.
 *
 * @example
 * ```ts
 * backfillOpenMetrics('/tmp/raw.om', '/tmp/tsdb');
 * ```
 */
export function backfillOpenMetrics(file: string, dataDir: string): void {
  const result = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, dataDir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`promtool create-blocks-from openmetrics failed: ${result.stderr}${result.stdout}`);
}

/**
 * `promtool tsdb create-blocks-from rules`: evaluates `ruleFile` against the Prometheus at `url`
 * every `evalInterval` between `startSeconds` and `endSeconds` and writes the recordings as blocks
 * into `outputDir`. promtool does not let one rule read another's output within a run: give it one
 * dependency level per run.
 *
 * @example
 * ```ts
 * backfillRules({ url, ruleFile: 'step.yml', startSeconds, endSeconds, evalInterval: '1m', outputDir: '/tmp/rules-out' });
 * ```
 */
export function backfillRules(input: { readonly url: string; readonly ruleFile: string; readonly startSeconds: number; readonly endSeconds: number; readonly evalInterval: string; readonly outputDir: string }): void {
  // Run beside the rule file and name it without its folder: promtool evaluates a group at
  // its own offset within the interval, a hash of the group's name and file path (as Prometheus
  // does), so a temporary folder's random name would move every evaluation from run to run.
  const result = spawnSync(
    'promtool',
    ['tsdb', 'create-blocks-from', 'rules', `--url=${input.url}`, `--start=${input.startSeconds}`, `--end=${input.endSeconds}`, `--eval-interval=${input.evalInterval}`, `--output-dir=${resolve(input.outputDir)}`, basename(input.ruleFile)],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, cwd: dirname(resolve(input.ruleFile)) },
  );
  if (result.status !== 0) throw new Error(`promtool create-blocks-from rules failed: ${result.stderr}${result.stdout}`);
}

/**
 * One rule group's cost in a running Prometheus: the last evaluation's duration, missed
 * iterations, and the samples its expressions read (`stats=all`, summed over its rules).
 *
 * @example
 * ```ts
 * const cost: GroupCost = { group: 'api-sli', rules: 36, seconds: 0.004, iterations: 3, missed: 0, samples: 1440 };
 * ```
 */
export interface GroupCost {
  readonly group: string;
  readonly rules: number;
  readonly seconds: number;
  readonly iterations: number;
  readonly missed: number;
  readonly samples: number;
}

/**
 * Waits until every group of `ruleFile` (loaded by the Prometheus at `url`) has been evaluated
 * `iterations` times, then reads each group's cost.
 *
 * @example
 * ```ts
 * const costs = await measureRuleGroups(prometheus.url, groups, 3);
 * ```
 */
export async function measureRuleGroups(url: string, groups: readonly { readonly name: string; readonly rules: readonly { readonly expr: string }[] }[], iterations = 3, timeoutMs = 300_000): Promise<GroupCost[]> {
  const deadline = Date.now() + timeoutMs;
  const metric = (text: string, name: string, group: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{`) && candidate.includes(`;${group}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  let text = '';
  for (;;) {
    text = await (await fetch(`${url}/metrics`)).text();
    if (groups.every((group) => metric(text, 'prometheus_rule_group_iterations_total', group.name) - metric(text, 'prometheus_rule_group_iterations_missed_total', group.name) >= iterations)) break;
    if (Date.now() > deadline) throw new Error(`rule groups not evaluated ${iterations} times within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const costs: GroupCost[] = [];
  for (const group of groups) {
    let samples = 0;
    for (const rule of group.rules) {
      const response = await fetch(`${url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: rule.expr, stats: 'all' }) });
      const body = (await response.json()) as { data?: { stats?: { samples?: { totalQueryableSamples?: number } } } };
      samples += body.data?.stats?.samples?.totalQueryableSamples ?? 0;
    }
    costs.push({
      group: group.name,
      rules: group.rules.length,
      seconds: metric(text, 'prometheus_rule_group_last_duration_seconds', group.name),
      iterations: metric(text, 'prometheus_rule_group_iterations_total', group.name),
      missed: metric(text, 'prometheus_rule_group_iterations_missed_total', group.name),
      samples,
    });
  }
  return costs;
}
