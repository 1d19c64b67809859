/**
 * The secret-literal check of the deploy/ test, shared with tests of generated configs: every
 * password, token or credential must be an environment reference (${VAR}), a file path, or empty.
 *
 * @example
 * ```ts
 * expect(findSecretLiterals([{ path: 'prometheus.yml', content }])).toEqual([]);
 * ```
 */
import { parse } from 'yaml';

const SECRET_KEY = /pass(word|wd)?|secret|token|credential|api[_-]?key|private[_-]?key/i;
const ENV_ONLY = /^(\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\})+$/;
const URL_PASSWORD = /:\/\/[^:/@\s]+:([^@\s]+)@/g;

/**
 * Findings as `file: where`, for values that look like a secret written in clear.
 *
 * @example
 * ```ts
 * findSecretLiterals([{ path: 'a.yml', content: 'password: hunter2\n' }]); // ['a.yml: .password = "hunter2"']
 * ```
 */
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
