// Every query of every committed dashboard, expanded as Grafana would, against a real Prometheus
// scraping the reference inference API (examples/inference-api, driven by its traffic generator)
// and a real PostgreSQL read as the read-only role.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInferenceApi, type InferenceApi } from '../../examples/inference-api/app.js';
import { runTraffic } from '../../examples/inference-api/traffic.js';
import { connectionString, PG_URL, pgReachable, randomPassword, uniqueName } from '../../test/support/pg.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import type { CliIo } from '../cli/command.js';
import { runCli } from '../cli/run.js';
import { createReaderRole, migrate } from '../kpi/schema.js';
import { loadProvisionConfig } from '../provision/config-file.js';
import { resolveProvisionOptions } from '../provision/options.js';
import { prometheusConfig } from '../provision/prometheus/config.js';
import { checkDashboards } from './checker.js';
import { loadDashboards, loadDatasources } from './dashboards.js';
import { PostgresRunner } from './postgres-runner.js';
import { startPrometheus, type RunningPrometheus } from './prometheus-runner.js';

const REPO = join(import.meta.dirname, '../..');
const DEPLOY = join(REPO, 'deploy');

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), cwd: REPO };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
const available = (await probe('PostgreSQL', pgReachable)) && (await probe('prometheus', () => hasCommand('prometheus', ['--version'])));

describe.skipIf(!available)('every dashboard query returns data (real Prometheus + PostgreSQL)', () => {
  const schema = uniqueName('verify');
  const role = uniqueName('reader');
  const password = randomPassword();
  const token = randomPassword();
  const admin = new pg.Client({ connectionString: PG_URL });
  let dir = '';
  let api: InferenceApi | undefined;
  let prometheus: RunningPrometheus | undefined;
  let reader: PostgresRunner | undefined;
  const traffic = new AbortController();
  let trafficDone: Promise<unknown> = Promise.resolve();

  beforeAll(async () => {
    await admin.connect();
    await migrate(admin, { schema });
    await createReaderRole(admin, { role, password, schema });
    api = await startInferenceApi({ databaseUrl: PG_URL, schema, token, flushIntervalMs: 200 });
    dir = await mkdtemp(join(tmpdir(), 'lookout-check-'));
    await writeFile(join(dir, 'token'), token);
    // The committed rules and job name; only the target, the token file and the intervals change.
    const options = resolveProvisionOptions(await loadProvisionConfig(join(DEPLOY, 'lookout.config.yaml')));
    const config = prometheusConfig(options, { targets: [api.target], ruleFiles: [join(DEPLOY, 'prometheus/rules/*.yml')], bearerTokenFile: join(dir, 'token'), scrapeInterval: '1s', evaluationInterval: '1s' });
    prometheus = await startPrometheus({ config });
    // Until afterAll aborts it (bounded at 5 minutes anyway).
    trafficDone = runTraffic({ url: api.url, durationMs: 300_000, rate: 40, signal: traffic.signal });
    // The traffic's clients fit the API's client series cap; 30 more names, as a misbehaving caller would send,
    // fold into the overflow series, so the "Series folded into overflow" panel has a cap to show hitting.
    for (let index = 0; index < 30; index++) await (await fetch(`${api.url}/inference/status/none`, { headers: { 'x-client': `crawler-${index}` } })).text();
    await prometheus.waitForTargets({ scrapes: 3 });
    // Enough history for every panel: Grafana aligns a range query's end to its step, at least the datasource's
    // 15s scrape interval, so a rate needs two of them behind it, and the recordings a few seconds more
    // (what `lookout check --target` waits by default).
    await new Promise((resolve) => setTimeout(resolve, 35_000));
    reader = new PostgresRunner({ connectionString: connectionString({ user: role, password }), searchPath: schema });
  }, 150_000);

  afterAll(async () => {
    traffic.abort();
    await trafficDone.catch(() => undefined);
    await reader?.close();
    await prometheus?.stop();
    await api?.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('reads PostgreSQL as a role that cannot write', async () => {
    const info = await reader!.role();
    expect(info).toEqual({ user: role, superuser: false, writableTables: [] });
    await expect(reader!.query(`INSERT INTO events (id, event) VALUES (gen_random_uuid(), 'x')`)).rejects.toThrow(/read-only|permission denied/);
  });

  it('evaluates every recording and alerting rule without error', async () => {
    const rules = await prometheus!.client.rules();
    // 44 in slo.yml, 9 in operations.yml, 2 in model-quality.yml.
    expect(rules.length).toBe(55);
    expect(rules.filter((rule) => rule.health !== 'ok')).toEqual([]);
  });

  it('runs every target of every panel of every dashboard and gets data', async () => {
    const dashboards = await loadDashboards(join(DEPLOY, 'grafana/dashboards'));
    const datasources = await loadDatasources(join(DEPLOY, 'grafana/provisioning/datasources/datasources.yml'));
    const report = await checkDashboards({ dashboards, datasources, prometheus: prometheus!.client, postgres: reader });
    const byDatasource = (type: string) => report.targets.filter((target) => target.datasource === type).length;
    console.log(
      `\nlookout check: ${report.targets.length} targets checked in ${dashboards.length} dashboards ` +
        `(${byDatasource('prometheus')} Prometheus, ${byDatasource('grafana-postgresql-datasource')} PostgreSQL), ` +
        `${report.variables.length} variable queries, ${report.failures.length} failed`,
    );
    expect(report.failures).toEqual([]);
    expect(dashboards).toHaveLength(4);
    expect(byDatasource('grafana-postgresql-datasource')).toBe(6);
    expect(report.targets.length).toBeGreaterThanOrEqual(50);
    for (const target of report.targets.filter((item) => ['Model accuracy per minute', 'Request rate by route'].includes(item.panel))) console.log(`  ${target.panel}: ${target.queries.join(' | ')}`);
  });

  it('names dashboard, panel, target and query when a panel is broken', async () => {
    const dashboards = (await loadDashboards(join(DEPLOY, 'grafana/dashboards'))).filter((item) => /api-overview|inference-kpis/.test(item.file));
    // A renamed metric, an unknown macro and a missing table: what hand-edited dashboards get wrong.
    const broken = JSON.parse(JSON.stringify(dashboards)) as typeof dashboards;
    const target = (title: string) => {
      const panel = broken.flatMap((item) => item.dashboard.panels ?? []).find((candidate) => candidate.title === title)!;
      return panel.targets![0] as { expr?: string; rawSql?: string };
    };
    target('Request rate by route').expr = target('Request rate by route').expr!.replace('http_requests_total', 'http_request_total');
    target('Model accuracy per minute').rawSql = target('Model accuracy per minute').rawSql!.replace('$__timeGroupAlias(', '$__timeGroupAliased(');
    target('Events by user argument').rawSql = target('Events by user argument').rawSql!.replace('FROM events', 'FROM event_rows');
    const datasources = await loadDatasources(join(DEPLOY, 'grafana/provisioning/datasources/datasources.yml'));
    const report = await checkDashboards({ dashboards: broken, datasources, prometheus: prometheus!.client, postgres: reader });
    expect(report.failures).toHaveLength(3);
    expect(report.failures[0]).toMatch(/^inference-api \/ API overview › Request rate by route › A \(prometheus\): no series\n {4}query_range start=\d+ end=\d+ step=15: sum by \(route\) \(rate\(http_request_total\{job=~"\.\*", instance=~"\.\*", route=~"\.\*"\}\[1m0s\]\)\)$/);
    expect(report.failures[1]).toContain('inference-api / Inference KPIs › Model accuracy per minute › A (grafana-postgresql-datasource): LOOKOUT_E_VERIFY_MACRO: unknown macro "__timeGroupAliased"');
    expect(report.failures[2]).toMatch(/Events by user argument › A \(grafana-postgresql-datasource\): LOOKOUT_E_VERIFY_POSTGRES: relation "event_rows" does not exist/);
  });

  it('lookout check --prometheus-url: the same proof from the CLI, and it refuses a role that can write', async () => {
    const readerUrl = connectionString({ user: role, password });
    const result = await cli(['check', '--prometheus-url', prometheus!.url, '--database-url', readerUrl, '--search-path', schema]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/^73 targets checked, 0 failed \(9 variable queries\)$/m);
    const writer = await cli(['check', '--prometheus-url', prometheus!.url, '--database-url', PG_URL, '--search-path', schema]);
    expect(writer.code).toBe(1);
    expect(writer.err).toContain('can write');
  });

  it('lookout check --target: starts its own Prometheus with the committed rules, scrapes with the token, checks', async () => {
    const readerUrl = connectionString({ user: role, password });
    const result = await cli(['check', '--target', api!.target, '--bearer-token-file', join(dir, 'token'), '--database-url', readerUrl, '--search-path', schema]);
    expect(result.code, `${result.err}\n${result.out.slice(-2000)}`).toBe(0);
    expect(result.out).toMatch(/prometheus at http:\/\/127\.0\.0\.1:\d+ scraping job inference-api/);
    // The default wait: two of the datasource's 15s scrape intervals and 5s, so the aligned ends of the range queries have history.
    expect(result.out).toMatch(/collecting 35s of history/);
    expect(result.out).toMatch(/^73 targets checked, 0 failed/m);
  }, 120_000);
});
