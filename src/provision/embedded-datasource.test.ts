import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Registry } from '../core/registry.js';
import { createKpi } from '../kpi/kpi.js';
import { pgStore } from '../kpi/pg-store.js';
import { hostStore } from '../kpi/store-host.js';
import { checkDashboards } from '../verify/checker.js';
import { loadDashboards, loadDatasources } from '../verify/dashboards.js';
import { PostgresRunner } from '../verify/postgres-runner.js';
import { generateDeployFiles, writeDeployFiles } from './generate.js';
import { resolveProvisionOptions } from './options.js';

const folder = mkdtempSync(join(tmpdir(), 'lookout-embedded-datasource-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('a Grafana datasource on the embedded store (datasources.postgres.embeddedStore)', () => {
  it('is generated for loopback and the read-only role, and every PostgreSQL panel of the generated dashboards runs through it', { timeout: 120_000 }, async () => {
    const store = await hostStore({ dataDir: join(folder, 'kpi') });
    try {
      const kpi = createKpi({ registry: new Registry(), events: ['good_inference', 'bad_inference'], store: pgStore({ connectionString: store.address.connectionString, writeMethod: 'probe' }) });
      for (let index = 0; index < 200; index++) {
        kpi.record(index % 5 === 0 ? 'bad_inference' : 'good_inference', { user: `u-${index % 7}`, model: index % 2 === 0 ? 'resnet' : 'vit', args: { label: index % 3 === 0 ? 'cat' : 'dog' } });
      }
      expect(await kpi.close({ deadlineMs: 30_000 })).toBe(true);
      expect(kpi.stats()).toMatchObject({ recorded: 200, written: 200 });

      const deploy = join(folder, 'deploy');
      await writeDeployFiles(deploy, generateDeployFiles(resolveProvisionOptions({ datasources: { postgres: { embeddedStore: { port: store.address.port } } } })));
      const file = join(deploy, 'grafana/provisioning/datasources/datasources.yml');
      const generated = (parse(readFileSync(file, 'utf8')) as { datasources: Record<string, unknown>[] }).datasources.find((source) => source.type === 'grafana-postgresql-datasource')!;
      expect(generated).toMatchObject({ url: `127.0.0.1:${store.address.port}`, user: 'lookout_reader', jsonData: { database: 'postgres', sslmode: 'disable' } });
      expect(generated).not.toHaveProperty('secureJsonData');

      // Connect exactly as the generated datasource says (host:port, user, database, no password).
      const jsonData = generated.jsonData as { database: string };
      const reader = new PostgresRunner({ connectionString: `postgresql://${String(generated.user)}@${String(generated.url)}/${jsonData.database}` });
      try {
        expect(await reader.role()).toEqual({ user: 'lookout_reader', superuser: false, writableTables: [] });
        // Only the PostgreSQL panels run here: the Prometheus variables and panels need a Prometheus.
        const dashboards = (await loadDashboards(join(deploy, 'grafana/dashboards'))).map((item) => ({ ...item, dashboard: { ...item.dashboard, templating: { list: [] } } }));
        const report = await checkDashboards({ dashboards, datasources: await loadDatasources(file), postgres: reader });
        const sql = report.targets.filter((target) => target.datasource === 'grafana-postgresql-datasource');
        expect(sql.map((target) => target.panel).sort()).toEqual([
          'Accuracy by model',
          'Accuracy by model version (events)',
          'Accuracy per minute by model version (events)',
          'Events by user argument',
          'Good vs bad predictions',
          'Model accuracy per minute',
        ]);
        expect(sql.filter((target) => !target.ok)).toEqual([]);
        expect(sql.every((target) => target.queries.length > 0 && target.series > 0)).toBe(true);
      } finally {
        await reader.close();
      }
    } finally {
      await store.stop();
    }
  });
});
