import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../run.js';
import { freePort } from '../../../test/support/prometheus.js';

const run = promisify(execFile);
const folder = mkdtempSync(join(tmpdir(), 'lookout-cli-store-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('lookout store', () => {
  it('runs the embedded store in the foreground, prints a connection string pg connects with, stops on SIGTERM', { timeout: 120_000 }, async () => {
    const dataDir = join(folder, 'kpi');
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'store', '--data-dir', dataDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const [connectionString, readerString] = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.split('\n').length > 2) resolve(out.split('\n').slice(0, 2));
      });
      void exited.then((code) => reject(new Error(`lookout store exited ${String(code)}: ${err}`)));
    });
    expect([connectionString, readerString]).toEqual([`postgresql://postgres@127.0.0.1:${port}/postgres`, `postgresql://lookout_reader@127.0.0.1:${port}/postgres`]);
    const client = new pg.Client({ connectionString });
    await client.connect();
    await client.query('CREATE TABLE t (n int)');
    await client.query('INSERT INTO t SELECT generate_series(1, 10)');
    expect((await client.query('SELECT sum(n)::int AS s FROM t')).rows).toEqual([{ s: 55 }]);
    await client.end();
    // psql with the read-only string: reads, cannot write.
    expect((await run('psql', [readerString!, '-At', '-c', 'SELECT current_user, sum(n) FROM t'])).stdout.trim()).toBe('lookout_reader|55');
    await expect(run('psql', [readerString!, '-v', 'ON_ERROR_STOP=1', '-c', 'DELETE FROM t'])).rejects.toThrow('read-only transaction');
    expect(err).toContain(`datasources.postgres.embeddedStore.port: ${port}`);

    // A second one on the same folder names the first instead of opening PGlite twice.
    const lines: string[] = [];
    expect(await runCli(['store', '--data-dir', dataDir], { out: (line) => lines.push(line), err: (line) => lines.push(line), cwd: folder })).toBe(1);
    expect(lines.join('\n')).toContain(`is already served by process ${child.pid!} at ${connectionString}`);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toContain('stopped (stopped)');
  });

  it('refuses a bad --port with exit code 2', async () => {
    const lines: string[] = [];
    expect(await runCli(['store', '--port', 'x'], { out: (line) => lines.push(line), err: (line) => lines.push(line), cwd: folder })).toBe(2);
    expect(lines.join('\n')).toContain('--port must be an integer');
  });
});
