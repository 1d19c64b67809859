import { LookoutError } from '../core/errors.js';

/**
 * Alert severities the generated rules carry (label `severity`), each routed to one receiver:
 * `page` wakes someone up, `ticket` is handled in working hours.
 *
 * @example
 * ```ts
 * SEVERITIES.includes('page'); // true
 * ```
 */
export const SEVERITIES = ['page', 'ticket'] as const;

/**
 * One of `SEVERITIES`.
 *
 * @example
 * ```ts
 * const severity: Severity = 'ticket';
 * ```
 */
export type Severity = (typeof SEVERITIES)[number];

/**
 * Where one receiver delivers. Every secret comes from a file (a compose secret or a mounted
 * file); a literal secret (`apiUrl`, `authPassword`, credentials in a URL) is refused.
 *
 * @example
 * ```ts
 * const oncall: ReceiverOptions = {
 *   webhook: { url: 'http://pager:8080/alerts', bearerTokenFile: '/run/secrets/pager_token' },
 *   slack: { apiUrlFile: '/run/secrets/slack_webhook_url', channel: '#oncall' },
 *   email: { to: 'oncall@example.com', from: 'alerts@example.com', smarthost: 'smtp.example.com:587', authUsername: 'alerts', authPasswordFile: '/run/secrets/smtp_password' },
 * };
 * ```
 */
export interface ReceiverOptions {
  readonly webhook?: { readonly url: string; readonly bearerTokenFile?: string };
  readonly slack?: { readonly apiUrlFile: string; readonly channel: string };
  readonly email?: {
    readonly to: string;
    readonly from: string;
    readonly smarthost: string;
    readonly authUsername?: string;
    readonly authPasswordFile?: string;
  };
}

/**
 * The `alerting` section of the provisioning options: the Alertmanagers Prometheus sends to, the
 * receivers, which receiver each severity goes to, and Alertmanager's notification timing.
 *
 * @example
 * ```ts
 * const alerting: AlertingOptions = {
 *   alertmanagers: ['alertmanager:9093'],
 *   receivers: { oncall: { webhook: { url: 'http://pager:8080/alerts' } }, tickets: { email: { to: 'team@example.com', from: 'am@example.com', smarthost: 'smtp:587' } } },
 *   routes: { page: 'oncall', ticket: 'tickets' },
 * };
 * ```
 */
export interface AlertingOptions {
  /** `host:port` of every Alertmanager (default `['alertmanager:9093']`, the compose service). */
  readonly alertmanagers?: readonly string[];
  readonly receivers?: Readonly<Record<string, ReceiverOptions>>;
  /** Receiver name per severity; every severity needs one. */
  readonly routes?: Readonly<Partial<Record<string, string>>>;
  /** Wait before the first notification of a new group (default `30s`). */
  readonly groupWait?: string;
  /** Wait before notifying about alerts added to a group already notified (default `5m`). */
  readonly groupInterval?: string;
  /** Resend a still-firing page after (default `4h`); tickets after `ticketRepeatInterval` (default `24h`). */
  readonly repeatInterval?: string;
  readonly ticketRepeatInterval?: string;
  /** Base URL of Grafana for the alerts' `dashboard` links (default `http://localhost:3000`). */
  readonly grafanaUrl?: string;
  /** Base URL the `runbook_url` annotations point at (default: the API's built-in page, `http://localhost:<compose.apiPort>/lookout/runbooks`). */
  readonly runbookBaseUrl?: string;
}

/**
 * `AlertingOptions` validated, with defaults.
 *
 * @example
 * ```ts
 * const alerting: ResolvedAlerting = resolveAlerting({ receivers: { me: { webhook: { url: 'http://127.0.0.1:9000/' } } }, routes: { page: 'me', ticket: 'me' } })!;
 * alerting.groupWait; // '30s'
 * ```
 */
export interface ResolvedAlerting {
  readonly alertmanagers: readonly string[];
  readonly receivers: Readonly<Record<string, ReceiverOptions>>;
  readonly routes: Readonly<Record<Severity, string>>;
  readonly groupWait: string;
  readonly groupInterval: string;
  readonly repeatInterval: string;
  readonly ticketRepeatInterval: string;
  readonly grafanaUrl: string;
  readonly runbookBaseUrl: string | undefined;
}

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;
const TARGET = /^[a-zA-Z0-9.-]+:[0-9]{1,5}$|^\[[0-9a-fA-F:]+\]:[0-9]{1,5}$/;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;
// Keys that would carry a secret inline, and the file-based key to use instead.
const INLINE_SECRETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  webhook: { bearerToken: 'bearerTokenFile', password: 'bearerTokenFile' },
  slack: { apiUrl: 'apiUrlFile' },
  email: { authPassword: 'authPasswordFile', authSecret: 'authPasswordFile', password: 'authPasswordFile' },
};
const RECEIVER_KEYS: Readonly<Record<string, readonly string[]>> = {
  webhook: ['url', 'bearerTokenFile'],
  slack: ['apiUrlFile', 'channel'],
  email: ['to', 'from', 'smarthost', 'authUsername', 'authPasswordFile'],
};

/**
 * Validates the `alerting` section; `undefined` (no section) means no Alertmanager is generated.
 * Throws `LOOKOUT_E_PROVISION_SECRET` for a literal secret, `LOOKOUT_E_PROVISION_SEVERITY` for a
 * route of an unknown severity, `LOOKOUT_E_PROVISION_RECEIVER` for a route to a receiver that is
 * not defined, and `LOOKOUT_E_PROVISION_OPTION` for anything else, each naming the field.
 *
 * @example
 * ```ts
 * resolveAlerting({ receivers: { a: { slack: { apiUrl: 'https://hooks.slack.com/x' } } } });
 * // throws LOOKOUT_E_PROVISION_SECRET: alerting.receivers.a.slack.apiUrl: ...
 * ```
 */
export function resolveAlerting(options: AlertingOptions | undefined): ResolvedAlerting | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) fail('alerting', 'expected a mapping');
  const known = ['alertmanagers', 'receivers', 'routes', 'groupWait', 'groupInterval', 'repeatInterval', 'ticketRepeatInterval', 'grafanaUrl', 'runbookBaseUrl'];
  for (const key of Object.keys(options)) if (!known.includes(key)) fail(`alerting.${key}`, `unknown option; known: ${known.join(', ')}`);
  const alertmanagers = options.alertmanagers ?? ['alertmanager:9093'];
  if (!Array.isArray(alertmanagers) || alertmanagers.length === 0) fail('alerting.alertmanagers', 'expected at least one host:port');
  for (const target of alertmanagers) check('alertmanagers', target, (value) => typeof value === 'string' && TARGET.test(value), 'host:port');
  const receivers = options.receivers ?? {};
  if (receivers === null || typeof receivers !== 'object' || Object.keys(receivers).length === 0) fail('alerting.receivers', 'expected at least one named receiver');
  for (const [name, receiver] of Object.entries(receivers)) resolveReceiver(name, receiver);
  const routes = options.routes ?? {};
  for (const [severity, receiver] of Object.entries(routes)) {
    if (!(SEVERITIES as readonly string[]).includes(severity)) {
      throw new LookoutError('LOOKOUT_E_PROVISION_SEVERITY', `alerting.routes.${severity}: unknown severity "${severity}"; the generated alerts carry ${SEVERITIES.join(' | ')}`);
    }
    if (typeof receiver !== 'string' || !Object.hasOwn(receivers, receiver)) {
      throw new LookoutError('LOOKOUT_E_PROVISION_RECEIVER', `alerting.routes.${severity}: receiver ${JSON.stringify(receiver)} is not defined under alerting.receivers (${Object.keys(receivers).join(', ')})`);
    }
  }
  for (const severity of SEVERITIES) {
    if (routes[severity] === undefined) throw new LookoutError('LOOKOUT_E_PROVISION_RECEIVER', `alerting.routes.${severity}: every severity needs a receiver (one of ${Object.keys(receivers).join(', ')})`);
  }
  return {
    alertmanagers: [...alertmanagers],
    receivers,
    routes: { page: routes.page!, ticket: routes.ticket! },
    groupWait: duration('groupWait', options.groupWait ?? '30s'),
    groupInterval: duration('groupInterval', options.groupInterval ?? '5m'),
    repeatInterval: duration('repeatInterval', options.repeatInterval ?? '4h'),
    ticketRepeatInterval: duration('ticketRepeatInterval', options.ticketRepeatInterval ?? '24h'),
    grafanaUrl: baseUrl('grafanaUrl', options.grafanaUrl ?? 'http://localhost:3000'),
    runbookBaseUrl: options.runbookBaseUrl === undefined ? undefined : baseUrl('runbookBaseUrl', options.runbookBaseUrl),
  };
}

function resolveReceiver(name: string, receiver: ReceiverOptions): void {
  const field = `alerting.receivers.${name}`;
  if (!NAME.test(name)) fail(field, 'a receiver name is letters, digits, _ or -, starting with a letter');
  if (receiver === null || typeof receiver !== 'object' || Object.keys(receiver).length === 0) fail(field, 'expected at least one of webhook, slack, email');
  for (const [kind, config] of Object.entries(receiver) as [string, Record<string, unknown>][]) {
    const keys = RECEIVER_KEYS[kind];
    if (keys === undefined) fail(`${field}.${kind}`, 'unknown receiver type; known: webhook, slack, email');
    if (config === null || typeof config !== 'object') fail(`${field}.${kind}`, 'expected a mapping');
    for (const key of Object.keys(config)) {
      const instead = INLINE_SECRETS[kind]![key];
      if (instead !== undefined) {
        throw new LookoutError('LOOKOUT_E_PROVISION_SECRET', `${field}.${kind}.${key}: a secret is never written into the generated files; put it in a file and set ${instead} to its path`);
      }
      if (!keys.includes(key)) fail(`${field}.${kind}.${key}`, `unknown option; known: ${keys.join(', ')}`);
    }
    for (const key of keys.filter((key) => key.endsWith('File') && config[key] !== undefined)) {
      check(`receivers.${name}.${kind}.${key}`, config[key], (value) => typeof value === 'string' && value.startsWith('/'), 'an absolute path');
    }
  }
  if (receiver.webhook !== undefined) {
    const url = check(`receivers.${name}.webhook.url`, receiver.webhook.url, (value) => typeof value === 'string' && /^https?:\/\/[^\s]+$/.test(value), 'an http(s) URL');
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '' || parsed.search !== '') {
      throw new LookoutError('LOOKOUT_E_PROVISION_SECRET', `${field}.webhook.url: credentials in the URL (user:password@ or a query string) are refused; use bearerTokenFile`);
    }
  }
  if (receiver.slack !== undefined) {
    check(`receivers.${name}.slack.apiUrlFile`, receiver.slack.apiUrlFile, (value) => typeof value === 'string', 'the path of a file holding the Slack webhook URL');
    check(`receivers.${name}.slack.channel`, receiver.slack.channel, (value) => typeof value === 'string' && /^[#@]?[\w.-]+$/.test(value), 'a channel such as #oncall');
  }
  if (receiver.email !== undefined) {
    const email = receiver.email;
    check(`receivers.${name}.email.to`, email.to, (value) => typeof value === 'string' && EMAIL.test(value), 'an e-mail address');
    check(`receivers.${name}.email.from`, email.from, (value) => typeof value === 'string' && EMAIL.test(value), 'an e-mail address');
    check(`receivers.${name}.email.smarthost`, email.smarthost, (value) => typeof value === 'string' && TARGET.test(value), 'the SMTP server as host:port');
    if ((email.authUsername === undefined) !== (email.authPasswordFile === undefined)) fail(`${field}.email.authPasswordFile`, 'authUsername and authPasswordFile go together');
  }
}

function fail(field: string, expected: string): never {
  throw new LookoutError('LOOKOUT_E_PROVISION_OPTION', `${field}: ${expected}`);
}

function check<T>(field: string, value: T, valid: (value: T) => boolean, expected: string): T {
  if (!valid(value)) fail(`alerting.${field}`, `expected ${expected}, got ${JSON.stringify(value)}`);
  return value;
}

function duration(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && DURATION.test(text), 'a duration such as 30s, 5m or 4h');
}

function baseUrl(field: string, value: string): string {
  return check(field, value, (text) => typeof text === 'string' && /^https?:\/\/[^\s?#]+[^/\s?#]$/.test(text), 'an http(s) URL without a trailing slash');
}
