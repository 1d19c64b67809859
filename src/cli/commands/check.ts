import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadProvisionConfig } from '../../provision/config-file.js';
import { resolveProvisionOptions } from '../../provision/options.js';
import { prometheusConfig } from '../../provision/prometheus/config.js';
import { checkDashboards, type CheckReport } from '../../verify/checker.js';
import { loadDashboards, loadDatasources, queryPanels } from '../../verify/dashboards.js';
import { PostgresRunner } from '../../verify/postgres-runner.js';
import { PrometheusClient } from '../../verify/prometheus-client.js';
import { startPrometheus, type RunningPrometheus } from '../../verify/prometheus-runner.js';
import type { VariableSelection } from '../../verify/variables.js';
import { durationFlag, parseFlags, usageError, type CliCommand, type CliIo } from '../command.js';

const usage = `Usage: lookout check [--deploy <dir>] (--target <host:port>... | --prometheus-url <url> | --static) [options]

Runs every query of every dashboard under <dir>/grafana/dashboards, expanded exactly as Grafana
expands it, against Prometheus and PostgreSQL; every query must succeed and return data.

Where the metrics come from (one of):
  --target <host:port>       start a throw-away Prometheus (needs \`prometheus\` on PATH) with the
                             job and rules of <dir>, scraping this API (repeatable; the API must
                             be receiving traffic)
  --prometheus-url <url>     use a running Prometheus that already scrapes the API
  --static                   expand every query and print it; run nothing

Options:
  --deploy <dir>             generated provisioning (default: deploy)
  --config <file>            provisioning options (default: <dir>/lookout.config.yaml)
  --database-url <url>       PostgreSQL as Grafana's read-only role (or LOOKOUT_CHECK_DATABASE_URL)
  --search-path <schema>     schema holding the events table (default: the role's search_path)
  --bearer-token-file <f>    token for /metrics (with --target)
  --scrape-interval <d>      scrape and rule interval of the throw-away Prometheus (default 1s)
  --wait <d>                 history to collect before checking, e.g. 30s (default: two of the Prometheus
                             datasource's scrape intervals plus 5s, at least 15s)
  --range <d>                check the last <d> (e.g. 15m) instead of each dashboard's own range
  --var <name>=<v1,v2|all>   variable selection instead of the saved one (repeatable)
  --allow-writer             accept a PostgreSQL role that can write (Grafana's must not)
  -h, --help                 show this help

Exit codes: 0 every query returned data, 1 some did not (or a service failed), 2 bad usage.`;

const FLAGS = {
  deploy: { type: 'string' },
  config: { type: 'string' },
  target: { type: 'string', multiple: true },
  'prometheus-url': { type: 'string' },
  static: { type: 'boolean' },
  'database-url': { type: 'string' },
  'search-path': { type: 'string' },
  'bearer-token-file': { type: 'string' },
  'scrape-interval': { type: 'string' },
  wait: { type: 'string' },
  range: { type: 'string' },
  var: { type: 'string', multiple: true },
  'allow-writer': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `lookout check`: proves every dashboard query against real Prometheus and PostgreSQL.
 *
 * @example
 * ```ts
 * await check.run(['--target', '127.0.0.1:3000', '--database-url', readerUrl], io);
 * ```
 */
export const check: CliCommand = {
  name: 'check',
  summary: 'Run every dashboard query, expanded as Grafana does, against Prometheus and PostgreSQL.',
  usage,
  async run(argv, io) {
    const { values } = parseFlags(argv, FLAGS, usage);
    const sources = [values.target !== undefined, values['prometheus-url'] !== undefined, values.static === true].filter(Boolean).length;
    if (sources !== 1) throw usageError('give exactly one of --target, --prometheus-url or --static', usage);
    const deploy = resolve(io.cwd, values.deploy ?? 'deploy');
    const rangeMs = values.range === undefined ? undefined : durationFlag(values.range, '--range', usage);
    const variables = parseVariables(values.var ?? []);
    const dashboards = await loadDashboards(join(deploy, 'grafana/dashboards'));
    const datasources = await loadDatasources(join(deploy, 'grafana/provisioning/datasources/datasources.yml'));
    const waitMs = values.wait === undefined ? defaultWaitMs(datasources) : durationFlag(values.wait, '--wait', usage);
    const now = Date.now();
    const range = rangeMs === undefined ? undefined : { fromMs: now - rangeMs, toMs: now };
    const common = { dashboards, datasources, variables, ...(range === undefined ? {} : { range }) };
    if (values.static === true) return report(io, await checkDashboards({ ...common, expandOnly: true }), true);

    const databaseUrl = values['database-url'] ?? process.env['LOOKOUT_CHECK_DATABASE_URL'];
    const needsSql = dashboards.some(({ dashboard }) => queryPanels(dashboard).some((panel) => (panel.targets ?? []).some((target) => target.rawSql !== undefined)));
    if (needsSql && (databaseUrl === undefined || databaseUrl === '')) throw usageError('the dashboards query PostgreSQL: pass --database-url (as the read-only role Grafana uses)', usage);
    let prometheus: RunningPrometheus | undefined;
    const postgres = databaseUrl === undefined ? undefined : new PostgresRunner({ connectionString: databaseUrl, ...(values['search-path'] === undefined ? {} : { searchPath: values['search-path'] }) });
    try {
      if (postgres !== undefined && values['allow-writer'] !== true) {
        const role = await postgres.role();
        if (role.superuser || role.writableTables.length > 0) {
          io.err(`lookout check: PostgreSQL role ${role.user} can write (${role.superuser ? 'superuser' : role.writableTables.join(', ')}); Grafana must read as the read-only role (or pass --allow-writer)`);
          return 1;
        }
      }
      let client: PrometheusClient;
      if (values.target !== undefined) {
        prometheus = await startLocalPrometheus(io, deploy, values.config, values.target, values['bearer-token-file'], values['scrape-interval'] ?? '1s');
        await prometheus.waitForTargets({ timeoutMs: 60_000, scrapes: 2 });
        io.out(`lookout check: targets up; collecting ${waitMs / 1000}s of history`);
        await new Promise((done) => setTimeout(done, waitMs));
        client = prometheus.client;
      } else {
        client = new PrometheusClient(values['prometheus-url']!);
      }
      return report(io, await checkDashboards({ ...common, prometheus: client, postgres }), false);
    } finally {
      await postgres?.close();
      await prometheus?.stop();
    }
  },
};

async function startLocalPrometheus(io: CliIo, deploy: string, configFlag: string | undefined, targets: readonly string[], tokenFile: string | undefined, interval: string): Promise<RunningPrometheus> {
  const configPath = configFlag === undefined ? join(deploy, 'lookout.config.yaml') : resolve(io.cwd, configFlag);
  const hasConfig = await access(configPath).then(() => true, () => false);
  const options = resolveProvisionOptions(hasConfig ? await loadProvisionConfig(configPath) : {});
  const config = prometheusConfig(options, {
    targets,
    ruleFiles: [join(deploy, 'prometheus/rules/*.yml')],
    bearerTokenFile: tokenFile === undefined ? undefined : resolve(io.cwd, tokenFile),
    scrapeInterval: interval,
    evaluationInterval: interval,
  });
  const prometheus = await startPrometheus({ config });
  io.out(`lookout check: prometheus at ${prometheus.url} scraping job ${options.service}: ${targets.join(', ')}`);
  return prometheus;
}

/**
 * How much history a throw-away Prometheus needs before every panel has data:
 * Grafana aligns a range query's end to its step, which is at least the
 * datasource's scrape interval (`timeInterval`), so a rate needs two of them
 * behind it, and the rules' recordings a few seconds more to reach the windows
 * built on them. At least 15 s (the former fixed default).
 */
function defaultWaitMs(datasources: Awaited<ReturnType<typeof loadDatasources>>): number {
  const prometheus = datasources.find((datasource) => datasource.type === 'prometheus');
  const interval = prometheus?.jsonData?.timeInterval;
  const intervalMs = interval === undefined ? 0 : durationFlag(interval, 'timeInterval', usage);
  return Math.max(15_000, 2 * intervalMs + 5_000);
}

function parseVariables(items: readonly string[]): Record<string, VariableSelection> {
  const variables: Record<string, VariableSelection> = {};
  for (const item of items) {
    const match = /^([A-Za-z_]\w*)=(.*)$/.exec(item);
    if (match === null) throw usageError(`--var must look like name=value, got ${JSON.stringify(item)}`, usage);
    variables[match[1]!] = match[2] === 'all' ? 'all' : match[2]!.split(',');
  }
  return variables;
}

function report(io: CliIo, result: CheckReport, expandOnly: boolean): number {
  for (const target of result.targets) {
    const status = target.ok ? (expandOnly ? 'expanded' : `ok (${target.series} ${target.datasource === 'prometheus' ? 'series' : 'rows'})`) : 'FAILED';
    io.out(`${status.padEnd(16)} ${target.dashboard} › ${target.panel} › ${target.refId}`);
    if (expandOnly) for (const query of target.queries) io.out(`    ${query.replace(/\n/g, '\n    ')}`);
  }
  for (const failure of result.failures) io.err(`FAILED ${failure}`);
  io.out(`${result.targets.length} targets ${expandOnly ? 'expanded' : 'checked'}, ${result.failures.length} failed (${result.variables.length} variable queries)`);
  return result.failures.length === 0 ? 0 : 1;
}
