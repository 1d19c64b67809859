import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../command.js';
import { runCli } from '../run.js';
import { DEMO_FLAGS, DEMO_SCRIPT } from './demo.js';

const REPO = join(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (line) => out.push(line), err: (line) => err.push(line), cwd: REPO };
  const code = await runCli(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('lookout demo', () => {
  it('--help prints its usage (exit 0)', async () => {
    const result = await cli(['demo', '--help']);
    expect([result.code, result.out]).toEqual([0, expect.stringContaining('Usage: lookout demo [options]')]);
  });

  it.each([
    [['demo', '--port', 'x'], '--port must be an integer'],
    [['demo', '--rate', '0'], '--rate must be an integer'],
    [['demo', '--duration', 'soon'], '--duration must be a duration'],
    [['demo', '--bogus'], "Unknown option '--bogus'"],
  ])('%j exits 2 before starting anything: %s', async (argv, message) => {
    const result = await cli(argv);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('takes the same flags as examples/demo.ts', async () => {
    const source = await readFile(DEMO_SCRIPT, 'utf8');
    const block = /const FLAGS = \{([\s\S]*?)\n\} as const;/.exec(source)![1]!;
    const names = [...block.matchAll(/^\s+'?([a-z-]+)'?: \{/gm)].map((match) => match[1]);
    expect(names).toEqual(Object.keys(DEMO_FLAGS));
  });

  it('runs the demo (--once) in a child process and passes its output through', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-cli-demo-'));
    dirs.push(dataDir);
    const result = await cli(['demo', '--once', '--port', '0', '--no-prometheus', '--data-dir', join(dataDir, 'pglite')]);
    expect(result.code, `${result.out}\n${result.err}`).toBe(0);
    expect(result.out).toMatch(/^lookout demo ready in/m);
    expect(result.out).toContain('prometheus: not started (--no-prometheus)');
    expect(result.out).toMatch(/^stopped: \d+ KPI events written to embedded store/m);
  });
});
