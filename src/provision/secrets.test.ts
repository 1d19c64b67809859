// No secret literal may ever be committed under deploy/: every password, token or credential is an
// environment reference (${VAR}), a file path, or empty (in .env.example).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSecretLiterals } from '../../test/support/secrets.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else files.push(path);
  }
  return files;
}

describe('no secret literal in deploy/', () => {
  it('finds none in any committed file', async () => {
    const paths = (await listFiles(DEPLOY)).filter((path) => !path.endsWith('/.env'));
    const files = await Promise.all(paths.map(async (path) => ({ path: relative(DEPLOY, path), content: await readFile(path, 'utf8') })));
    expect(files.length).toBeGreaterThan(10);
    expect(findSecretLiterals(files)).toEqual([]);
  });

  it('would catch the usual ways a secret slips in', () => {
    const findings = findSecretLiterals([
      { path: 'a.yml', content: 'secureJsonData:\n  password: hunter2\n' },
      { path: 'b.yml', content: 'environment:\n  GF_SECURITY_ADMIN_PASSWORD: admin\n  DATABASE_URL: postgres://app:s3cret@db/x\n' },
      { path: '.env.example', content: 'POSTGRES_PASSWORD=changeme\n' },
      { path: 'init.sh', content: "CREATE ROLE r LOGIN PASSWORD 'x';\n" },
      { path: 'c.json', content: '{"token": "abc"}' },
    ]);
    expect(findings).toHaveLength(6);
    expect(findSecretLiterals([{ path: 'ok.yml', content: 'password: ${DS_POSTGRES_PASSWORD}\ncredentials_file: /run/secrets/t\nurl: postgres://${U}:${P:?x}@db/x\n' }])).toEqual([]);
  });
});
