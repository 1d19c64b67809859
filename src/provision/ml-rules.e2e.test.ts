// promtool against the committed model quality rules (lookout/ml) and their generated unit tests.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { promtool as runPromtool } from '../../test/support/validators.js';

const PROMETHEUS_DIR = join(import.meta.dirname, '../../deploy/prometheus');
const promtool = (args: string[], cwd = PROMETHEUS_DIR) => runPromtool(args, cwd);
const available = await probe('promtool', () => hasCommand('promtool', ['--version']));

describe.skipIf(!available)('promtool on the model quality rules', () => {
  const temporary: string[] = [];
  afterAll(async () => {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  it('check rules passes and test rules proves each alert firing and silent', async () => {
    const check = await promtool(['check', 'rules', 'rules/model-quality.yml']);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/SUCCESS: 2 rules found/);
    const test = await promtool(['test', 'rules', 'tests/model-quality.test.yml']);
    expect(test.code, test.output).toBe(0);
    const tests = await readFile(join(PROMETHEUS_DIR, 'tests/model-quality.test.yml'), 'utf8');
    for (const alert of ['ModelDriftSustained', 'ModelVersionWorse']) expect(tests).toContain(`alertname: ${alert}`);
  });

  it('the tests are not vacuous: a drift threshold of 1 or a 50-point margin makes them fail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-promtool-ml-'));
    temporary.push(dir);
    await cp(PROMETHEUS_DIR, dir, { recursive: true });
    const rules = await readFile(join(dir, 'rules/model-quality.yml'), 'utf8');
    expect(rules).toContain(') > 0.2');
    await writeFile(join(dir, 'rules/model-quality.yml'), rules.replace(') > 0.2', ') > 1').replace(') - 0.05', ') - 0.5'));
    const result = await promtool(['test', 'rules', 'tests/model-quality.test.yml'], dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('ModelDriftSustained');
    expect(result.output).toContain('ModelVersionWorse');
  });

  it('ModelVersionWorse needs feedback of the previous version: without its minimum the "waits for feedback" test fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-promtool-ml-'));
    temporary.push(dir);
    await cp(PROMETHEUS_DIR, dir, { recursive: true });
    const rules = await readFile(join(dir, 'rules/model-quality.yml'), 'utf8');
    expect(rules).toContain('[6h])) >= 20');
    await writeFile(join(dir, 'rules/model-quality.yml'), rules.replace('[6h])) >= 20', '[6h])) >= 1'));
    const result = await promtool(['test', 'rules', 'tests/model-quality.test.yml'], dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('waits for feedback');
    expect(result.output).not.toContain('compares with the version replaced');
  });
});
