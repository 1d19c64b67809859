// No secret literal may ever be committed under deploy/: every password, token or credential is an
// environment reference (${VAR}), a file path, or empty (in .env.example).
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const SECRET_KEY = /pass(word|wd)?|secret|token|credential|api[_-]?key|private[_-]?key/i;
const ENV_ONLY = /^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\})+$/;
const URL_PASSWORD = /:\/\/[^:/@\s]+:([^@\s]+)@/g;

/** Findings as `file: where`, for values that look like a secret written in clear. */
export function findSecretLiterals(files: readonly { path: string; content: string }[]): string[] {
  const findings: string[] = [];
  const checkValue = (path: string, where: string, key: string, value: unknown) => {
    if (typeof value !== 'string') return;
    for (const match of value.matchAll(URL_PASSWORD)) if (!ENV_ONLY.test(match[1]!)) findings.push(`${path}: ${where} embeds a password in a URL`);
    // A key can name a secret and hold where to find it (a path or a name), never the secret itself.
    if (!SECRET_KEY.test(key) || value === '' || ENV_ONLY.test(value) || value.startsWith('/') || /(_file|path|env|environment)$/i.test(key)) return;
    if (/^[A-Z_][A-Z0-9_]*$/.test(value) && key === 'environment') return;
    findings.push(`${path}: ${where} = ${JSON.stringify(value)}`);
  };
  const walk = (path: string, node: unknown, where: string) => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(path, item, `${where}[${index}]`));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        checkValue(path, `${where}.${key}`, key, value);
        walk(path, value, `${where}.${key}`);
      }
    }
  };
  for (const { path, content } of files) {
    if (/\.(ya?ml|json)$/.test(path)) walk(path, path.endsWith('.json') ? JSON.parse(content) : parse(content), '');
    for (const [index, line] of content.split('\n').entries()) {
      if (line.trimStart().startsWith('#')) continue;
      const assignment = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
      if (assignment !== null) checkValue(path, `line ${index + 1} ${assignment[1]}`, assignment[1]!, assignment[2]!.replace(/^["']|["']$/g, ''));
      if (/PASSWORD\s+'[^']+'/i.test(line)) findings.push(`${path}: line ${index + 1} has a literal SQL password`);
    }
  }
  return findings;
}

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
