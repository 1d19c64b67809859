// The committed deploy/ folder must be exactly what the code generates from deploy/lookout.config.yaml.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProvisionConfig } from './config-file.js';
import { generateDeployFiles } from './generate.js';
import { resolveProvisionOptions } from './options.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const CONFIG = 'lookout.config.yaml';
const FIX = 'regenerate with `npm run provision` (lookout provision --out deploy/) and commit the result';

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else files.push(relative(DEPLOY, path));
  }
  return files.sort();
}

describe('deploy/ drift', async () => {
  const files = generateDeployFiles(resolveProvisionOptions(await loadProvisionConfig(join(DEPLOY, CONFIG))));

  it.each(files.map((file) => [file.path, file] as const))('deploy/%s matches the code', async (path, file) => {
    const committed = await readFile(join(DEPLOY, path), 'utf8').catch(() => undefined);
    expect(committed, `deploy/${path} is missing; ${FIX}`).toBeDefined();
    expect(committed === file.content, `deploy/${path} differs from the code's output; ${FIX}`).toBe(true);
    const mode = (await stat(join(DEPLOY, path))).mode & 0o111;
    expect(mode !== 0, `deploy/${path} executable bit`).toBe((file.mode & 0o111) !== 0);
  });

  it('holds no stale or stray files', async () => {
    const expected = new Set([CONFIG, ...files.map((file) => file.path)]);
    const stray = (await listFiles(DEPLOY)).filter((path) => !expected.has(path) && path !== '.env');
    expect(stray, `files in deploy/ that the code does not generate; delete them or ${FIX}`).toEqual([]);
  });
});
