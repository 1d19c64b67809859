import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run.js';
import { alertmanagerConfig } from './alertmanager/config.js';
import { resolveAlerting, type AlertingOptions } from './alerting.js';
import { generateDeployFiles } from './generate.js';
import { resolveProvisionOptions } from './options.js';
import { prometheusConfig } from './prometheus/config.js';

const base: AlertingOptions = {
  receivers: { oncall: { webhook: { url: 'http://pager:8080/alerts', bearerTokenFile: '/run/secrets/pager' } }, team: { email: { to: 'team@example.com', from: 'am@example.com', smarthost: 'smtp:587' } } },
  routes: { page: 'oncall', ticket: 'team' },
};
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('resolveAlerting', () => {
  it('is off without an alerting section: no alertmanager.yml, no alerting block', () => {
    const options = resolveProvisionOptions({});
    expect(options.alerting).toBeUndefined();
    expect(generateDeployFiles(options).some((file) => file.path.startsWith('alertmanager/'))).toBe(false);
    expect(prometheusConfig(options)).not.toHaveProperty('alerting');
  });

  it('routes each severity to its receiver, groups by job and alert name, and fills the timing defaults', () => {
    const config = alertmanagerConfig(resolveAlerting(base)!);
    expect(config.route.group_by).toEqual(['job', 'alertname']);
    expect([config.route.group_wait, config.route.group_interval, config.route.repeat_interval]).toEqual(['30s', '5m', '4h']);
    expect(config.route.routes).toEqual([
      { receiver: 'oncall', matchers: ['severity="page"'], repeat_interval: '4h' },
      { receiver: 'team', matchers: ['severity="ticket"'], repeat_interval: '24h' },
    ]);
    expect(config.receivers.map((receiver) => receiver.name)).toEqual(['oncall', 'team']);
    expect(config.receivers[0]!.webhook_configs![0]!.http_config).toEqual({ authorization: { type: 'Bearer', credentials_file: '/run/secrets/pager' } });
    expect(prometheusConfig(resolveProvisionOptions({ alerting: base })).alerting).toEqual({ alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: ['alertmanager:9093'] }] }] });
  });

  it.each([
    ['LOOKOUT_E_PROVISION_SECRET', 'alerting.receivers.s.slack.apiUrl', { receivers: { s: { slack: { apiUrl: 'https://hooks.slack.com/services/T/B/x', channel: '#a' } } } }],
    ['LOOKOUT_E_PROVISION_SECRET', 'alerting.receivers.m.email.authPassword', { receivers: { m: { email: { to: 'a@b.c', from: 'a@b.c', smarthost: 'smtp:25', authUsername: 'u', authPassword: 'hunter2' } } } }],
    ['LOOKOUT_E_PROVISION_SECRET', 'alerting.receivers.w.webhook.url', { receivers: { w: { webhook: { url: 'https://user:pw@pager.example.com/hook' } } } }],
    ['LOOKOUT_E_PROVISION_SECRET', 'alerting.receivers.w.webhook.url', { receivers: { w: { webhook: { url: 'https://pager.example.com/hook?token=abc' } } } }],
    ['LOOKOUT_E_PROVISION_SECRET', 'alerting.receivers.w.webhook.bearerToken', { receivers: { w: { webhook: { url: 'https://pager.example.com/hook', bearerToken: 'abc' } } } }],
    ['LOOKOUT_E_PROVISION_SEVERITY', 'alerting.routes.critical', { ...base, routes: { ...base.routes, critical: 'oncall' } }],
    ['LOOKOUT_E_PROVISION_RECEIVER', 'alerting.routes.page', { ...base, routes: { page: 'nobody', ticket: 'team' } }],
    ['LOOKOUT_E_PROVISION_RECEIVER', 'alerting.routes.ticket', { ...base, routes: { page: 'oncall' } }],
    ['LOOKOUT_E_PROVISION_OPTION', 'alerting.receivers.x.pagerduty', { ...base, receivers: { ...base.receivers, x: { pagerduty: {} } } }],
    ['LOOKOUT_E_PROVISION_OPTION', 'alerting.receivers.s.slack.apiUrlFile', { receivers: { s: { slack: { apiUrlFile: 'relative/path', channel: '#a' } } } }],
    ['LOOKOUT_E_PROVISION_OPTION', 'alerting.groupWait', { ...base, groupWait: 'soon' }],
    ['LOOKOUT_E_PROVISION_OPTION', 'alerting.alertmanagers', { ...base, alertmanagers: ['http://am:9093'] }],
  ])('%s names %s', (code, field, options) => {
    expect(() => resolveProvisionOptions({ alerting: options as AlertingOptions })).toThrow(`${code}: ${field}`);
  });

  it('lookout provision refuses an inline secret, an unknown severity and a missing receiver (exit 1, coded error)', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'lookout-alerting-'));
    dirs.push(cwd);
    const cases = [
      ['secret.yaml', 'alerting:\n  receivers:\n    s:\n      slack: { apiUrl: "https://hooks.slack.com/services/T/B/x", channel: "#a" }\n  routes: { page: s, ticket: s }\n', 'LOOKOUT_E_PROVISION_SECRET: alerting.receivers.s.slack.apiUrl'],
      ['severity.yaml', 'alerting:\n  receivers: { a: { webhook: { url: "http://a:1/" } } }\n  routes: { page: a, ticket: a, urgent: a }\n', 'LOOKOUT_E_PROVISION_SEVERITY: alerting.routes.urgent'],
      ['receiver.yaml', 'alerting:\n  receivers: { a: { webhook: { url: "http://a:1/" } } }\n  routes: { page: b, ticket: a }\n', 'LOOKOUT_E_PROVISION_RECEIVER: alerting.routes.page'],
    ] as const;
    for (const [file, content, expected] of cases) {
      await writeFile(join(cwd, file), content);
      const err: string[] = [];
      const code = await runCli(['provision', '--out', 'out', '--config', file], { out: () => {}, err: (line) => err.push(line), cwd });
      expect([code, err.join('\n')]).toEqual([1, expect.stringContaining(expected)]);
    }
  });
});
