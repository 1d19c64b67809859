import { join, resolve } from 'node:path';
import { generateDeployFiles, writeDeployFiles, type GeneratedFile } from '../src/provision/generate.js';
import { grafanaDashboardProviders, grafanaDatasources } from '../src/provision/grafana/provisioning.js';
import { resolveProvisionOptions, type ProvisionOptions } from '../src/provision/options.js';
import { renderYaml } from '../src/provision/yaml.js';

/** Where the demo's Grafana provisioning points, and what it wrote. */
export interface DemoGrafana {
  /** The folder to give Grafana as `GF_PATHS_PROVISIONING`. */
  readonly provisioning: string;
  /** The files written, absolute. */
  readonly files: readonly string[];
}

/**
 * Writes provisioning for a Grafana on this host that shows the demo: the committed config's
 * datasources and dashboards, with PostgreSQL pointing at the embedded KPI store on `storePort`
 * (loopback, the read-only role `lookout_reader`, no password) and Prometheus at the demo's own
 * (its URL written in, or left as `${PROMETHEUS_URL}` for Grafana to expand when none runs).
 * Layout under `folder`: `provisioning/{datasources,dashboards}/` and `dashboards/<service>/*.json`,
 * the provider's path absolute so Grafana started from anywhere finds them.
 *
 * @example
 * ```ts
 * const grafana = await writeDemoGrafana('.lookout/grafana', config, { storePort: 54320, prometheusUrl: 'http://127.0.0.1:9091' });
 * console.log(`GF_PATHS_PROVISIONING=${grafana.provisioning} grafana server`);
 * ```
 */
export async function writeDemoGrafana(folder: string, config: ProvisionOptions, at: { readonly storePort: number; readonly prometheusUrl?: string | undefined }): Promise<DemoGrafana> {
  const root = resolve(folder);
  const options = resolveProvisionOptions({
    ...config,
    datasources: { ...config.datasources, postgres: { ...config.datasources?.postgres, embeddedStore: { port: at.storePort } } },
  });
  const document = grafanaDatasources(options);
  const [prometheus, postgres] = document.datasources;
  const datasources = { ...document, datasources: [{ ...prometheus, ...(at.prometheusUrl !== undefined && { url: at.prometheusUrl }) }, postgres] };
  const dashboards: GeneratedFile[] = generateDeployFiles(options)
    .filter((file) => file.path.startsWith('grafana/dashboards/'))
    .map((file) => ({ ...file, path: file.path.slice('grafana/'.length) }));
  const note = 'Written by `npm run demo` for a Grafana on this host; rewritten at every start (the store port may change).';
  const files = await writeDeployFiles(root, [
    { path: 'provisioning/datasources/datasources.yml', content: renderYaml(datasources, note), mode: 0o644 },
    { path: 'provisioning/dashboards/dashboards.yaml', content: renderYaml(grafanaDashboardProviders(options, join(root, 'dashboards')), note), mode: 0o644 },
    ...dashboards,
  ]);
  return { provisioning: join(root, 'provisioning'), files };
}
