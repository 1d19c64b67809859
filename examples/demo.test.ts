import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('serves an instrumented API whose /metrics shows route templates', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--once'], {
      env: { ...process.env, PORT: '0' },
      timeout: 60_000,
    });
    expect(stdout).toMatch(/metrics: +http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(stdout).toMatch(/http_requests_total\{[^}]*route="\/users\/:id",status="200"\} \d+/);
    expect(stdout).toMatch(/route="__unmatched__",status="404"/);
  });
});
