/**
 * The demo's Alertmanager: the generated routing, grouping and inhibition (src/provision, with the
 * committed deploy/lookout.config.yaml), its receivers replaced by one webhook in the demo process
 * that prints each notification (the committed ones point at a pager, Slack and e-mail). Skipped
 * with a one-line hint when no Alertmanager binary is on PATH.
 *
 * @example
 * ```ts
 * const alertmanager = await startDemoAlertmanager({ print: console.log });
 * if (alertmanager !== undefined) console.log(alertmanager.url);
 * await alertmanager?.stop();
 * ```
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { alertmanagerConfig } from '../src/provision/alertmanager/config.js';
import { resolveAlerting } from '../src/provision/alerting.js';
import { loadProvisionConfig } from '../src/provision/config-file.js';
import { renderYaml } from '../src/provision/yaml.js';
import { alertmanagerBinary, startAlertmanager, type RunningAlertmanager } from './alertmanager-runner.js';

const DEPLOY = join(import.meta.dirname, '..', 'deploy');

/**
 * The one line printed when Alertmanager is missing.
 *
 * @example
 * ```ts
 * console.log(ALERTMANAGER_HINT);
 * ```
 */
export const ALERTMANAGER_HINT = 'alertmanager: not on PATH, skipped (alerts are still evaluated by Prometheus); to add it: apt-get install prometheus-alertmanager';

interface WebhookAlert {
  readonly status: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/**
 * One line per alert of a webhook notification: status, name, severity, summary and runbook.
 *
 * @example
 * ```ts
 * describeNotification([{ status: 'firing', labels: { alertname: 'TargetDown', severity: 'page' }, annotations: { summary: 'api down' } }]);
 * // ['alert: FIRING TargetDown (page): api down']
 * ```
 */
export function describeNotification(alerts: readonly WebhookAlert[]): string[] {
  return alerts.map((alert) => {
    const runbook = alert.annotations['runbook_url'] === undefined ? '' : `; runbook ${alert.annotations['runbook_url']}`;
    return `alert: ${alert.status.toUpperCase()} ${alert.labels['alertname']} (${alert.labels['severity'] ?? 'no severity'}): ${alert.annotations['summary'] ?? ''}${runbook}`;
  });
}

/**
 * Starts Alertmanager with the generated config and a printing webhook, or returns undefined when
 * it is not installed.
 *
 * @example
 * ```ts
 * const alertmanager = await startDemoAlertmanager({ print: (line) => console.log(line) });
 * ```
 */
export async function startDemoAlertmanager(options: { readonly print: (line: string) => void }): Promise<RunningAlertmanager | undefined> {
  const binary = alertmanagerBinary();
  if (binary === undefined) return undefined;
  const committed = (await loadProvisionConfig(join(DEPLOY, 'lookout.config.yaml'))).alerting ?? {};
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      try {
        for (const line of describeNotification((JSON.parse(body) as { alerts: WebhookAlert[] }).alerts)) options.print(line);
      } catch {
        options.print('alert: a notification the demo could not read');
      }
      res.writeHead(200).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/`;
  const alerting = resolveAlerting({ ...committed, receivers: { demo: { webhook: { url } } }, routes: { page: 'demo', ticket: 'demo' } })!;
  let running: RunningAlertmanager;
  try {
    running = await startAlertmanager(renderYaml(alertmanagerConfig(alerting)), binary);
  } catch (error) {
    receiver.close();
    throw error;
  }
  return {
    ...running,
    stop: async () => {
      await running.stop();
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}
