import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startInferenceApi } from './app.js';
import { claimDataDir } from './data-dir-lock.js';

const root = mkdtempSync(join(tmpdir(), 'lookout-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('claimDataDir', () => {
  it('holds <dir>.pid while claimed, refuses a second claim, and releases', () => {
    const dir = join(root, 'a', 'pglite');
    const release = claimDataDir(dir);
    expect(readFileSync(`${dir}.pid`, 'utf8').trim()).toBe(String(process.pid));
    expect(() => claimDataDir(dir)).toThrow(`in use by process ${process.pid}`);
    release();
    expect(existsSync(`${dir}.pid`)).toBe(false);
    claimDataDir(dir)();
  });

  it('takes over the lock of a process that is gone', () => {
    const dir = join(root, 'b');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(`${dir}.pid`, `${gone}\n`);
    const release = claimDataDir(dir);
    expect(readFileSync(`${dir}.pid`, 'utf8').trim()).toBe(String(process.pid));
    release();
  });

  it('a second API on the same PGlite folder is refused before it opens anything', async () => {
    const dir = join(root, 'c', 'pglite');
    const release = claimDataDir(dir);
    try {
      await expect(startInferenceApi({ dataDir: dir })).rejects.toThrow(/is in use by process \d+ \(PGlite allows one process per folder\)/);
    } finally {
      release();
    }
  });
});
