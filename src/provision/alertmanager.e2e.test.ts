// amtool (Debian prometheus-alertmanager) against the committed deploy/alertmanager: the config
// parses, and the routing tree sends each severity where deploy/lookout.config.yaml says.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { loadProvisionConfig } from './config-file.js';
import { resolveProvisionOptions } from './options.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
const available = await probe('amtool', () => hasCommand('amtool', ['--version']));
const run = promisify(execFile);

async function amtool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('amtool', args, { cwd: DEPLOY, timeout: 30_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe.skipIf(!available)('amtool on deploy/alertmanager', async () => {
  const alerting = resolveProvisionOptions(await loadProvisionConfig(join(DEPLOY, 'lookout.config.yaml'))).alerting!;

  it('check-config passes: 2 inhibit rules, every configured receiver', async () => {
    const result = await amtool(['check-config', 'alertmanager/alertmanager.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
    expect(result.output).toContain('2 inhibit rules');
    expect(result.output).toContain(`${Object.keys(alerting.receivers).length} receivers`);
  });

  it.each(['page', 'ticket'] as const)('a %s alert is routed to its receiver', async (severity) => {
    const result = await amtool(['config', 'routes', 'test', '--config.file=alertmanager/alertmanager.yml', `severity=${severity}`, 'alertname=X', 'job=inference-api']);
    expect(result.code, result.output).toBe(0);
    // The first line is the receiver (stdout); amtool warns on stderr that --config.file wins over --alertmanager.url.
    expect(result.output.split('\n')[0]).toBe(alerting.routes[severity]);
  });

  it('check-config fails on a broken route (the check is not vacuous)', async () => {
    const result = await amtool(['check-config', join(import.meta.dirname, 'alerting.test.ts')]);
    expect(result.code).not.toBe(0);
  });
});
