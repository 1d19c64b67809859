// promtool against the committed deploy/prometheus: config, rules, and the generated rule unit tests.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { promtool as runPromtool } from '../../test/support/validators.js';

const PROMETHEUS_DIR = join(import.meta.dirname, '../../deploy/prometheus');
const promtool = (args: string[], cwd = PROMETHEUS_DIR) => runPromtool(args, cwd);
const available = await probe('promtool', () => hasCommand('promtool', ['--version']));


describe.skipIf(!available)('promtool on deploy/prometheus', () => {
  const temporary: string[] = [];
  afterAll(async () => {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  it('check config passes (the token file, a compose secret at run time, is stubbed)', async () => {
    // promtool stats credentials_file; the only change to the copy is where that file is.
    const dir = await mkdtemp(join(tmpdir(), 'lookout-promtool-'));
    temporary.push(dir);
    await cp(PROMETHEUS_DIR, dir, { recursive: true });
    const config = await readFile(join(dir, 'prometheus.yml'), 'utf8');
    expect(config).toContain('credentials_file: /run/secrets/metrics_token');
    await writeFile(join(dir, 'token'), 'stub\n');
    await writeFile(join(dir, 'prometheus.yml'), config.replace('/run/secrets/metrics_token', join(dir, 'token')));
    const result = await promtool(['check', 'config', 'prometheus.yml'], dir);
    expect(result.output).toMatch(/SUCCESS: 3 rule files found/);
    expect(result.code, result.output).toBe(0);
  });

  it('check rules passes for every rule file', async () => {
    const result = await promtool(['check', 'rules', 'rules/slo.yml', 'rules/operations.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/rules\/slo\.yml\s+SUCCESS: 44 rules found/);
    expect(result.output).toMatch(/rules\/operations\.yml\s+SUCCESS: 9 rules found/);
  });

  it('test rules: each burn-rate alert fires on synthetic burns and stays silent on healthy series', async () => {
    const result = await promtool(['test', 'rules', 'tests/slo-page.test.yml', 'tests/slo-ticket.test.yml', 'tests/operations.test.yml']);
    expect(result.code, result.output).toBe(0);
    expect(result.output.match(/SUCCESS/g)).toHaveLength(3);
    const tests = await readFile(join(PROMETHEUS_DIR, 'tests/slo-page.test.yml'), 'utf8');
    for (const alert of ['AvailabilityErrorBudgetBurn1h5m', 'AvailabilityErrorBudgetBurn6h30m', 'LatencyErrorBudgetBurn1h5m', 'LatencyErrorBudgetBurn6h30m']) {
      expect(tests).toContain(`fires ${alert}`);
      expect(tests).toContain(`does not fire ${alert}`);
    }
  });

  it('test rules fails when a rule is wrong (the tests are not vacuous)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-promtool-'));
    temporary.push(dir);
    await cp(PROMETHEUS_DIR, dir, { recursive: true });
    const rules = await readFile(join(dir, 'rules/slo.yml'), 'utf8');
    // Page at 16x instead of 14.4x: the 15.84x burn must now fail to fire.
    await writeFile(join(dir, 'rules/slo.yml'), rules.replaceAll('(14.4 * 0.001)', '(16 * 0.001)'));
    const result = await promtool(['test', 'rules', 'tests/slo-page.test.yml'], dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('AvailabilityErrorBudgetBurn1h5m');
  });
});
