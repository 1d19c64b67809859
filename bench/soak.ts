/**
 * `npm run soak`: load with one KPI event per request into the real
 * PostgreSQL, a scrape every second, and the database taken away once in the
 * middle; then checks RSS, lost or duplicated KPI events, and series count.
 *
 *   npm run soak                         (SOAK_SECONDS=300; SOAK_OUTAGE=restart restarts PostgreSQL itself)
 *   SOAK_SECONDS=60 npm run soak         the CI-sized run
 *   SOAK_RATE=0 npm run soak             as fast as the app answers (default 15,000 requests/s)
 *
 * The load is paced to a fixed rate: what the outage leaves buffered (every
 * event of its seconds) is then the same on a fast machine as on a slow one,
 * and so is the RSS high-water mark it leaves behind. Unpaced, on a machine
 * twice as fast as the one the RSS bound was set on (35,000 against 16,000
 * requests/s), the outage's buffer alone raised RSS by 11-16 %, on the
 * landed code and on new code alike.
 *
 * The outage is a TCP proxy between the app and PostgreSQL that resets every
 * connection and refuses new ones for a few seconds (the shared server stays
 * up), or, with SOAK_OUTAGE=restart, `pg_ctlcluster ... restart`.
 */
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { TcpProxy } from '../test/kpi/tcp-proxy.js';
import { emit, median, startServer, stopServer, writeSection } from './lib.js';

export interface SoakOptions {
  readonly seconds: number;
  readonly outage: 'proxy' | 'restart';
  readonly outageSeconds?: number;
  readonly databaseUrl?: string;
  /** Requests per second the load is paced to; 0: as fast as the app answers. */
  readonly rate?: number;
}

export interface SoakResult {
  seconds: number;
  /** Requests per second the load was paced to (0: unpaced). */
  rate: number;
  requests: number;
  recorded: number;
  rows: number;
  distinctIds: number;
  dropped: number;
  droppedByReason: Record<string, number>;
  rssWarmMB: number;
  rssEndMB: number;
  rssGrowthPercent: number;
  seriesWarm: number;
  seriesEnd: number;
  /** Metrics whose series count differs between warm-up and end: name -> [warm, end]. */
  seriesChanged: Record<string, [number, number]>;
  scrapes: number;
  outage: string;
}

interface State {
  series: number;
  seriesByMetric: Record<string, number>;
  rss: number;
  kpi: { recorded: number; written: number; pending: number; dropped: Record<string, number> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function state(base: string): Promise<State> {
  return (await (await fetch(`${base}/debug/state`)).json()) as State;
}

async function load(base: string, until: number, concurrency: number, rate: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const started = Date.now();
  let requests = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      // Request n is due n / rate seconds after the start; a worker ahead of that waits.
      const ahead = rate > 0 ? started + (requests * 1000) / rate - Date.now() : 0;
      if (ahead >= 1) {
        await sleep(ahead);
        continue;
      }
      await new Promise<void>((resolve) => {
        http.get(`${base}/users/${requests++}`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return requests;
}

function restartPostgres(): void {
  const version = readdirSync('/etc/postgresql')[0]!;
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'inherit', timeout: 60_000 });
}

/** Runs one soak; throws only on set-up failures (the caller judges the figures). */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const databaseUrl = options.databaseUrl ?? process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
  const target = new URL(databaseUrl);
  const schema = `soak_${process.pid}_${Date.now()}`;
  const proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
  const viaProxy = new URL(databaseUrl);
  viaProxy.port = String(proxy.port);
  const { child, port } = await startServer('bench/servers/soak-app.ts', [viaProxy.toString(), schema], ['--expose-gc']);
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const until = started + options.seconds * 1000;
  const rss: { at: number; rss: number; series: number; byMetric: Record<string, number> }[] = [];
  let scrapes = 0;
  try {
    const traffic = load(base, until, 16, options.rate ?? 0);
    const monitor = (async () => {
      while (Date.now() < until) {
        const next = Date.now() + 1000;
        await (await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer();
        scrapes++;
        const sample = await state(base);
        rss.push({ at: (Date.now() - started) / 1000, rss: sample.rss, series: sample.series, byMetric: sample.seriesByMetric });
        await sleep(Math.max(0, next - Date.now()));
      }
    })();
    const outage = (async () => {
      await sleep((options.seconds * 1000) / 2);
      const seconds = options.outageSeconds ?? 5;
      if (options.outage === 'restart') {
        restartPostgres();
      } else {
        await proxy.refuse();
        await sleep(seconds * 1000);
        await proxy.pass();
      }
    })();
    const requests = await traffic;
    await Promise.all([monitor, outage]);
    const closed = (await (await fetch(`${base}/debug/close`, { method: 'POST' })).json()) as { flushed: boolean; kpi: State['kpi'] };
    const reader = new pg.Client({ connectionString: databaseUrl });
    await reader.connect();
    const { rows } = await reader.query<{ rows: string; ids: string }>(`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM "${schema}".events`);
    await reader.query(`DROP SCHEMA "${schema}" CASCADE`);
    await reader.end();
    // Warm-up: the first fifth of the run. RSS compared as medians of the samples after it and of the last fifth.
    const warm = rss.filter((sample) => sample.at >= options.seconds / 5 && sample.at < (options.seconds * 2) / 5);
    const end = rss.filter((sample) => sample.at >= (options.seconds * 4) / 5);
    const rssWarm = median(warm.map((sample) => sample.rss));
    const rssEnd = median(end.map((sample) => sample.rss));
    const result: SoakResult = {
      seconds: options.seconds,
      rate: options.rate ?? 0,
      requests,
      recorded: closed.kpi.recorded,
      rows: Number(rows[0]!.rows),
      distinctIds: Number(rows[0]!.ids),
      dropped: Object.values(closed.kpi.dropped).reduce((total, count) => total + count, 0),
      droppedByReason: closed.kpi.dropped,
      rssWarmMB: rssWarm / 1e6,
      rssEndMB: rssEnd / 1e6,
      rssGrowthPercent: ((rssEnd - rssWarm) / rssWarm) * 100,
      seriesWarm: warm[0]?.series ?? 0,
      seriesEnd: rss[rss.length - 1]?.series ?? 0,
      seriesChanged: changedSeries(warm[0]?.byMetric ?? {}, rss[rss.length - 1]?.byMetric ?? {}),
      scrapes,
      outage: options.outage === 'restart' ? 'PostgreSQL restarted (pg_ctlcluster restart)' : `connections reset and refused for ${options.outageSeconds ?? 5} s (TCP proxy)`,
    };
    emit({ bench: 'soak', ...result });
    return result;
  } finally {
    await stopServer(child);
    await proxy.stop();
  }
}

/** Metrics whose series count differs between two samples of `/debug/state`. */
export function changedSeries(before: Record<string, number>, after: Record<string, number>): Record<string, [number, number]> {
  const changed: Record<string, [number, number]> = {};
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[name] ?? 0;
    const now = after[name] ?? 0;
    if (was !== now) changed[name] = [was, now];
  }
  return changed;
}

/**
 * Metrics whose label values name the process's state rather than its traffic:
 * `nodejs_active_resources{type}` gains a series the first time libuv holds a
 * resource of a new type (a `TCPConnectWrap` while the store reconnects after the
 * outage, say), from a vocabulary of a few dozen types and capped at 100 series.
 * A change there is reported, not failed; every other metric must keep its count.
 */
const STATE_LABELLED = new Set(['nodejs_active_resources']);

/** What the soak promises: nothing lost or duplicated, flat RSS, constant series. */
export function soakFailures(result: SoakResult): string[] {
  const failures: string[] = [];
  if (result.rows !== result.recorded) failures.push(`${result.recorded - result.rows} KPI events lost (${JSON.stringify(result.droppedByReason)})`);
  if (result.distinctIds !== result.rows) failures.push(`${result.rows - result.distinctIds} KPI rows duplicated`);
  if (!(result.rssGrowthPercent <= 10)) failures.push(`RSS grew ${result.rssGrowthPercent.toFixed(1)} % after warm-up`);
  const grown = Object.entries(result.seriesChanged).filter(([name]) => !STATE_LABELLED.has(name));
  if (grown.length > 0) failures.push(`series count changed ${result.seriesWarm} -> ${result.seriesEnd}: ${JSON.stringify(Object.fromEntries(grown))}`);
  if (result.requests === 0 || result.scrapes === 0) failures.push('no load or no scrapes ran');
  return failures;
}

/** One markdown row for RELIABILITY.md. */
export function soakRow(result: SoakResult): string {
  const lost = result.recorded - result.rows;
  const pace = result.rate > 0 ? ` paced at ${result.rate.toLocaleString('en')}/s` : ' unpaced';
  return `| ${result.seconds} s${pace}, ${result.requests.toLocaleString('en')} requests, ${result.scrapes} scrapes; ${result.outage} | ${result.recorded.toLocaleString('en')} recorded → ${result.rows.toLocaleString('en')} rows, ${result.distinctIds.toLocaleString('en')} distinct ids (lost ${lost}, duplicated ${result.rows - result.distinctIds}, dropped ${result.dropped}) | ${result.rssWarmMB.toFixed(0)} → ${result.rssEndMB.toFixed(0)} MB (${result.rssGrowthPercent >= 0 ? '+' : ''}${result.rssGrowthPercent.toFixed(1)} %) | ${result.seriesWarm} → ${result.seriesEnd} |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runSoak({
    seconds: Number(process.env['SOAK_SECONDS'] ?? 300),
    outage: process.env['SOAK_OUTAGE'] === 'restart' ? 'restart' : 'proxy',
    rate: Number(process.env['SOAK_RATE'] ?? 15_000),
  });
  const table = ['| run | KPI events | RSS after warm-up → end | series |', '|---|---|---|---|', soakRow(result)].join('\n');
  console.log(table);
  const failures = soakFailures(result);
  if (process.env['SOAK_WRITE'] === '1') {
    await writeSection(`soak-${result.outage.startsWith('PostgreSQL') ? 'restart' : 'proxy'}`, [
      `### Soak: ${result.outage}`,
      '',
      `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Reproduce: \`SOAK_SECONDS=${result.seconds}${result.outage.startsWith('PostgreSQL') ? ' SOAK_OUTAGE=restart' : ''} npm run soak\`. Verdict: ${failures.length === 0 ? '**pass**' : `**fail**: ${failures.join('; ')}`}.`,
      '',
      table,
    ].join('\n'), 'RELIABILITY.md');
  }
  for (const failure of failures) console.error(`soak: FAILED: ${failure}`);
  process.exit(failures.length === 0 ? 0 : 1);
}
