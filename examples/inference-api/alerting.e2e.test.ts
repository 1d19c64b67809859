// The loop closed end to end: real prometheus and real Alertmanager (Debian), the reference API in
// a child process under generated traffic, faults injected into it, and a webhook receiver here.
// For each fault the expected alert must reach the receiver, with its runbook and dashboard
// annotations, within a bound computed from the rule's `for:` and window; alerts of other causes
// must stay silent; the alert must resolve after the fault is removed. A second API instance (its
// own job) takes the same traffic for the whole run without any fault: it must never alert.
//
// The rules are the generated ones at a time scale of 1/30 (windows and `for:` in seconds rather
// than minutes: `RuleTiming`), the Alertmanager config the generated one with short group timing.
// Both APIs keep their KPI events in PostgreSQL (a schema each), as the compose deployment does:
// a process of ~130 MB resident, which the memory-leak fault can double before its 512 MiB cap
// (embedded PGlite holds ~0.5 GB).
//
// Run: REQUIRE_E2E=1 npx vitest run examples/inference-api/alerting.e2e.test.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBinary, startAlertmanager, type RunningAlertmanager } from '../alertmanager-runner.js';
import pg from 'pg';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { PG_URL, pgReachable, uniqueName } from '../../test/support/pg.js';
import { startPrometheus, type RunningPrometheus } from '../../test/support/prometheus.js';
import { alertmanagerConfig } from '../../src/provision/alertmanager/config.js';
import { resolveProvisionOptions, type ResolvedProvisionOptions } from '../../src/provision/options.js';
import { prometheusConfig } from '../../src/provision/prometheus/config.js';
import { operationsAlertGroup } from '../../src/provision/prometheus/ops-rules.js';
import { burnRateAlertGroup, sliRecordingGroup, type PrometheusRule, type RuleTiming } from '../../src/provision/prometheus/slo-rules.js';
import { durationSeconds } from '../../src/provision/promql.js';
import { alertLinks } from '../../src/provision/runbooks.js';
import { renderYaml } from '../../src/provision/yaml.js';
import { runTraffic } from './traffic.js';

const available = await probe('prometheus, prometheus-alertmanager and PostgreSQL', async () => hasCommand('prometheus', ['--version']) && alertmanagerBinary() !== undefined && (await pgReachable()));

// 1/30 and a 2 s scrape: on a loaded two-core machine a 1 s scrape timeout was missed (a 20 s
// /metrics answer while PGlite started), and a 5 s window of 1 s scrapes then had gaps.
const TIMING: RuleTiming = { scale: 1 / 30 };
const SCRAPE_S = 2;
const EVALUATION_S = 1;
const GROUP_WAIT_S = 1;
const GROUP_INTERVAL_S = 1;
/** Slack for a busy shared machine (two cores, other test runs), on top of the computed delays. */
const MARGIN_S = 5;
/** The KPI dispatcher's longest retry delay (createKpi's default): a store back up is seen after it. */
const KPI_RETRY_MAX_S = 10;
const REPO = join(import.meta.dirname, '../..');

interface Phase {
  readonly fault: string;
  /** Alerts that must fire (and then resolve). */
  readonly expect: readonly string[];
  /** Alerts this cause may raise besides (same family: the longer windows of the same SLO, the other KPI alerts). */
  readonly family: RegExp;
  /** Seconds the fault adds to a request: its effect is counted only when the request ends. */
  readonly delayS: number;
  /** Seconds before the API itself recovers once the fault is cleared. */
  readonly recoveryS: number;
  /** The fault can only raise its alert in a process holding at most this much resident memory. */
  readonly maxRssBytes?: number;
}

const PHASES: readonly Phase[] = [
  { fault: 'kpi-store-down', expect: ['KpiStoreDown'], family: /^Kpi/, delayS: 0, recoveryS: KPI_RETRY_MAX_S },
  { fault: 'errors:/inference/start:50%', expect: ['AvailabilityErrorBudgetBurn1h5m'], family: /^Availability/, delayS: 0, recoveryS: 0 },
  { fault: 'latency:*:1500ms', expect: ['LatencyErrorBudgetBurn1h5m'], family: /^Latency/, delayS: 1.5, recoveryS: 0 },
  { fault: 'hang:*:3s', expect: ['AvailabilityErrorBudgetBurn1h5m', 'LatencyErrorBudgetBurn1h5m'], family: /^(Availability|Latency)/, delayS: 3, recoveryS: 0 },
  // Blocked 800 ms in every second: the scrape still answers within its 2 s timeout.
  { fault: 'event-loop-block:800ms', expect: ['EventLoopBlocked'], family: /^(EventLoopBlocked|Latency)/, delayS: 0.8, recoveryS: 0 },
  // A label fed a value per request: the x-client counter reaches its cap and folds the rest.
  { fault: 'cardinality', expect: ['MetricSeriesOverflow'], family: /^MetricSeriesOverflow$/, delayS: 0, recoveryS: 0 },
  // MemoryGrowing at this scale: the trend of 60 s must predict twice the resident memory 120 s on,
  // i.e. growth above RSS / 120 s (~1.1 MiB/s at 130 MB), held for its 20 s `for:`. 5 MiB a second
  // meets it from ~35 s of leak on (a process up to ~200 MB), and holds it until the leak's 512 MiB
  // cap (102 s), well past the bound. Last: the memory it leaves is the process's own business.
  // Above ~250 MB (simulated with the rule's regression: fires at 62 s) the cap comes first.
  // The limit alerts (6 h trend, 12 min here) share the cause but need a process older than their
  // window, which this run's are not.
  { fault: 'memory-leak:5mb', expect: ['MemoryGrowing'], family: /^(MemoryGrowing|HeapLimitApproaching|MemoryLimitApproaching)$/, delayS: 0, recoveryS: 0, maxRssBytes: 250e6 },
];

interface Notification {
  readonly at: number;
  readonly receiver: string;
  readonly alerts: readonly { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string }[];
}

interface ChildApi {
  readonly url: string;
  readonly target: string;
  stop(): Promise<void>;
}

async function startChildApi(schema: string): Promise<ChildApi> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/inference-api/server.ts'], {
    cwd: REPO,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOOKOUT_FAULTS: '1', DATABASE_URL: PG_URL, LOOKOUT_KPI_SCHEMA: schema },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    // Under a full parallel test run on two cores, tsx and PGlite took over a minute to start.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the API did not start in 150 s: ${output}`));
    }, 150_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the API exited with ${code}: ${output}`)));
  });
  return {
    url,
    target: url.replace('http://', ''),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

function options(service: string, webhook: string, alertmanager: string): ResolvedProvisionOptions {
  return resolveProvisionOptions({
    service,
    // The intervals this test's Prometheus runs at: the SLI step window is built from them.
    scrapeInterval: `${SCRAPE_S}s`,
    evaluationInterval: `${EVALUATION_S}s`,
    alerting: {
      alertmanagers: [alertmanager],
      receivers: { pager: { webhook: { url: `${webhook}/page` } }, tickets: { webhook: { url: `${webhook}/ticket` } } },
      routes: { page: 'pager', ticket: 'tickets' },
      groupWait: `${GROUP_WAIT_S}s`,
      groupInterval: `${GROUP_INTERVAL_S}s`,
      repeatInterval: '1h',
    },
  });
}

function rules(options: ResolvedProvisionOptions) {
  return [sliRecordingGroup(options, TIMING), burnRateAlertGroup(options, TIMING), operationsAlertGroup(options, TIMING)];
}

/**
 * Seconds of the rule's window at this scale: the short window of a burn-rate pair (the long one
 * is already over the threshold when the short one is), else the longest range its expression reads.
 */
function windowSeconds(rule: PrometheusRule): number {
  if (rule.labels?.['short_window'] !== undefined) return durationSeconds(rule.labels['short_window']) * TIMING.scale!;
  return Math.max(0, ...[...rule.expr.matchAll(/\[([0-9.]+(?:ms|s|m|h|d))\]/g)].map(([, range]) => durationSeconds(range!)));
}

/** Seconds from a fault to its notification, at most: the rule's window and `for:`, the pipeline's intervals. */
function notifyBound(rule: PrometheusRule, phase: Phase): number {
  const window = windowSeconds(rule);
  const forS = rule.for === undefined ? 0 : durationSeconds(rule.for);
  return window + forS + phase.delayS + 3 * SCRAPE_S + 2 * EVALUATION_S + GROUP_WAIT_S + MARGIN_S;
}

/** Seconds from clearing a fault to the resolved notification, at most. */
function resolveBound(rule: PrometheusRule, phase: Phase): number {
  const window = windowSeconds(rule);
  return window + phase.delayS + phase.recoveryS + 3 * SCRAPE_S + 2 * EVALUATION_S + GROUP_INTERVAL_S + MARGIN_S;
}

describe.skipIf(!available)('alerts close the loop: fault → alert → notification → resolved', () => {
  const notifications: Notification[] = [];
  let receiver: Server;
  let webhook: string;
  let alertmanager: RunningAlertmanager | undefined;
  let prometheus: RunningPrometheus | undefined;
  let prometheusStarted = 0;
  const apis: ChildApi[] = [];
  const dirs: string[] = [];
  const schemas = [uniqueName('alerting'), uniqueName('alerting_clean')];
  const traffic = new AbortController();
  const runs: Promise<unknown>[] = [];
  let faulted: ResolvedProvisionOptions;
  let api: ChildApi;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const payload = JSON.parse(body) as { alerts: Notification['alerts'] };
        notifications.push({ at: Date.now(), receiver: req.url ?? '', alerts: payload.alerts });
        res.writeHead(200).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    webhook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;

    // The Alertmanager's own address is not known before it starts; its config does not need it.
    alertmanager = await startAlertmanager(renderYaml(alertmanagerConfig(options('inference-api', webhook, '127.0.0.1:9093').alerting!)));
    faulted = options('inference-api', webhook, alertmanager.target);
    const clean = options('inference-api-clean', webhook, alertmanager.target);

    // One after the other: each start is CPU-bound (tsx), and a failed one must not leave the other running unseen.
    for (const schema of schemas) apis.push(await startChildApi(schema));
    api = apis[0]!;
    const ruleDir = await mkdtemp(join(tmpdir(), 'lookout-alerting-rules-'));
    dirs.push(ruleDir);
    await writeFile(join(ruleDir, 'rules.yml'), renderYaml({ groups: [...rules(faulted), ...rules(clean)] }));
    const overrides = { ruleFiles: [join(ruleDir, 'rules.yml')], scrapeInterval: `${SCRAPE_S}s`, evaluationInterval: `${EVALUATION_S}s`, bearerTokenFile: undefined };
    const config = prometheusConfig(faulted, { ...overrides, targets: [apis[0]!.target] });
    const cleanConfig = prometheusConfig(clean, { ...overrides, targets: [apis[1]!.target] });
    prometheusStarted = Date.now();
    prometheus = await startPrometheus(renderYaml({ ...config, scrape_configs: [...config.scrape_configs, ...cleanConfig.scrape_configs] }));
    for (const { url } of apis) runs.push(runTraffic({ url, durationMs: 900_000, rate: 15, seed: 7, signal: traffic.signal }));
  }, 400_000);

  afterAll(async () => {
    traffic.abort();
    await Promise.allSettled(runs);
    await prometheus?.stop();
    await alertmanager?.stop();
    await Promise.all(apis.map((child) => child.stop()));
    await new Promise((resolve) => receiver?.close(resolve));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('each fault pages within its bound, others stay silent, it resolves after; the clean instance never alerts', async () => {
    // Warm-up: both targets scraped (a starting API can miss scrapes while PGlite opens: a true
    // TargetDown before this point is not counted) and some traffic recorded before the first fault.
    await expect.poll(async () => (await prometheus!.query('sum(up)'))[0]?.value[1], { timeout: 90_000, interval: 500 }).toBe('2').catch(async (error: unknown) => {
      throw new Error(`targets not up: ${JSON.stringify(await prometheus!.api('/api/v1/targets', {}))}`, { cause: error });
    });
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const byName = new Map(rules(faulted).flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined).map((rule) => [rule.alert!, rule]));
    const table: string[][] = [];
    const descriptions = new Map<string, string>();
    const notes: string[] = [];
    const allowed: RegExp[] = [];
    const failures: string[] = [];
    const fault = async (method: 'POST' | 'DELETE', body?: string) => {
      const response = await fetch(`${api.url}/faults`, { method, ...(body !== undefined && { headers: { 'content-type': 'application/json' }, body }) });
      expect(response.status).toBe(200);
    };
    const firstAfter = (since: number, alert: string, status: 'firing' | 'resolved') =>
      notifications.find((note) => note.at >= since && note.alerts.some((entry) => entry.labels['alertname'] === alert && entry.labels['job'] === faulted.service && entry.status === status));

    for (const phase of PHASES) {
      if (phase.maxRssBytes !== undefined) {
        const rss = Number((await prometheus!.query(`process_resident_memory_bytes{job="${faulted.service}"}`))[0]?.value[1]);
        notes.push(`${phase.fault}: the API held ${(rss / 1e6).toFixed(0)} MB resident when it began`);
        if (!(rss <= phase.maxRssBytes)) {
          failures.push(`${phase.fault}: the API holds ${(rss / 1e6).toFixed(0)} MB resident, over the ${phase.maxRssBytes / 1e6} MB the leak can double before its cap`);
          continue;
        }
      }
      allowed.push(phase.family);
      const injectedAt = Date.now();
      await fault('POST', JSON.stringify({ fault: phase.fault }));
      for (const alert of phase.expect) {
        const rule = byName.get(alert)!;
        const bound = notifyBound(rule, phase);
        await expect.poll(() => firstAfter(injectedAt, alert, 'firing'), { timeout: (bound + 30) * 1000, interval: 200 }).toBeDefined();
        const note = firstAfter(injectedAt, alert, 'firing')!;
        const seconds = (note.at - injectedAt) / 1000;
        if (seconds > bound) failures.push(`${phase.fault}: ${alert} after ${seconds.toFixed(1)} s, bound ${bound} s`);
        const entry = note.alerts.find((candidate) => candidate.labels['alertname'] === alert)!;
        expect(note.receiver).toBe(`/${rule.labels!['severity']}`);
        expect(entry.annotations['runbook_url']).toBe(alertLinks(faulted, alert).runbook_url);
        expect(entry.annotations['dashboard']).toBe(alertLinks(faulted, alert).dashboard);
        expect(entry.annotations['summary']).not.toContain('{{');
        expect(entry.annotations['description']).not.toContain('{{');
        descriptions.set(alert, entry.annotations['description']!);
        table.push([phase.fault, alert, seconds.toFixed(1), String(bound)]);
      }
      const clearedAt = Date.now();
      await fault('DELETE');
      for (const alert of phase.expect) {
        const rule = byName.get(alert)!;
        const bound = resolveBound(rule, phase);
        await expect.poll(() => firstAfter(clearedAt, alert, 'resolved'), { timeout: (bound + 30) * 1000, interval: 200 }).toBeDefined();
        const seconds = (firstAfter(clearedAt, alert, 'resolved')!.at - clearedAt) / 1000;
        if (seconds > bound) failures.push(`${phase.fault}: ${alert} resolved after ${seconds.toFixed(1)} s, bound ${bound} s`);
        const row = table.findLast((candidate) => candidate[0] === phase.fault && candidate[1] === alert)!;
        row.push(seconds.toFixed(1), String(bound));
      }
      // Unrelated alerts: anything fired for the faulted job outside this cause's family (and the
      // families of earlier faults, whose long windows still remember them).
      const unrelated = notifications
        .filter((note) => note.at >= injectedAt)
        .flatMap((note) => note.alerts)
        .filter((entry) => entry.status === 'firing' && entry.labels['job'] === faulted.service && !allowed.some((family) => family.test(entry.labels['alertname']!)));
      if (unrelated.length > 0) failures.push(`${phase.fault}: unrelated alerts ${[...new Set(unrelated.map((entry) => entry.labels['alertname']))].join(', ')}`);
    }

    // The clean instance: no alert of any kind, over everything Prometheus saw of it (warm-up included).
    const runSeconds = Math.round((Date.now() - started) / 1000);
    const seenSeconds = Math.round((Date.now() - prometheusStarted) / 1000);
    const cleanAlerts = notifications.flatMap((note) => note.alerts).filter((entry) => entry.labels['job'] === 'inference-api-clean');
    const cleanFiring = await prometheus!.query(`count_over_time(ALERTS{job="inference-api-clean"}[${seenSeconds}s])`);
    const lines = [
      '| fault | alert | seconds to notification (bound) | seconds to resolved (bound) |',
      '|---|---|---|---|',
      ...table.map(([name, alert, notify, notifyMax, resolve, resolveMax]) => `| \`${name}\` | ${alert} | ${notify} (${notifyMax}) | ${resolve} (${resolveMax}) |`),
      `clean instance (same traffic, no fault, ${runSeconds} s of faults, ${seenSeconds} s scraped): ${cleanAlerts.length} notifications, ${cleanFiring.length} alerts pending or firing`,
      `notifications received in all: ${notifications.length}`,
    ];
    lines.push(...notes);
    for (const [alert, description] of descriptions) lines.push(`${alert}: ${description}`);
    console.log(`\nalerting end to end (rules at time scale ${TIMING.scale!.toFixed(4)}: scrape ${SCRAPE_S}s, evaluation ${EVALUATION_S}s, group_wait ${GROUP_WAIT_S}s, group_interval ${GROUP_INTERVAL_S}s)\n${lines.join('\n')}\n`);
    expect(failures).toEqual([]);
    expect(cleanAlerts.map((entry) => entry.labels)).toEqual([]);
    expect(cleanFiring).toEqual([]);
    expect(table.every((row) => row.length === 6)).toBe(true);
  }, 720_000);
});
