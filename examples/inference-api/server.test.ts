import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('server.ts (what compose starts)', () => {
  it('listens on PORT, keeps KPI events in .lookout/pglite of its folder, wants the token on /metrics, flushes on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'lookout-server-'));
    dirs.push(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOOKOUT_METRICS_TOKEN: 'secret' };
    delete env['DATABASE_URL'];
    delete env['HOST'];
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'server.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 30_000;
      while (!/listening on http:\/\/127\.0\.0\.1:\d+/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      expect(output).toContain('KPI events: pglite (.lookout/pglite); /metrics needs the bearer token');
      expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ ok: true });
      expect((await fetch(`${url}/inference/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"points":[[0.1,0.2]]}' })).status).toBe(202);
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/stopped \(1 KPI events written, 0 unwritten\)/);
    expect((await stat(join(cwd, '.lookout', 'pglite'))).isDirectory()).toBe(true);
  });
});
