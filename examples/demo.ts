/**
 * `npm run demo` (also `lookout demo`): the reference inference API on the embedded PGlite store,
 * live traffic against it, Prometheus with the generated config when it is on PATH and
 * Alertmanager with the generated routing when it is installed (notifications printed). Prints
 * the URLs; `--fault` injects a fault (examples/inference-api/faults.ts); Ctrl-C stops everything and flushes the KPI events. `--once` is a bounded smoke run.
 *
 * @example
 * ```sh
 * npm run demo
 * npm run demo -- --port 8080 --rate 50 --duration 10m
 * ```
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { loadProvisionConfig } from '../src/provision/config-file.js';
import { resolveProvisionOptions } from '../src/provision/options.js';
import { operationsAlertGroup } from '../src/provision/prometheus/ops-rules.js';
import { burnRateAlertGroup } from '../src/provision/prometheus/slo-rules.js';
import { generateRunbooks } from '../src/provision/runbooks.js';
import { durationFlag, parseFlags, usageError } from '../src/cli/command.js';
import { LookoutError } from '../src/core/errors.js';
import { readStoreAddress } from '../src/kpi/store-host.js';
import { ALERTMANAGER_HINT, startDemoAlertmanager } from './demo-alertmanager.js';
import { writeDemoGrafana } from './demo-grafana.js';
import { graphLink, PROMETHEUS_HINT, startDemoPrometheus } from './demo-prometheus.js';
import { parseFault, type Fault } from './inference-api/faults.js';
import type { Kpi } from '../src/kpi/index.js';
import { startInferenceApi, type InferenceApi, type PluginOptions } from './inference-api/app.js';
import type { InferenceEvent } from './inference-api/routes.js';
import { describeTraffic, runTraffic, type TrafficReport } from './inference-api/traffic.js';

const usage = `Usage: npm run demo -- [options]      (or: npx lookout demo [options])

Starts the reference inference API (KPI events in embedded PGlite), sends it realistic traffic,
and starts Prometheus with the generated scrape job and rules when \`prometheus\` is on PATH, and
Alertmanager with the generated routing when it is installed (alerts are printed as they arrive).
Ctrl-C stops everything and flushes the KPI events.

Options:
  --port <n>          API port (default 8000, or a free one when 8000 is taken; 0 = any)
  --data-dir <dir>    PGlite data folder (default .lookout/pglite)
  --store-port <n>    port of the embedded store's process on 127.0.0.1 when the demo starts it,
                      for psql or a Grafana datasource (default: any free one). Provisioning for
                      a Grafana on this host is written beside the data folder (.lookout/grafana)
  --rate <n>          traffic, requests per second (default 20)
  --duration <d>      stop by itself after this long, e.g. 10m (default 1h)
  --no-prometheus     do not start Prometheus even when it is on PATH
  --no-alertmanager   do not start Alertmanager even when it is on PATH
  --fault <spec>      start the API with fault injection and this fault, e.g.
                      latency:/inference/start:1500ms, errors:/inference/start:50%, hang:*:3s,
                      kpi-store-down, memory-leak:20mb, event-loop-block:800ms, cardinality (more at
                      /faults, or: npm run traffic -- --fault <spec>)
  --once              smoke run: a few seconds of traffic, a summary, then stop
  -h, --help          show this help`;

// The generated runbooks (the alerts' runbook_url points at /lookout/runbooks), from the committed config.
const CONFIG = await loadProvisionConfig(join(import.meta.dirname, '..', 'deploy', 'lookout.config.yaml'));
const PROVISION = resolveProvisionOptions(CONFIG);
const DEMO_RUNBOOKS = generateRunbooks(PROVISION, [burnRateAlertGroup(PROVISION), operationsAlertGroup(PROVISION)]);

const FLAGS = {
  port: { type: 'string' },
  'data-dir': { type: 'string' },
  'store-port': { type: 'string' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  'no-prometheus': { type: 'boolean' },
  'no-alertmanager': { type: 'boolean' },
  fault: { type: 'string' },
  once: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The API process's RSS and the time it took to listen. */
function describeApi(apiReadyMs: number): string {
  return `api pid ${process.pid} RSS ${mib(process.memoryUsage().rss)} listening after ${(apiReadyMs / 1000).toFixed(1)} s`;
}

/** The embedded store process's RSS, its ready time, and how to read it with psql (read-only role). */
function describeStore(dataDir: string, storeReadyMs: number): string {
  const store = readStoreAddress(dataDir);
  if (store === undefined) return `ready after ${(storeReadyMs / 1000).toFixed(1)} s`;
  let rss = 'RSS ?';
  try {
    rss = `RSS ${mib(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${store.pid}/status`, 'utf8'))?.[1]) * 1024)}`;
  } catch {
    // no /proc (macOS): the pid is still worth printing
  }
  return `pid ${store.pid} ${rss} ready after ${(storeReadyMs / 1000).toFixed(1)} s (psql ${store.readerConnectionString ?? store.connectionString})`;
}

/**
 * Writes Grafana provisioning beside the data folder (datasources on the demo's Prometheus and on
 * the embedded store as its read-only role, and the dashboards) and says how to start Grafana on it.
 */
async function grafanaLine(dataDir: string, prometheusUrl: string | undefined): Promise<string> {
  const store = readStoreAddress(dataDir);
  if (store === undefined) return '  grafana:    not written (the store process left no address)';
  try {
    const grafana = await writeDemoGrafana(join(dirname(dataDir), 'grafana'), CONFIG, { storePort: store.port, prometheusUrl });
    return `  grafana:    GF_PATHS_PROVISIONING=${grafana.provisioning} grafana server   (datasources: ${prometheusUrl === undefined ? 'Prometheus at $PROMETHEUS_URL' : 'the Prometheus above'} and the KPI store as lookout_reader; the dashboards of deploy/)`;
  } catch (error) {
    return `  grafana:    provisioning not written: ${(error as Error).message}`;
  }
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MB`;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS, usage);
  if (values.help === true) {
    console.log(usage);
    return 0;
  }
  const startedAt = performance.now();
  const once = values.once === true;
  const requestedPort = values.port === undefined ? undefined : integer('--port', values.port, 0, 65535);
  const storePort = values['store-port'] === undefined ? undefined : integer('--store-port', values['store-port'], 0, 65535);
  const rate = values.rate === undefined ? (once ? 40 : 20) : integer('--rate', values.rate, 1, 10_000);
  const durationMs = once ? 6000 : durationFlag(values.duration ?? '1h', '--duration', usage);
  const dataDir = values['data-dir'] ?? '.lookout/pglite';
  let fault: Fault | undefined;
  try {
    fault = values.fault === undefined ? undefined : parseFault(values.fault);
  } catch (error) {
    throw usageError(`--fault: ${(error as Error).message.replace('LOOKOUT_E_FAULT: ', '')}`, usage);
  }
  const port = await choosePort(requestedPort);

  // Alertmanager, then Prometheus (sending to it), so its URL can go to the API's options; it
  // waits for the target to come up.
  const withPrometheus = values['no-prometheus'] !== true;
  const alertmanager = withPrometheus && values['no-alertmanager'] !== true ? await startDemoAlertmanager({ print: (line) => console.log(line) }) : undefined;
  let prometheus: Awaited<ReturnType<typeof startDemoPrometheus>>;
  let api: InferenceApi;
  try {
    prometheus = withPrometheus ? await startDemoPrometheus({ target: `127.0.0.1:${port}`, scrapeInterval: once ? '1s' : '5s', alertmanagers: alertmanager === undefined ? [] : [alertmanager.target] }) : undefined;
  } catch (error) {
    await alertmanager?.stop();
    throw error;
  }
  try {
    api = await startInferenceApi({ port, dataDir, ...(storePort !== undefined && { storePort }), queue: { capacity: 32 }, faults: fault !== undefined, adapter: ({ kpi }) => builtInPage(kpi, prometheus) });
  } catch (error) {
    await prometheus?.stop();
    await alertmanager?.stop();
    throw error;
  }
  const apiReadyMs = performance.now() - startedAt;
  if (fault !== undefined) api.faults!.inject(fault);
  const stop = new AbortController();
  let firstSignalAt: number | undefined;
  const onSignal = () => {
    // `tsx file.ts` passes the terminal's Ctrl-C on to this process, which also gets it from the
    // terminal: a second signal within a second is that copy, not a second Ctrl-C.
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt > 1000) process.exit(130);
      return;
    }
    firstSignalAt = Date.now();
    console.log('\nstopping (Ctrl-C again to quit at once)...');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Not waited for: on a fresh folder the store process's initdb takes seconds, and the API
  // keeps the events in memory meanwhile. Its line is printed once it is ready.
  let storeReadyMs: number | undefined;
  const storeReady = api.kpi.ready({ deadlineMs: 45_000 }).then((ready) => {
    if (ready) storeReadyMs = performance.now() - startedAt;
    return ready;
  });
  const traffic = runTraffic({
    url: api.url,
    durationMs,
    rate,
    signal: stop.signal,
    ...(once ? { retrainEveryMs: 3000, burstEveryMs: 0 } : { onProgress: (report: Readonly<TrafficReport>) => console.log(`traffic: ${describeTraffic(report)}`), progressEveryMs: 30_000 }),
  });
  if (prometheus !== undefined) await prometheus.waitForTargets({ scrapes: 1, timeoutMs: 30_000 }).catch((error: unknown) => console.log(`prometheus: ${(error as Error).message.split('\n')[0]}`));
  const page = await hasBuiltInPage(api.url);

  console.log(`lookout demo ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: the reference inference API with live traffic`);
  console.log(`  api:        ${api.url}/   (docs: ${api.url}/docs)`);
  console.log(`  metrics:    ${api.url}/metrics   (try: curl -s ${api.url}/metrics | grep http_requests_total)`);
  if (page) console.log(`  dashboard:  ${api.url}/lookout`);
  if (prometheus === undefined) console.log(values['no-prometheus'] === true ? '  prometheus: not started (--no-prometheus)' : `  ${PROMETHEUS_HINT}`);
  else {
    console.log(`  prometheus: ${prometheus.url}   (job ${prometheus.job}, SLO and alert rules from deploy/prometheus/rules)`);
    console.log(`              request rate: ${graphLink(prometheus.url, 'sum by (route) (rate(http_requests_total[1m]))')}`);
  }
  if (alertmanager !== undefined) console.log(`  alertmanager: ${alertmanager.url}   (generated routing; notifications are printed here as "alert: ...")`);
  else if (withPrometheus && values['no-alertmanager'] !== true) console.log(`  ${ALERTMANAGER_HINT}`);
  if (fault !== undefined) console.log(`  fault:      ${fault.spec} injected (list, add or clear at ${api.url}/faults; the alerts' runbooks: ${api.url}/lookout/runbooks)`);
  console.log(`  KPI events: ${api.storeDescription}${storeReadyMs === undefined ? ' (opening; events wait in memory)' : ''}`);
  console.log(`  processes:  ${describeApi(apiReadyMs)}`);
  const storeLine = (ready: boolean): string => `  KPI store:  ${ready ? (embeddedStore ? describeStore(dataDir, storeReadyMs!) : `ready after ${(storeReadyMs! / 1000).toFixed(1)} s`) : 'not open after 45 s (events wait in memory)'}`;
  const embeddedStore = api.storeDescription.startsWith('embedded');
  const printStore = async (ready: boolean): Promise<void> => {
    console.log(storeLine(ready));
    if (ready && embeddedStore) console.log(await grafanaLine(dataDir, prometheus?.url));
  };
  const storePrinted = storeReadyMs === undefined ? storeReady.then(printStore) : printStore(true);
  console.log(`  traffic:    ${rate} requests/s, inputs drifting so accuracy falls until a retrain; stops after ${durationMs / 1000}s`);
  if (!once) console.log('Ctrl-C stops everything and flushes the KPI events.');

  const report = await traffic;
  if (once) await storePrinted;
  if (once) await summarise(api, prometheus);
  console.log(`traffic: ${describeTraffic(report)}`);
  await prometheus?.stop();
  await alertmanager?.stop();
  await api.close();
  const stats = api.kpi.stats();
  const dropped = Object.values(stats.dropped).reduce((sum, count) => sum + count, 0);
  console.log(`stopped: ${stats.written} KPI events written to ${api.storeDescription}, ${stats.pending} unwritten, ${dropped} dropped`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return 0;
}

/** The built-in page at /lookout: KPI panels from the API's store, charts from Prometheus when it runs. */
function builtInPage(kpi: Kpi<InferenceEvent>, prometheus: { readonly url: string; readonly job: string } | undefined): PluginOptions {
  return { dashboard: { kpi, runbooks: DEMO_RUNBOOKS, ...(prometheus !== undefined && { prometheusUrl: prometheus.url, prometheusSelector: `job="${prometheus.job}"` }) } };
}

async function hasBuiltInPage(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/lookout`, { signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function summarise(api: InferenceApi, prometheus: Awaited<ReturnType<typeof startDemoPrometheus>>): Promise<void> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  console.log('http_requests_total series:');
  console.log(text.split('\n').filter((line) => line.startsWith('http_requests_total')).join('\n'));
  if (prometheus === undefined) return;
  await prometheus.waitForTargets({ scrapes: 2, timeoutMs: 20_000 });
  const result = await prometheus.client.query(`count({job="${prometheus.job}"})`, Date.now() / 1000);
  console.log(`prometheus: ${result.series[0]?.values[0]?.[1] ?? 0} series scraped from job ${prometheus.job}`);
}

async function choosePort(requested: number | undefined): Promise<number> {
  if (requested !== undefined && requested !== 0) return requested;
  if (requested === undefined && (await canListen(8000))) return 8000;
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function integer(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < min || value > max) throw usageError(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`, usage);
  return value;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  const usageProblem = error instanceof LookoutError && error.code === 'LOOKOUT_E_CLI_USAGE';
  console.error(`demo: ${(error as Error).message.replace('LOOKOUT_E_CLI_USAGE: ', '')}`);
  process.exitCode = usageProblem ? 2 : 1;
}
