/**
 * The suites run on several Node.js lines (scripts/node-lines.sh sets
 * LOOKOUT_NODE_LINE and puts that line's binary first on PATH). These checks
 * make sure a run said to be on a line is on it, children included: the tests
 * spawn `process.execPath --import tsx`, npm scripts and `tsx` find `node` on
 * PATH.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const line = process.env['LOOKOUT_NODE_LINE'];
const major = process.versions.node.split('.')[0];

function nodeOnPath(): string {
  return realpathSync(execFileSync('node', ['-p', 'process.execPath'], { encoding: 'utf8', timeout: 15_000 }).trim());
}

describe(`the Node.js line this suite runs on (${process.version})`, () => {
  it.skipIf(line === undefined)('is the line scripts/node-lines.sh asked for (LOOKOUT_NODE_LINE)', () => {
    expect(`v${major}`).toBe(`v${line}`);
    expect(nodeOnPath()).toBe(realpathSync(process.execPath));
  });

  it('runs children spawned through tsx on the same binary and version', () => {
    const script = 'console.log(JSON.stringify([process.execPath, process.version]))';
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--eval', script], { encoding: 'utf8', timeout: 30_000 });
    const [execPath, version] = JSON.parse(output.trim()) as [string, string];
    expect(realpathSync(execPath)).toBe(realpathSync(process.execPath));
    expect(version).toBe(process.version);
  });

  it('runs the tsx command (as npm scripts do) on the node first on PATH', () => {
    const output = execFileSync('node_modules/.bin/tsx', ['--eval', 'console.log(process.execPath)'], { encoding: 'utf8', timeout: 30_000 });
    expect(realpathSync(output.trim())).toBe(nodeOnPath());
  });
});
