import type { ResolvedAlerting } from './alerting.js';
import { prometheusFeatureFlags, type HistogramMode } from './histograms.js';
import type { ResolvedProvisionOptions } from './options.js';
import { GENERATED_NOTICE } from './yaml.js';

/**
 * Variables `compose.yaml` reads from `.env`, with what each is for (secrets have no default).
 *
 * @example
 * ```ts
 * COMPOSE_ENV.filter((entry) => entry.secret).map((entry) => entry.name);
 * ```
 */
export const COMPOSE_ENV: readonly { readonly name: string; readonly secret: boolean; readonly example: string; readonly help: string }[] = [
  { name: 'POSTGRES_DB', secret: false, example: 'lookout', help: 'database holding the events table' },
  { name: 'POSTGRES_USER', secret: false, example: 'lookout', help: 'owner role the API writes events with' },
  { name: 'POSTGRES_PASSWORD', secret: true, example: '', help: 'password of POSTGRES_USER' },
  { name: 'POSTGRES_HOST_PORT', secret: false, example: '5432', help: 'port PostgreSQL is published on, on 127.0.0.1 only (for lookout check)' },
  { name: 'LOOKOUT_READER_PASSWORD', secret: true, example: '', help: "password of the read-only role Grafana's PostgreSQL datasource uses" },
  { name: 'LOOKOUT_METRICS_TOKEN', secret: true, example: '', help: 'bearer token protecting /metrics (Prometheus sends it)' },
  { name: 'GRAFANA_ADMIN_USER', secret: false, example: 'admin', help: 'Grafana administrator login' },
  { name: 'GRAFANA_ADMIN_PASSWORD', secret: true, example: '', help: 'Grafana administrator password' },
];

const required = (name: string) => `\${${name}:?set ${name} in .env (see .env.example)}`;
const withDefault = (name: string) => `\${${name}:-${COMPOSE_ENV.find((entry) => entry.name === name)?.example ?? ''}}`;

function metricsSecret(options: ResolvedProvisionOptions): string | undefined {
  const file = options.bearerTokenFile;
  return file !== undefined && file.startsWith('/run/secrets/') ? file.slice('/run/secrets/'.length) : undefined;
}

function apiService(options: ResolvedProvisionOptions) {
  const port = options.compose.apiPort;
  const secret = metricsSecret(options);
  const healthcheck = `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return {
    image: options.compose.apiImage,
    restart: 'unless-stopped',
    working_dir: '/app',
    command: [...options.compose.apiCommand],
    // The repository itself (built on the host with `npm ci`); replace with your API's own image.
    volumes: ['..:/app:ro'],
    environment: {
      PORT: String(port),
      DATABASE_URL: `postgres://${withDefault('POSTGRES_USER')}:${required('POSTGRES_PASSWORD')}@postgres:5432/${withDefault('POSTGRES_DB')}`,
      ...(secret === undefined ? {} : { LOOKOUT_METRICS_TOKEN_FILE: `/run/secrets/${secret}` }),
      // The example API turns the adapter's `nativeHistograms` on from this variable.
      ...(options.histograms !== 'classic' && { LOOKOUT_NATIVE_HISTOGRAMS: '1' }),
    },
    ...(secret === undefined ? {} : { secrets: [secret] }),
    depends_on: { postgres: { condition: 'service_healthy' } },
    healthcheck: { test: ['CMD', 'node', '-e', healthcheck], interval: '10s', timeout: '3s', retries: 6, start_period: '20s' },
    ports: [`127.0.0.1:${port}:${port}`],
  };
}

function postgresService(options: ResolvedProvisionOptions) {
  return {
    image: options.compose.postgresImage,
    restart: 'unless-stopped',
    environment: {
      POSTGRES_DB: withDefault('POSTGRES_DB'),
      POSTGRES_USER: withDefault('POSTGRES_USER'),
      POSTGRES_PASSWORD: required('POSTGRES_PASSWORD'),
      LOOKOUT_READER_PASSWORD: required('LOOKOUT_READER_PASSWORD'),
    },
    volumes: ['postgres-data:/var/lib/postgresql/data', './postgres/initdb:/docker-entrypoint-initdb.d:ro'],
    healthcheck: { test: ['CMD-SHELL', 'pg_isready -U "$${POSTGRES_USER}" -d "$${POSTGRES_DB}"'], interval: '5s', timeout: '3s', retries: 20 },
    ports: [`127.0.0.1:${withDefault('POSTGRES_HOST_PORT')}:5432`],
  };
}

/**
 * The Prometheus container's command line, reading `configFile` from the mounted `prometheus/`
 * folder (the scaling overlays swap in `prometheus.<store>.yml`), with the native-histograms
 * feature flag unless `histograms` is `classic`.
 *
 * @example
 * ```ts
 * prometheusCommand('prometheus.mimir.yml')[0]; // '--config.file=/etc/prometheus/prometheus.mimir.yml'
 * prometheusCommand('prometheus.yml', 'native').at(-1); // '--enable-feature=native-histograms'
 * ```
 */
export function prometheusCommand(configFile = 'prometheus.yml', histograms: HistogramMode = 'classic'): string[] {
  return [
    `--config.file=/etc/prometheus/${configFile}`,
    '--storage.tsdb.path=/prometheus',
    // Longer than the SLO period so "error budget left" sees the whole period.
    '--storage.tsdb.retention.time=35d',
    ...prometheusFeatureFlags(histograms),
  ];
}

function prometheusService(options: ResolvedProvisionOptions) {
  const secret = metricsSecret(options);
  return {
    image: options.compose.prometheusImage,
    restart: 'unless-stopped',
    command: prometheusCommand('prometheus.yml', options.histograms),
    volumes: ['./prometheus:/etc/prometheus:ro', 'prometheus-data:/prometheus'],
    ...(secret === undefined ? {} : { secrets: [secret] }),
    depends_on: { api: { condition: 'service_started' }, ...(options.alerting !== undefined && { alertmanager: { condition: 'service_healthy' } }) },
    healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:9090/-/ready'], interval: '10s', timeout: '3s', retries: 6 },
    ports: ['127.0.0.1:9090:9090'],
  };
}

function grafanaService(options: ResolvedProvisionOptions) {
  const { prometheus, postgres } = options.datasources;
  return {
    image: options.compose.grafanaImage,
    restart: 'unless-stopped',
    environment: {
      GF_SECURITY_ADMIN_USER: withDefault('GRAFANA_ADMIN_USER'),
      GF_SECURITY_ADMIN_PASSWORD: required('GRAFANA_ADMIN_PASSWORD'),
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      [prometheus.urlEnv]: 'http://prometheus:9090',
      [postgres.hostEnv]: 'postgres:5432',
      [postgres.databaseEnv]: withDefault('POSTGRES_DB'),
      [postgres.userEnv]: postgres.readerRole,
      [postgres.passwordEnv]: required('LOOKOUT_READER_PASSWORD'),
    },
    volumes: ['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/var/lib/grafana/dashboards:ro', 'grafana-data:/var/lib/grafana'],
    depends_on: { prometheus: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } },
    healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:3000/api/health'], interval: '10s', timeout: '3s', retries: 6 },
    ports: ['127.0.0.1:3000:3000'],
  };
}

/**
 * The files `alertmanager.yml` reads its secrets from (every `*File` of the receivers), each as a
 * compose secret: its name (the file's base name), the `.env` variable holding it, and where the
 * container sees it (`/run/secrets/<name>`, or the absolute path configured).
 *
 * @example
 * ```ts
 * alertmanagerSecrets(options.alerting); // [{ name: 'pager_token', env: 'ALERTMANAGER_PAGER_TOKEN', path: '/run/secrets/pager_token', ... }]
 * ```
 */
export function alertmanagerSecrets(alerting: ResolvedAlerting | undefined): { readonly name: string; readonly env: string; readonly path: string; readonly help: string }[] {
  const secrets: { name: string; env: string; path: string; help: string }[] = [];
  for (const [receiver, config] of Object.entries(alerting?.receivers ?? {})) {
    const files: [string | undefined, string][] = [
      [config.webhook?.bearerTokenFile, 'webhook bearer token'],
      [config.slack?.apiUrlFile, 'Slack incoming-webhook URL'],
      [config.email?.authPasswordFile, 'SMTP password'],
    ];
    for (const [path, what] of files) {
      if (path === undefined || secrets.some((secret) => secret.path === path)) continue;
      const base = (path.split('/').pop() ?? '').toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^_+|_+$/g, '') || 'secret';
      let name = base;
      for (let index = 2; secrets.some((secret) => secret.name === name); index++) name = `${base}_${index}`;
      secrets.push({ name, env: `ALERTMANAGER_${name.toUpperCase()}`, path, help: `${what} of the ${receiver} receiver (alertmanager reads it from ${path})` });
    }
  }
  return secrets;
}

function alertmanagerService(options: ResolvedProvisionOptions) {
  const secrets = alertmanagerSecrets(options.alerting);
  return {
    image: options.compose.alertmanagerImage,
    restart: 'unless-stopped',
    command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
    volumes: ['./alertmanager:/etc/alertmanager:ro', 'alertmanager-data:/alertmanager'],
    // Mounted as files where alertmanager.yml reads them (`*_file` settings): never in the config itself.
    ...(secrets.length > 0 && {
      secrets: secrets.map((secret) => (secret.path === `/run/secrets/${secret.name}` ? secret.name : { source: secret.name, target: secret.path })),
    }),
    healthcheck: { test: ['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:9093/-/ready'], interval: '10s', timeout: '3s', retries: 6 },
    ports: ['127.0.0.1:9093:9093'],
  };
}

/**
 * The compose document: api, postgres, prometheus and grafana (and alertmanager when alerting is
 * configured) with pinned images, healthchecks, the generated provisioning mounted read-only, and
 * every secret from `.env`.
 *
 * @example
 * ```ts
 * Object.keys(composeFile(resolveProvisionOptions()).services); // ['postgres', 'api', 'prometheus', 'grafana']
 * ```
 */
export function composeFile(options: ResolvedProvisionOptions) {
  const secret = metricsSecret(options);
  const alerting = options.alerting !== undefined;
  const secrets: Record<string, { environment: string }> = {
    ...(secret === undefined ? {} : { [secret]: { environment: 'LOOKOUT_METRICS_TOKEN' } }),
    ...Object.fromEntries(alertmanagerSecrets(options.alerting).map((entry) => [entry.name, { environment: entry.env }])),
  };
  return {
    name: options.service,
    services: {
      postgres: postgresService(options),
      api: apiService(options),
      prometheus: prometheusService(options),
      grafana: grafanaService(options),
      ...(alerting && { alertmanager: alertmanagerService(options) }),
    },
    ...(Object.keys(secrets).length > 0 && { secrets }),
    volumes: { 'postgres-data': {}, 'prometheus-data': {}, 'grafana-data': {}, ...(alerting && { 'alertmanager-data': {} }) },
  };
}

/**
 * `.env.example`: every variable compose reads (the Alertmanager receivers' secrets too, given
 * `options`), secrets left empty.
 *
 * @example
 * ```ts
 * envExample(); // '# Generated ...\nPOSTGRES_DB=lookout\n...'
 * ```
 */
export function envExample(options?: ResolvedProvisionOptions): string {
  const lines = [
    `# ${GENERATED_NOTICE}`,
    '# Copy to .env (never commit it) and fill in every empty value, e.g. with `openssl rand -hex 24`.',
  ];
  const alerting = alertmanagerSecrets(options?.alerting).map((entry) => ({ name: entry.env, secret: true, example: '', help: entry.help }));
  for (const entry of [...COMPOSE_ENV, ...alerting]) lines.push('', `# ${entry.help}${entry.secret ? ' (secret, required)' : ''}`, `${entry.name}=${entry.example}`);
  return `${lines.join('\n')}\n`;
}
