import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasCommand, probe } from '../test/support/e2e.js';
import { alertmanagerBinary } from './alertmanager-runner.js';
import { freePort } from '../test/support/prometheus.js';

const prometheus = await probe('prometheus', () => hasCommand('prometheus', ['--version']));
const alertmanager = prometheus && (await probe('prometheus-alertmanager', () => alertmanagerBinary() !== undefined));
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function demo(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/demo.ts', ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run demo --once', () => {
  it('starts the API on a fresh embedded PGlite folder, sends traffic, prints the URLs, stops and flushes the KPI events', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-demo-'));
    dirs.push(dataDir);
    const storePort = await freePort();
    const { code, stdout, stderr } = await demo(['--once', '--port', '0', '--store-port', String(storePort), '--data-dir', join(dataDir, 'pglite'), ...(prometheus ? [] : ['--no-prometheus'])]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/^lookout demo ready in \d+\.\d s/m);
    expect(stdout).toMatch(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(stdout).toMatch(/http_requests_total\{method="POST",route="\/inference\/start",status="202"[^}]*\} \d+/);
    expect(stdout).toMatch(/http_requests_total\{method="GET",route="\/inference\/results\/:id",status="200"[^}]*\} \d+/);
    expect(stdout).toMatch(/route="__unmatched__",status="404"/);
    expect(stdout).toContain(`KPI events: embedded store (${join(dataDir, 'pglite')})`);
    // Ready in under 10 s from a data folder that does not exist yet (as on a fresh clone): the
    // API listens without waiting for the store process's initdb, whose line follows.
    expect(Number(/^lookout demo ready in (\d+\.\d) s/m.exec(stdout)?.[1]), stdout).toBeLessThan(10);
    expect(stdout).toMatch(/^ {2}processes: {2}api pid \d+ RSS \d+ MB listening after [\d.]+ s$/m);
    const store = /^ {2}KPI store: {2}pid (\d+) RSS \d+ MB ready after [\d.]+ s \(psql (postgresql:\/\/lookout_reader@127\.0\.0\.1:(\d+)\/postgres)\)$/m.exec(stdout);
    expect(store, stdout).not.toBeNull();
    expect(Number(store![3])).toBe(storePort); // --store-port: the fixed address a Grafana datasource names
    const stopped = /^stopped: (\d+) KPI events written to embedded store .*, 0 unwritten, 0 dropped$/m.exec(stdout);
    expect(stopped, stdout).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThan(50);
    // Grafana provisioning beside the data folder: PostgreSQL is the embedded store on its port as
    // the read-only role, Prometheus the demo's own, and the provider finds the four dashboards.
    const grafana = join(dataDir, 'grafana');
    expect(stdout).toContain(`  grafana:    GF_PATHS_PROVISIONING=${join(grafana, 'provisioning')} grafana server`);
    const sources = (parse(await readFile(join(grafana, 'provisioning/datasources/datasources.yml'), 'utf8')) as { datasources: { type: string; url: string; user?: string; jsonData: { database?: string } }[] }).datasources;
    const postgres = sources.find((source) => source.type === 'grafana-postgresql-datasource')!;
    expect(postgres).toMatchObject({ url: `127.0.0.1:${storePort}`, user: 'lookout_reader', jsonData: { database: 'postgres' } });
    if (prometheus) expect(sources.find((source) => source.type === 'prometheus')!.url).toBe(/prometheus: (http:\/\/127\.0\.0\.1:\d+) /.exec(stdout)?.[1]);
    const provider = (parse(await readFile(join(grafana, 'provisioning/dashboards/dashboards.yaml'), 'utf8')) as { providers: { options: { path: string } }[] }).providers[0]!;
    expect(provider.options.path).toBe(join(grafana, 'dashboards'));
    expect((await readdir(join(provider.options.path, 'inference-api'))).sort()).toEqual(['api-overview.json', 'inference-kpis.json', 'model-quality.json', 'runtime.json']);
    // Both the printed read-only string and the datasource's connection (host:port, user, database,
    // no password) work with psql and find every event written; then the store process
    // (idle-stopping on its own) is stopped here.
    try {
      for (const url of [store![2]!, `postgresql://${postgres.user!}@${postgres.url}/${postgres.jsonData.database!}`]) {
        const { stdout: counted } = await promisify(execFile)('psql', [url, '-At', '-c', 'SELECT current_user, count(*) FROM events']);
        expect(counted.trim()).toBe(`lookout_reader|${stopped![1]!}`);
      }
    } finally {
      process.kill(Number(store![1]), 'SIGTERM');
    }
    if (prometheus) {
      expect(stdout).toMatch(/prometheus: http:\/\/127\.0\.0\.1:\d+ +\(job inference-api/);
      // Alertmanager starts with Prometheus when it is installed, else one line says how to add it.
      expect(stdout).toMatch(alertmanager ? /^ {2}alertmanager: http:\/\/127\.0\.0\.1:\d+ /m : /^ {2}alertmanager: not on PATH, skipped .*apt-get install prometheus-alertmanager$/m);
      expect(Number(/^prometheus: (\d+) series scraped from job inference-api$/m.exec(stdout)?.[1])).toBeGreaterThan(100);
    }
  });

  it('--help exits 0; a bad flag exits 2 with the usage', async () => {
    const help = await demo(['--help']);
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('Usage: npm run demo')]);
    const bad = await demo(['--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be an integer');
    expect((await demo(['--frobnicate'])).code).toBe(2);
  });
});
