/**
 * The package as users install it (issue 25): `npm run build` + `npm pack`, then
 * fresh projects under the system's temp folder install the tarball with
 * Fastify, Express and Hono from the npm registry (the local cache first).
 * Fails on a broken export, a missing type, a type error with
 * `skipLibCheck: false`, a failing `require`, a missing bin, a shipped test
 * file or fixture, a file the package needs but does not ship, a README example
 * that does not run, and an install footprint over its bound; prints the
 * footprint of each use. Needs the registry: skips loudly without it, fails
 * with REQUIRE_E2E=1.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTALL_LINES } from '../src/core/optional.js';
import { createProject, ok, packPackage, readmeBlocks, run, runApp, unresolvedImports, type Packed, type Project } from './support/consumer.js';
import { probe } from './support/e2e.js';
import { samples } from './support/http.js';

const REPO = resolve(import.meta.dirname, '..');
const BIN = join(REPO, 'node_modules', '.bin');
/** An app that records HTTP metrics may add this much to its framework's node_modules (issue 25). */
const METRICS_BOUND_KIB = 5 * 1024;
/** The tarball: 280 KB packed, 0.94 MB unpacked today; the bounds leave room to grow, not to ship tests again. */
const PACKED_BOUND = 400 * 1024;
const UNPACKED_BOUND = 1.4 * 1024 * 1024;
/** The subpaths an app that only records HTTP metrics imports: none may need an optional peer. */
const METRICS_ENTRIES = ['.', './fastify', './express', './node'];

const registry = await probe('the npm registry', async () => ok(await run('npm', ['view', 'fastify', 'version', '--prefer-offline'], { cwd: tmpdir(), timeoutMs: 30_000 }), 'npm view').code === 0);

const specifier = (subpath: string): string => `lookout${subpath.slice(1)}`;
/** Generous: the whole suite runs beside this test on two shared cores. */
const SLOW = { timeout: 180_000 };
// scripts/node-lines.sh runs the suites again on Node 22, 24 and 26: packing and installing
// once is enough, and this test runs the CommonJS app on each of those lines itself.
const otherLine = process.env['LOOKOUT_NODE_LINE'];
if (otherLine !== undefined) console.warn(`consumer test: runs once, on the machine's own Node.js line, not again on ${otherLine}`);

describe.skipIf(!registry || otherLine !== undefined)('the packed package in fresh projects', () => {
  let work: string;
  let packed: Packed;
  let subpaths: string[];
  const projects: Record<string, Project> = {};
  const readme = readmeBlocks(readFileSync(join(REPO, 'README.md'), 'utf8'));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lookout-consumer-'));
    packed = await packPackage(REPO, work);
    subpaths = Object.keys(packed.manifest.exports);
    const install = readme.get('install')?.trim().split(/\s+/) ?? [];
    expect(install.slice(0, 3), 'README install line').toEqual(['npm', 'install', 'lookout']);
    // The README's line verbatim, the tarball standing in for the registry's `lookout`.
    const lookout = install.slice(2).map((word) => (word === 'lookout' ? packed.tarball : word));
    const peers = (line: string): string[] => line.split(' ').slice(2);
    const uses: Record<string, string[]> = {
      'fastify': ['fastify'],
      'fastify-metrics': ['fastify', 'fastify-metrics'],
      'metrics': [...lookout, 'fastify'],
      'kpi-pg': [...lookout, 'fastify', ...peers(INSTALL_LINES.pgStore)],
      'kpi-pglite': [...lookout, 'fastify', ...peers(INSTALL_LINES.embeddedStore)],
      'cli': [...lookout, ...peers(INSTALL_LINES.cli)],
      'full': [
        ...lookout, 'fastify', 'express', 'hono', '@hono/node-server', '@types/node@20', '@types/express', 'typescript@5.9',
        ...Object.keys(packed.manifest.peerDependencies).filter((name) => !['express', 'fastify', 'hono', 'prom-client'].includes(name)),
      ],
    };
    const made = await Promise.all(Object.entries(uses).map(async ([name, packages]) => [name, await createProject(work, name, packages)] as const));
    for (const [name, project] of made) projects[name] = project;
  }, 480_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('ships only what users need, every file it needs, and says how big it is', SLOW, () => {
    const paths = packed.files.map((file) => file.path);
    console.log(`tarball ${packed.tarball.split('/').pop()}: ${paths.length} files, ${(packed.size / 1024).toFixed(1)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(1)} KiB unpacked`);
    expect(paths.filter((path) => /\.test\.|\.fixture\.|test-support|\.map$|^(bench|examples|test|deploy|src)\//.test(path))).toEqual([]);
    for (const [subpath, conditions] of Object.entries(packed.manifest.exports)) {
      for (const [condition, target] of Object.entries(conditions)) expect(paths, `${subpath} ${condition}`).toContain(target.replace(/^\.\//, ''));
    }
    for (const target of Object.values(packed.manifest.bin)) expect(paths).toContain(target.replace(/^\.\//, ''));
    expect(unresolvedImports(packed.stage, packed.files)).toEqual([]);
    expect(packed.size).toBeLessThan(PACKED_BOUND);
    expect(packed.unpackedSize).toBeLessThan(UNPACKED_BOUND);
  });

  it('installs at most 5 MB beside the framework for HTTP metrics; prints the footprint of each use', SLOW, () => {
    const base = projects['fastify']!.footprintKiB;
    const uses: Record<string, string> = {
      'fastify': 'Fastify alone',
      'fastify-metrics': 'Fastify + fastify-metrics',
      'metrics': 'Fastify + lookout (HTTP metrics)',
      'kpi-pg': '+ KPI on PostgreSQL (pg)',
      'kpi-pglite': '+ embedded KPI store (PGlite, pg, pg-copy-streams)',
      'cli': 'the CLI (lookout + its line, no framework)',
    };
    const rows = Object.entries(uses).map(([name, use]) => {
      const kib = projects[name]!.footprintKiB;
      return `${use.padEnd(44)} ${(kib / 1024).toFixed(1).padStart(5)} MB${name === 'cli' ? '' : `  (${((kib - base) / 1024).toFixed(1)} MB beside Fastify)`}`;
    });
    console.log(`node_modules (du -sk), each a fresh project:\n${rows.join('\n')}`);
    expect(projects['metrics']!.footprintKiB - base).toBeLessThanOrEqual(METRICS_BOUND_KIB);
  });

  it('the metrics entry points load without any optional peer; the rest say what to install', SLOW, async () => {
    const { dir } = projects['metrics']!;
    writeFileSync(join(dir, 'entries.mjs'), `
const results = {};
for (const subpath of ${JSON.stringify(subpaths)}) {
  try { await import('lookout' + subpath.slice(1)); results[subpath] = 'ok'; }
  catch (error) { results[subpath] = error.code + ' ' + error.message.split('\\n')[0]; }
}
const { createKpi, pgStore } = await import('lookout/kpi');
const { Registry } = await import('lookout');
const { metrics } = await import('lookout/express');
const failure = (make) => { try { make(); return 'no error'; } catch (error) { return error.message; } };
results.pgStore = failure(() => pgStore());
results.defaultStore = failure(() => createKpi({ registry: new Registry(), events: ['x'] }));
results.dashboard = failure(() => metrics({ registry: new Registry(), dashboard: true }));
console.log(JSON.stringify(results));
`);
    const results = JSON.parse(ok(await run(process.execPath, ['entries.mjs'], { cwd: dir }), 'entries.mjs').stdout) as Record<string, string>;
    for (const subpath of [...METRICS_ENTRIES, './kpi']) expect(results[subpath], subpath).toBe('ok');
    const peers = Object.keys(packed.manifest.peerDependencies);
    for (const subpath of subpaths) {
      // Any other subpath may need a peer that this project lacks, and nothing else.
      if (results[subpath] !== 'ok') expect(peers.some((peer) => results[subpath]!.startsWith(`ERR_MODULE_NOT_FOUND Cannot find package '${peer}'`)), `${subpath}: ${results[subpath]}`).toBe(true);
    }
    expect(results['pgStore']).toContain(`LOOKOUT_E_MISSING_DEPENDENCY: the PostgreSQL KPI store (pgStore) needs the package "pg", which is not installed: ${INSTALL_LINES.pgStore}`);
    expect(results['defaultStore']).toContain(`which is not installed: ${INSTALL_LINES.embeddedStore}`);
    expect(results['dashboard']).toContain(`which is not installed: ${INSTALL_LINES.dashboard}`);
    const help = await run('npx', ['--no-install', 'lookout', '--help'], { cwd: dir });
    expect(help.code).toBe(1);
    expect(help.stderr).toContain(`LOOKOUT_E_MISSING_DEPENDENCY: the \`lookout\` command needs the package`);
    expect(help.stderr).toContain(INSTALL_LINES.cli);
  });

  it("runs the README's Fastify example (ESM) verbatim: it answers /metrics", SLOW, async () => {
    const { dir } = projects['metrics']!;
    writeFileSync(join(dir, 'app.mjs'), readme.get('app.mjs')!);
    const [, metrics] = await runApp({ cwd: dir, file: 'app.mjs', paths: ['/users/7', '/metrics'] });
    expect(samples(metrics!).get('http_requests_total{method="GET",route="/users/:id",status="200"}')).toBe(1);
  });

  it("runs the README's Express example (CommonJS) verbatim on every Node.js line cached here", SLOW, async () => {
    const { dir } = projects['full']!;
    writeFileSync(join(dir, 'app.cjs'), readme.get('app.cjs')!);
    const lines = [undefined, ...[22, 24, 26].map((major) => join(homedir(), '.cache', 'lookout-node', String(major), 'bin', 'node')).filter((path) => existsSync(path))];
    console.log(`CommonJS app on ${lines.length} Node.js lines: ${process.version}${lines.length > 1 ? ` and ${lines.slice(1).join(', ')}` : ''}`);
    for (const node of lines) {
      const [, metrics] = await runApp({ ...(node !== undefined && { node }), cwd: dir, file: 'app.cjs', paths: ['/users/7', '/metrics'] });
      expect(samples(metrics!).get('http_requests_total{method="GET",route="/users/:id",status="200"}'), node ?? process.version).toBe(1);
    }
  });

  it('every subpath loads through import and through require, with the optional peers installed', SLOW, async () => {
    const { dir } = projects['full']!;
    writeFileSync(join(dir, 'every.cjs'), `for (const s of ${JSON.stringify(subpaths.map(specifier))}) { if (Object.keys(require(s)).length === 0) throw new Error(s + ': no exports'); }\nconsole.log('required', ${subpaths.length});\n`);
    writeFileSync(join(dir, 'every.mjs'), `for (const s of ${JSON.stringify(subpaths.map(specifier))}) { if (Object.keys(await import(s)).length === 0) throw new Error(s + ': no exports'); }\nconsole.log('imported', ${subpaths.length});\n`);
    expect(ok(await run(process.execPath, ['every.cjs'], { cwd: dir }), 'every.cjs').stdout).toContain(`required ${subpaths.length}`);
    expect(ok(await run(process.execPath, ['every.mjs'], { cwd: dir }), 'every.mjs').stdout).toContain(`imported ${subpaths.length}`);
  });

  it('an ESM Hono app answers /metrics', SLOW, async () => {
    const { dir } = projects['full']!;
    writeFileSync(join(dir, 'hono.mjs'), `import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Registry } from 'lookout';
import { metrics } from 'lookout/hono';
const registry = new Registry();
const app = new Hono();
app.use('*', metrics({ registry }));
app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: '127.0.0.1' });
`);
    const [, metrics] = await runApp({ cwd: dir, file: 'hono.mjs', paths: ['/users/7', '/metrics'] });
    expect(samples(metrics!).get('http_requests_total{method="GET",route="/users/:id",status="200"}')).toBe(1);
  });

  it('a strict TypeScript file importing every subpath compiles with skipLibCheck: false (NodeNext and Bundler)', SLOW, async () => {
    const { dir } = projects['full']!;
    const imports = subpaths.map((subpath, index) => `import * as m${index} from '${specifier(subpath)}';`);
    writeFileSync(join(dir, 'every.mts'), `${imports.join('\n')}
import Fastify from 'fastify';
import lookout from 'lookout/fastify';
import { Registry } from 'lookout';
export const modules = [${subpaths.map((_, index) => `m${index}`).join(', ')}];
const registry = new Registry();
const app = Fastify();
await app.register(lookout, { registry });
const jobs = registry.counter({ name: 'jobs_total', help: 'Jobs done.', labelNames: ['queue'] });
jobs.labels({ queue: 'mail' }).inc();
app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
`);
    await Promise.all(([['NodeNext', 'NodeNext'], ['Bundler', 'ESNext']] as const).map(async ([resolution, module]) => {
      writeFileSync(join(dir, `tsconfig.${resolution}.json`), JSON.stringify({
        compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', module, moduleResolution: resolution, types: ['node'], exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true },
        files: ['every.mts'],
      }));
      ok(await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', `tsconfig.${resolution}.json`], { cwd: dir, nice: true }), `tsc (${resolution})`);
    }));
  });

  it('publint --strict and attw --profile esm-only find no problem', SLOW, async () => {
    const { dir } = projects['full']!;
    const publint = ok(await run(join(BIN, 'publint'), ['--strict', join(dir, 'node_modules', 'lookout'), '--pack', 'false'], { cwd: dir }), 'publint');
    console.log(`publint: ${publint.stdout.trim()}`);
    const attw = ok(await run(join(BIN, 'attw'), [packed.tarball, '--profile', 'esm-only', '--format', 'table-flipped'], { cwd: dir }), 'attw');
    console.log(`attw: ${attw.stdout.trim().split('\n').slice(-3).join(' ')}`);
  });

  it('the CLI runs with its one install line: --help and init; demo says it runs from a checkout', SLOW, async () => {
    const { dir } = projects['cli']!;
    expect(ok(await run('npx', ['--no-install', 'lookout', '--help'], { cwd: dir }), 'lookout --help').stdout).toContain('Usage: lookout <command>');
    ok(await run('npx', ['--no-install', 'lookout', 'init', '--dir', '.'], { cwd: dir }), 'lookout init');
    expect(existsSync(join(dir, 'deploy', 'lookout.config.yaml'))).toBe(true);
    // The demo is the repository's examples/ (not shipped): the command says where it runs.
    const demo = await run('npx', ['--no-install', 'lookout', 'demo', '--once'], { cwd: dir });
    expect(demo.code).toBe(1);
    expect(demo.stderr).toContain('npm ci && npm run demo');
  });

  it('the KPI stores load their peers from the installed package', SLOW, async () => {
    const pg = projects['kpi-pg']!.dir;
    writeFileSync(join(pg, 'store.mjs'), `import { pgStore } from 'lookout/kpi';\nconst store = pgStore({ connectionString: 'postgres://127.0.0.1:5432/test' });\nconsole.log(store.kind, typeof store.pool.connect);\nawait store.close();\n`);
    expect(ok(await run(process.execPath, ['store.mjs'], { cwd: pg }), 'pg store').stdout.trim()).toBe('postgres function');
    const pglite = projects['kpi-pglite']!.dir;
    writeFileSync(join(pglite, 'store.mjs'), `import { pgliteStore } from 'lookout/kpi';\nconst store = pgliteStore({ dataDir: 'memory://' });\nawait store.open();\nconsole.log(JSON.stringify(await store.query('SELECT count(*)::int AS n FROM {events}')));\nawait store.close();\n`);
    expect(ok(await run(process.execPath, ['store.mjs'], { cwd: pglite }), 'pglite store').stdout.trim()).toBe('[{"n":0}]');
    // The default store starts its store process from the installed dist/kpi/store-main.js; with
    // pg-copy-streams from the install line, the probe finds that the store process takes COPY.
    writeFileSync(join(pglite, 'embedded.mjs'), `import { embeddedStore } from 'lookout/kpi';\nconst store = embeddedStore({ dataDir: 'kpi-data', idleTimeoutMs: 1000 });\nawait store.open();\nconsole.log(store.writeMethod, JSON.stringify(await store.query('SELECT count(*)::int AS n FROM {events}')));\nawait store.close();\n`);
    expect(ok(await run(process.execPath, ['embedded.mjs'], { cwd: pglite }), 'embedded store').stdout.trim()).toBe('copy [{"n":0}]');
  });
});
