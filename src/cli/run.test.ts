import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDeployFiles } from '../provision/generate.js';
import { resolveProvisionOptions } from '../provision/options.js';
import type { CliIo } from './command.js';
import { runCli } from './run.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), cwd: cwd ?? (await temporaryDir()) };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-cli-'));
  dirs.push(dir);
  return dir;
}

describe('lookout', () => {
  it('--help lists the subcommands (exit 0); no command is a usage error (exit 2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/provision\s+Generate/);
    expect((await cli([])).code).toBe(2);
  });

  it('an unknown command exits 2', async () => {
    const result = await cli(['deploy']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('unknown command "deploy"');
  });
});

describe('lookout provision', () => {
  it('--help prints its usage (exit 0)', async () => {
    const result = await cli(['provision', '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('Usage: lookout provision --out <dir>');
  });

  it.each([[['provision']], [['provision', '--out']], [['provision', '--out', 'x', '--nope']], [['provision', '--out', 'x', 'extra']]])('%j exits 2 with the usage', async (argv) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.err).toContain('Usage: lookout provision');
  });

  it('writes exactly the generated files (defaults without a config)', async () => {
    const cwd = await temporaryDir();
    const result = await cli(['provision', '--out', 'out'], cwd);
    expect(result.code, result.err).toBe(0);
    const files = generateDeployFiles(resolveProvisionOptions());
    expect(result.out).toContain(`${files.length} files written to out`);
    for (const file of files) expect(await readFile(join(cwd, 'out', file.path), 'utf8')).toBe(file.content);
  });

  it('reads --config, and <out>/lookout.config.yaml when --config is absent', async () => {
    const cwd = await temporaryDir();
    await writeFile(join(cwd, 'shop.yaml'), 'service: shop\ntargets: ["shop:3000"]\n');
    expect((await cli(['provision', '--out', 'a', '--config', 'shop.yaml'], cwd)).code).toBe(0);
    expect(await readFile(join(cwd, 'a/prometheus/prometheus.yml'), 'utf8')).toContain('job_name: shop');
    await writeFile(join(cwd, 'a/lookout.config.yaml'), 'service: shop2\n');
    const again = await cli(['provision', '--out', 'a'], cwd);
    expect(again.out).toContain('options from a/lookout.config.yaml');
    expect(await readFile(join(cwd, 'a/prometheus/prometheus.yml'), 'utf8')).toContain('job_name: shop2');
  });

  it('bad config files fail with exit 1 and a coded error', async () => {
    const cwd = await temporaryDir();
    await writeFile(join(cwd, 'typo.yaml'), 'servce: shop\n');
    await writeFile(join(cwd, 'bad.yaml'), 'slo: { availability: { objective: 2 } }\n');
    const missing = await cli(['provision', '--out', 'x', '--config', 'missing.yaml'], cwd);
    expect([missing.code, missing.err]).toEqual([1, expect.stringContaining('LOOKOUT_E_PROVISION_CONFIG')]);
    const typo = await cli(['provision', '--out', 'x', '--config', 'typo.yaml'], cwd);
    expect(typo.err).toContain('unknown option(s) servce');
    const bad = await cli(['provision', '--out', 'x', '--config', 'bad.yaml'], cwd);
    expect([bad.code, bad.err]).toEqual([1, expect.stringContaining('LOOKOUT_E_PROVISION_OPTION: slo.availability.objective')]);
  });
});

describe('lookout check', () => {
  const repo = join(import.meta.dirname, '../..');

  it('--help prints its usage (exit 0)', async () => {
    const result = await cli(['check', '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('Usage: lookout check');
  });

  it.each([
    [['check'], 'exactly one of --target, --prometheus-url or --static'],
    [['check', '--static', '--prometheus-url', 'http://127.0.0.1:1'], 'exactly one of'],
    [['check', '--static', '--wait', 'soon'], '--wait must be a duration'],
    [['check', '--static', '--var', 'job'], '--var must look like name=value'],
    [['check', '--static', '--bogus'], "Unknown option '--bogus'"],
    [['check', '--prometheus-url', 'http://127.0.0.1:1'], 'pass --database-url'],
  ])('%j exits 2: %s', async (argv, message) => {
    const saved = process.env['LOOKOUT_CHECK_DATABASE_URL'];
    delete process.env['LOOKOUT_CHECK_DATABASE_URL'];
    try {
      const result = await cli(argv, repo);
      expect(result.code, result.err).toBe(2);
      expect(result.err).toContain(message);
    } finally {
      if (saved !== undefined) process.env['LOOKOUT_CHECK_DATABASE_URL'] = saved;
    }
  });

  it('--static expands every committed dashboard query without any service', async () => {
    const result = await cli(['check', '--static', '--range', '1h'], repo);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/^73 targets expanded, 0 failed/m);
    expect(result.out).toContain("WHERE creation_time BETWEEN '");
    expect(result.out).not.toContain('$__');
  });

  it('a missing deploy folder fails with exit 1', async () => {
    const result = await cli(['check', '--static', '--deploy', 'nowhere']);
    expect(result.code).toBe(1);
    expect(result.err).toContain('nowhere');
  });
});
