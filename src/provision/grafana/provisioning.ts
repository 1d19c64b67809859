import { STORE_DATABASE, STORE_USERS } from '../../kpi/store-roles.js';
import type { ResolvedProvisionOptions } from '../options.js';

/**
 * Where the compose file mounts the dashboard JSON inside the Grafana container.
 *
 * @example
 * ```ts
 * `./grafana/dashboards:${GRAFANA_DASHBOARDS_PATH}:ro`;
 * ```
 */
export const GRAFANA_DASHBOARDS_PATH = '/var/lib/grafana/dashboards';

/**
 * The PostgreSQL major version Grafana is told about (`jsonData.postgresVersion`, 1500 = 15).
 *
 * @example
 * ```ts
 * ({ jsonData: { postgresVersion: POSTGRES_VERSION } });
 * ```
 */
export const POSTGRES_VERSION = 1500;

/**
 * Grafana's datasource provisioning document: Prometheus and PostgreSQL with fixed uids. Every URL,
 * user and secret is an `${ENV}` reference that Grafana expands at start-up; nothing secret is written.
 * With `datasources.postgres.embeddedStore`, PostgreSQL is the embedded KPI store on its fixed
 * port, as its read-only role (no password: loopback only).
 *
 * @example
 * ```ts
 * const document = grafanaDatasources(resolveProvisionOptions());
 * document.datasources[1].secureJsonData.password; // '${DS_POSTGRES_PASSWORD}'
 * ```
 */
export function grafanaDatasources(options: ResolvedProvisionOptions) {
  const { prometheus, postgres } = options.datasources;
  const embedded = postgres.embeddedStore;
  return {
    apiVersion: 1,
    datasources: [
      {
        name: prometheus.name,
        type: 'prometheus',
        uid: prometheus.uid,
        access: 'proxy',
        url: env(prometheus.urlEnv),
        isDefault: true,
        editable: false,
        jsonData: {
          httpMethod: 'POST',
          // The scrape interval: Grafana's floor for $__interval and the basis of $__rate_interval.
          timeInterval: options.scrapeInterval,
          queryTimeout: '60s',
        },
      },
      {
        name: postgres.name,
        type: 'grafana-postgresql-datasource',
        uid: postgres.uid,
        access: 'proxy',
        url: embedded === undefined ? env(postgres.hostEnv) : `${embedded.host.includes(':') ? `[${embedded.host}]` : embedded.host}:${embedded.port}`,
        // The read-only role (SELECT on the events table only): dashboards can never write.
        user: embedded === undefined ? env(postgres.userEnv) : STORE_USERS.reader,
        editable: false,
        jsonData: {
          database: embedded === undefined ? env(postgres.databaseEnv) : STORE_DATABASE,
          sslmode: embedded === undefined ? postgres.sslmode : 'disable',
          postgresVersion: POSTGRES_VERSION,
          timescaledb: false,
          timeInterval: '1m',
          maxOpenConns: 10,
          maxIdleConns: 10,
          connMaxLifetime: 14_400,
        },
        // The embedded store's users have no password: it listens on loopback only.
        ...(embedded === undefined && { secureJsonData: { password: env(postgres.passwordEnv) } }),
      },
    ],
  };
}

/**
 * Grafana's dashboard provisioning document: one file provider whose sub-folders become folders.
 * `path` is where Grafana finds the dashboard JSON: the compose file's mount by default, a
 * local folder for a Grafana on the host (as `npm run demo` writes).
 *
 * @example
 * ```ts
 * grafanaDashboardProviders(resolveProvisionOptions()).providers[0].options.foldersFromFilesStructure; // true
 * grafanaDashboardProviders(resolveProvisionOptions(), '/srv/lookout/grafana/dashboards').providers[0].options.path; // '/srv/lookout/grafana/dashboards'
 * ```
 */
export function grafanaDashboardProviders(_options: ResolvedProvisionOptions, path: string = GRAFANA_DASHBOARDS_PATH) {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'lookout',
        orgId: 1,
        type: 'file',
        disableDeletion: false,
        updateIntervalSeconds: 30,
        // Generated dashboards change in code, never in the UI.
        allowUiUpdates: false,
        options: { path, foldersFromFilesStructure: true },
      },
    ],
  };
}

function env(name: string): string {
  return `\${${name}}`;
}
