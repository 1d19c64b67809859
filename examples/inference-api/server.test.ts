import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

// Every wait below is bounded and a failure carries the child's output and the time each step
// took: under a full CI run (two cores shared with every other test file) starting tsx and an
// embedded PGlite can take many seconds, and a bare timeout would say nothing about where.
const STEP_MS = 30_000;

describe('server.ts (what compose starts)', () => {
  it('listens on PORT, keeps KPI events in .lookout/pglite of its folder, wants the token on /metrics, flushes on SIGTERM', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'lookout-server-'));
    dirs.push(cwd);
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOOKOUT_METRICS_TOKEN: 'secret' };
    delete env['DATABASE_URL'];
    delete env['HOST'];
    const started = Date.now();
    const steps: string[] = [];
    const step = (name: string): void => void steps.push(`${name} at ${Date.now() - started} ms`);
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'server.ts')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const report = (): string => `steps: ${steps.join(', ')}\nchild output:\n${output}`;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const response = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(STEP_MS) });
      step(`${init.method ?? 'GET'} ${path} ${response.status}`);
      return response;
    };
    let url: string | undefined;
    try {
      const deadline = Date.now() + 60_000;
      while (!/listening on http:\/\/127\.0\.0\.1:\d+/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
      step('listening');
      url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(url, report()).toBeDefined();
      expect(output).toContain('KPI events: embedded store (.lookout/pglite); /metrics needs the bearer token');
      expect(await (await call('/healthz')).json()).toEqual({ ok: true });
      expect((await call('/inference/start', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"points":[[0.1,0.2]]}' })).status, report()).toBe(202);
      expect((await call('/metrics')).status).toBe(401);
      expect((await call('/metrics', { headers: { authorization: 'Bearer secret' } })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      step('SIGTERM');
    }
    const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(resolve, STEP_MS, 'hung').unref())]);
    step(`exit ${code}`);
    if (code === 'hung') child.kill('SIGKILL');
    expect(code, report()).toBe(0);
    expect(output).toMatch(/stopped \(1 KPI events written, 0 unwritten\)/);
    expect((await stat(join(cwd, '.lookout', 'pglite'))).isDirectory()).toBe(true);
  }, 180_000);
});
