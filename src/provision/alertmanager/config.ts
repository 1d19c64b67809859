import type { ReceiverOptions, ResolvedAlerting } from '../alerting.js';

/**
 * The `alertmanager.yml` document: one route per severity (grouped by service and alert name),
 * inhibition (a firing page silences the matching ticket; a target that is down silences every
 * other alert of that target) and the receivers, every secret read from a file.
 *
 * @example
 * ```ts
 * const alerting = resolveAlerting({ receivers: { me: { webhook: { url: 'http://127.0.0.1:9000/' } } }, routes: { page: 'me', ticket: 'me' } })!;
 * alertmanagerConfig(alerting).route.routes.map((route) => route.receiver); // ['me', 'me']
 * ```
 */
export function alertmanagerConfig(alerting: ResolvedAlerting) {
  return {
    route: {
      // Alerts of no known severity still reach someone: the ticket receiver.
      receiver: alerting.routes.ticket,
      group_by: ['job', 'alertname'],
      group_wait: alerting.groupWait,
      group_interval: alerting.groupInterval,
      repeat_interval: alerting.repeatInterval,
      routes: [
        { receiver: alerting.routes.page, matchers: ['severity="page"'], repeat_interval: alerting.repeatInterval },
        { receiver: alerting.routes.ticket, matchers: ['severity="ticket"'], repeat_interval: alerting.ticketRepeatInterval },
      ],
    },
    inhibit_rules: [
      // The same problem seen by a page and a slower ticket (same job, SLO and instance): the page is enough.
      { source_matchers: ['severity="page"'], target_matchers: ['severity="ticket"'], equal: ['job', 'slo', 'instance'] },
      // A target that cannot be scraped explains every other alert of that target.
      { source_matchers: ['alertname="TargetDown"'], target_matchers: ['alertname!="TargetDown"'], equal: ['job', 'instance'] },
    ],
    receivers: Object.entries(alerting.receivers).map(([name, receiver]) => ({ name, ...receiverConfig(receiver) })),
  };
}

/**
 * The Prometheus `alerting:` block sending to `targets` (the configured Alertmanagers by default).
 *
 * @example
 * ```ts
 * prometheusAlertingBlock(['alertmanager:9093']); // { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] }
 * ```
 */
export function prometheusAlertingBlock(targets: readonly string[]) {
  return { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [...targets] }] }] };
}

function receiverConfig(receiver: ReceiverOptions) {
  const { webhook, slack, email } = receiver;
  return {
    ...(webhook !== undefined && {
      webhook_configs: [{
        url: webhook.url,
        send_resolved: true,
        ...(webhook.bearerTokenFile !== undefined && { http_config: { authorization: { type: 'Bearer', credentials_file: webhook.bearerTokenFile } } }),
      }],
    }),
    ...(slack !== undefined && {
      slack_configs: [{
        api_url_file: slack.apiUrlFile,
        channel: slack.channel,
        send_resolved: true,
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})',
        text: '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\nDashboard: {{ .Annotations.dashboard }}\n{{ end }}',
      }],
    }),
    ...(email !== undefined && {
      email_configs: [{
        to: email.to,
        from: email.from,
        smarthost: email.smarthost,
        send_resolved: true,
        ...(email.authUsername !== undefined && { auth_username: email.authUsername, auth_password_file: email.authPasswordFile }),
      }],
    }),
  };
}
