import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProvisionConfig } from '../../provision/config-file.js';
import { generateDeployFiles } from '../../provision/generate.js';
import { resolveProvisionOptions } from '../../provision/options.js';
import type { CliIo } from '../command.js';
import { runCli } from '../run.js';
import { appLines, detectFramework, serviceName } from './init.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-init-'));
  dirs.push(dir);
  return dir;
}

async function cli(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), cwd };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function project(packageJson: object | undefined): Promise<string> {
  const cwd = await temporaryDir();
  await mkdir(join(cwd, 'my-api'));
  if (packageJson !== undefined) await writeFile(join(cwd, 'my-api', 'package.json'), JSON.stringify(packageJson));
  return cwd;
}

describe('lookout init', () => {
  it('--help prints its usage (exit 0) and init is listed in lookout --help', async () => {
    const cwd = await temporaryDir();
    const help = await cli(['init', '--help'], cwd);
    expect([help.code, help.out]).toEqual([0, expect.stringContaining('Usage: lookout init --dir <project>')]);
    expect((await cli(['--help'], cwd)).out).toMatch(/^ {2}init {8}Add lookout to an existing project/m);
  });

  it.each([
    [['init'], '--dir <project> is required'],
    [['init', '--dir', 'nowhere'], 'no such folder'],
    [['init', '--dir', 'my-api', '--port', '80000'], '--port must be a TCP port'],
    [['init', '--dir', 'my-api', '--framework', 'koa'], '--framework must be one of fastify, express, hono, node'],
    [['init', '--dir', 'my-api', '--service', '9lives'], 'service: expected letters, digits'],
    [['init', '--dir', 'my-api', '--bogus'], "Unknown option '--bogus'"],
    [['init', '--dir', 'my-api', 'extra'], 'Unexpected argument'],
  ])('%j exits 2: %s', async (argv, message) => {
    const cwd = await project({ name: 'x' });
    const result = await cli(argv, cwd);
    expect(result.code, result.out).toBe(2);
    expect(result.err).toContain(message);
    expect(result.err).toContain('Usage: lookout init');
  });

  it('writes deploy/lookout.config.yaml and exactly the generated provisioning, and prints the three lines for the framework', async () => {
    const cwd = await project({ name: '@acme/shop-api', dependencies: { express: '^5.0.0' }, scripts: { start: 'node server.js' } });
    const result = await cli(['init', '--dir', 'my-api', '--port', '8080'], cwd);
    expect(result.code, result.err).toBe(0);
    const deploy = join(cwd, 'my-api', 'deploy');
    const config = await readFile(join(deploy, 'lookout.config.yaml'), 'utf8');
    expect(config).toMatch(/^service: shop-api$/m);
    expect(config).toContain('  - api:8080');
    const options = resolveProvisionOptions(await loadProvisionConfig(join(deploy, 'lookout.config.yaml')));
    expect(options.compose).toMatchObject({ apiCommand: ['npm', 'start'], apiPort: 8080 });
    for (const file of generateDeployFiles(options)) expect(await readFile(join(deploy, file.path), 'utf8')).toBe(file.content);
    expect(result.out).toContain('wrote my-api/deploy/lookout.config.yaml (service shop-api, target api:8080)');
    expect(result.out).toContain('Add these three lines to your express app:');
    for (const line of appLines('express')) expect(result.out).toContain(`  ${line}`);
    expect(result.out).toContain('curl http://127.0.0.1:8080/metrics');
  });

  it('keeps an existing config (regenerating from it) unless --force; `lookout provision` then finds it too', async () => {
    const cwd = await project(undefined);
    expect((await cli(['init', '--dir', 'my-api', '--framework', 'fastify'], cwd)).code).toBe(0);
    const configPath = join(cwd, 'my-api', 'deploy', 'lookout.config.yaml');
    await writeFile(configPath, (await readFile(configPath, 'utf8')).replace('service: my-api', 'service: renamed'));
    const again = await cli(['init', '--dir', 'my-api'], cwd);
    expect(again.out).toContain('kept my-api/deploy/lookout.config.yaml (it exists; --force overwrites it)');
    expect(again.out).toContain('Add these three lines to your node:http app');
    expect(await readFile(join(cwd, 'my-api', 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')).toContain('job_name: renamed');
    const provision = await cli(['provision', '--out', 'my-api/deploy'], cwd);
    expect(provision.out).toContain('options from my-api/deploy/lookout.config.yaml');
    expect((await cli(['init', '--dir', 'my-api', '--force'], cwd)).out).toContain('wrote my-api/deploy/lookout.config.yaml (service my-api');
  });
});

describe('init helpers', () => {
  it('detects the framework and derives a valid service name', () => {
    expect(detectFramework({ fastify: '5' })).toBe('fastify');
    expect(detectFramework({ hono: '4', '@hono/node-server': '1' })).toBe('hono');
    expect(detectFramework({ pg: '8' })).toBe('node');
    expect(serviceName('@acme/shop-api', 'x')).toBe('shop-api');
    expect(serviceName(undefined, '2024 Shop!')).toBe('Shop');
    expect(serviceName('---', '123')).toBe('api');
  });
});
