// Docker is not available here: the scaling overlays are checked by parsing them, not by running them.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadProvisionConfig } from './config-file.js';
import { resolveProvisionOptions } from './options.js';
import { SCALING_STORES, scalingPrometheusConfig, scalingRemoteWrite } from './scaling.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');

interface Service {
  image?: string;
  command?: string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('scaling out: remote-write examples and compose overlays', async () => {
  const options = resolveProvisionOptions(await loadProvisionConfig(join(DEPLOY, 'lookout.config.yaml')));
  const base = parse(await readFile(join(DEPLOY, 'compose.yaml'), 'utf8')) as { services: Record<string, Service> };

  it('the committed prometheus.yml has no remote_write; each example is prometheus.yml plus one', async () => {
    const committed = parse(await readFile(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as Record<string, unknown>;
    expect(committed).not.toHaveProperty('remote_write');
    for (const store of SCALING_STORES) {
      const example = parse(await readFile(join(DEPLOY, `prometheus/prometheus.${store}.yml`), 'utf8')) as Record<string, unknown>;
      const { remote_write: remoteWrite, ...rest } = example;
      expect(rest, store).toEqual(committed);
      expect(remoteWrite, store).toEqual(scalingPrometheusConfig(options, store).remote_write);
    }
  });

  it('sends each store its tenant the way it expects', () => {
    expect(scalingRemoteWrite(options, 'mimir')).toMatchObject({ url: 'http://mimir:8080/api/v1/push', headers: { 'X-Scope-OrgID': 'inference-api' }, keep: 'lookout' });
    expect(scalingRemoteWrite(options, 'thanos')).toMatchObject({ url: 'http://thanos-receive:19291/api/v1/receive', headers: { 'THANOS-TENANT': 'inference-api' }, keep: 'lookout' });
    expect(scalingRemoteWrite(options, 'victoriametrics')).toMatchObject({ url: 'http://victoriametrics:8428/api/v1/write', headers: {}, keep: 'all' });
  });

  it.each(SCALING_STORES.map((store) => [store]))('compose.%s.yaml: starts the store its example writes to, from a pinned image, published on 127.0.0.1 only', async (store) => {
    const overlay = parse(await readFile(join(DEPLOY, `scaling/compose.${store}.yaml`), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    const prometheus = overlay.services['prometheus']!;
    expect(prometheus.command![0]).toBe(`--config.file=/etc/prometheus/prometheus.${store}.yml`);
    expect(prometheus.command!.slice(1)).toEqual(base.services['prometheus']!.command!.slice(1));
    // The service the example's URL names is one the overlay starts.
    const host = new URL(scalingRemoteWrite(options, store).url).hostname;
    expect(Object.keys(overlay.services)).toContain(host);
    expect(Object.keys(prometheus.depends_on!)).toEqual([host]);
    for (const [name, service] of Object.entries(overlay.services)) {
      if (name === 'prometheus') continue;
      expect(base.services, `${name} must not replace a base service`).not.toHaveProperty(name);
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+\.\d+$/);
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        // Paths are relative to deploy/ (the first -f file's folder); named volumes are declared.
        if (source.startsWith('./')) await access(join(DEPLOY, source));
        else expect(overlay.volumes, volume).toHaveProperty(source);
      }
    }
  });

  it('Mimir keeps multi-tenancy on (the X-Scope-OrgID header matters) and stores on its volume', async () => {
    const mimir = parse(await readFile(join(DEPLOY, 'scaling/mimir.yaml'), 'utf8')) as Record<string, unknown>;
    expect(mimir).toMatchObject({ target: 'all', multitenancy_enabled: true, server: { http_listen_port: 8080 }, blocks_storage: { backend: 'filesystem' } });
    expect(JSON.stringify(mimir).match(/"\/[^"]*"/g)!.every((path) => path.startsWith('"/data/'))).toBe(true);
  });
});
