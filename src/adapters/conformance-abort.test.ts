/**
 * Issue 23 #5: a request whose client went away is released at once, not held
 * until the next scrape. Checked with `gc()` in a child process (`--expose-gc`),
 * against the same server without lookout, where the request must be released too.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./conformance-abort.fixture.ts', import.meta.url));

interface Outcome {
  cleared: boolean;
  aborted: number | null;
  inFlight: number | null;
}

/** Runs the fixture (bounded to 30 s) and returns what it printed. */
function run(...args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`fixture ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Outcome);
    });
  });
}

describe.each([
  ['node:http instrument(), the handler ends the response after the client left', ['node', 'end']],
  ['node:http instrument(), the handler never ends the response', ['node', 'leave']],
  ['@hono/node-server with metrics()', ['hono', 'end']],
] as const)('issue 23 #5: aborted requests are released before any scrape (%s)', (_name, [kind, afterClose]) => {
  it('without lookout the request object is collected (the test itself holds nothing)', async () => {
    expect(await run(kind, 'plain', afterClose)).toEqual({ cleared: true, aborted: null, inFlight: null });
  });

  it('with lookout it is collected too, and the abort is counted, nothing left in flight', async () => {
    expect(await run(kind, 'lookout', afterClose)).toEqual({ cleared: true, aborted: 1, inFlight: 0 });
  });
});
