// Docker is not available in CI: the committed compose.yaml is checked by parsing it.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolveProvisionOptions } from './options.js';
import { alertmanagerSecrets, composeFile, envExample } from './compose.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');

interface Service {
  image: string;
  healthcheck?: { test: string[] };
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  secrets?: (string | { source: string; target: string })[];
  command?: string[];
}

describe('deploy/compose.yaml', async () => {
  const compose = parse(await readFile(join(DEPLOY, 'compose.yaml'), 'utf8')) as { services: Record<string, Service>; secrets?: Record<string, { environment: string }> };
  const services = compose.services;
  const envExample = await readFile(join(DEPLOY, '.env.example'), 'utf8');

  it('runs api, postgres, prometheus, grafana and alertmanager from pinned official images with healthchecks', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', 'api', 'grafana', 'postgres', 'prometheus']);
    const official = /^(postgres|node|prom\/prometheus|prom\/alertmanager|grafana\/grafana-oss):v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)*$/;
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(official);
      expect(service.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(1);
    }
  });

  it('mounts the generated provisioning read-only, from paths that exist', async () => {
    expect(services['prometheus']!.volumes).toContain('./prometheus:/etc/prometheus:ro');
    expect(services['grafana']!.volumes).toEqual(expect.arrayContaining(['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/var/lib/grafana/dashboards:ro']));
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) if (volume.startsWith('./')) await access(join(DEPLOY, volume.split(':')[0]!));
    }
  });

  it('starts Grafana only once Prometheus and PostgreSQL are healthy', () => {
    expect(services['grafana']!.depends_on).toEqual({ prometheus: { condition: 'service_healthy' }, postgres: { condition: 'service_healthy' } });
  });

  it("sets every variable Grafana's datasources.yml reads, with the reader role as PostgreSQL user", async () => {
    const datasources = await readFile(join(DEPLOY, 'grafana/provisioning/datasources/datasources.yml'), 'utf8');
    const names = [...datasources.replace(/^\s*#.*$/gm, '').matchAll(/\$\{([A-Z_][A-Z0-9_]*)\}/g)].map((match) => match[1]!);
    expect(names.length).toBeGreaterThanOrEqual(5);
    for (const name of names) expect(services['grafana']!.environment, name).toHaveProperty(name);
    expect(services['grafana']!.environment!['DS_POSTGRES_USER']).toBe('lookout_reader');
  });

  it('takes every ${VAR} it uses from .env, all listed in .env.example', async () => {
    const text = await readFile(join(DEPLOY, 'compose.yaml'), 'utf8');
    const used = new Set([...text.matchAll(/(?<!\$)\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]!));
    for (const secret of Object.values(compose.secrets ?? {})) used.add(secret.environment);
    for (const name of used) expect(envExample, name).toMatch(new RegExp(`^${name}=`, 'm'));
  });

  it('gives Prometheus the /metrics token as a compose secret, where prometheus.yml reads it', async () => {
    const prometheus = await readFile(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8');
    expect(prometheus).toContain('credentials_file: /run/secrets/metrics_token');
    expect(services['prometheus']!.secrets).toEqual(['metrics_token']);
    expect(compose.secrets).toMatchObject({ metrics_token: { environment: 'LOOKOUT_METRICS_TOKEN' } });
  });

  it('runs the generated alertmanager.yml, mounted read-only, with every file it reads a secret from mounted as a compose secret; Prometheus sends to it', async () => {
    const alertmanager = services['alertmanager']!;
    expect(alertmanager.volumes).toContain('./alertmanager:/etc/alertmanager:ro');
    expect(alertmanager.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    const config = await readFile(join(DEPLOY, 'alertmanager/alertmanager.yml'), 'utf8');
    const files = [...config.matchAll(/^\s*(?:- )?(?:credentials_file|api_url_file|auth_password_file): (\S+)$/gm)].map((match) => match[1]!);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const mounted = (alertmanager.secrets ?? []).map((secret) => (typeof secret === 'string' ? `/run/secrets/${secret}` : secret.target));
    expect(mounted.sort()).toEqual([...new Set(files)].sort());
    // Each from .env, never a literal in compose.yaml or alertmanager.yml.
    for (const secret of alertmanager.secrets ?? []) {
      const name = typeof secret === 'string' ? secret : secret.source;
      expect(compose.secrets?.[name]?.environment, name).toMatch(/^ALERTMANAGER_[A-Z0-9_]+$/);
      expect(envExample).toMatch(new RegExp(`^${compose.secrets![name]!.environment}=$`, 'm'));
    }
    const prometheus = parse(await readFile(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as { alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
    expect(prometheus.alerting.alertmanagers[0]!.static_configs[0]!.targets).toContain('alertmanager:9093');
    expect(alertmanager.healthcheck?.test).toContain('http://127.0.0.1:9093/-/ready');
  });
});

describe('composeFile and alerting', () => {
  it('leaves alertmanager out without alerting; mounts a secret outside /run/secrets at its own path; names that clash get a suffix', () => {
    expect(Object.keys(composeFile(resolveProvisionOptions({ service: 'shop' })).services)).not.toContain('alertmanager');
    const options = resolveProvisionOptions({
      service: 'shop',
      alerting: {
        receivers: {
          a: { webhook: { url: 'http://pager:8080/', bearerTokenFile: '/etc/alertmanager/secrets/token' } },
          b: { webhook: { url: 'http://other:8080/', bearerTokenFile: '/run/secrets/token' }, slack: { apiUrlFile: '/run/secrets/token', channel: '#b' } },
        },
        routes: { page: 'a', ticket: 'b' },
      },
    });
    expect(alertmanagerSecrets(options.alerting).map(({ name, env, path }) => ({ name, env, path }))).toEqual([
      { name: 'token', env: 'ALERTMANAGER_TOKEN', path: '/etc/alertmanager/secrets/token' },
      { name: 'token_2', env: 'ALERTMANAGER_TOKEN_2', path: '/run/secrets/token' },
    ]);
    const compose = composeFile(options);
    expect(compose.services.alertmanager?.secrets).toEqual([{ source: 'token', target: '/etc/alertmanager/secrets/token' }, { source: 'token_2', target: '/run/secrets/token' }]);
    expect(compose.secrets).toEqual({ token: { environment: 'ALERTMANAGER_TOKEN' }, token_2: { environment: 'ALERTMANAGER_TOKEN_2' } });
    expect(envExample(options)).toMatch(/^ALERTMANAGER_TOKEN_2=$/m);
  });
});
