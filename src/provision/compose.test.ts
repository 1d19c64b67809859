// Docker is not available in CI: the committed compose.yaml is checked by parsing it.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DEPLOY = join(import.meta.dirname, '../../deploy');

interface Service {
  image: string;
  healthcheck?: { test: string[] };
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  secrets?: string[];
}

describe('deploy/compose.yaml', async () => {
  const compose = parse(await readFile(join(DEPLOY, 'compose.yaml'), 'utf8')) as { services: Record<string, Service>; secrets?: Record<string, { environment: string }> };
  const services = compose.services;
  const envExample = await readFile(join(DEPLOY, '.env.example'), 'utf8');

  it('runs api, postgres, prometheus and grafana from pinned official images with healthchecks', () => {
    expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'postgres', 'prometheus']);
    const official = /^(postgres|node|prom\/prometheus|grafana\/grafana-oss):v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)*$/;
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
    expect(compose.secrets).toEqual({ metrics_token: { environment: 'LOOKOUT_METRICS_TOKEN' } });
  });
});
