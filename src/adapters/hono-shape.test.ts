import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('Hono instrument(app)', () => {
  it('leaves the app object in V8\'s fast mode (Hono reads its fields on every request)', () => {
    const fixture = fileURLToPath(new URL('./hono-shape.fixture.ts', import.meta.url));
    const output = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', fixture], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(output.trim())).toEqual({ before: true, after: true });
  });
});
