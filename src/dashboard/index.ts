/**
 * `lookout/dashboard`: the built-in live dashboard. The adapters mount it
 * with their `dashboard` option; `createDashboard` mounts it anywhere else.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * import { Registry } from 'lookout';
 * import { createDashboard } from 'lookout/dashboard';
 *
 * const registry = new Registry();
 * const dashboard = createDashboard({ registry, token: process.env.METRICS_TOKEN });
 * http.createServer((req, res) => (dashboard.owns(req.url) ? void dashboard.handle(req, res) : res.end('hi'))).listen(9464, '127.0.0.1');
 * ```
 */
export { createDashboard, type Dashboard, type DashboardAnswer, type DashboardRequest } from './dashboard.js';
export { resolveDashboardOptions, type DashboardConfig, type DashboardKpi, type DashboardOptions, type ResolvedDashboardOptions } from './options.js';
export { PANELS, STATS, type Panel, type StatSpec } from './panels.js';
export type { ChartData, DashboardData, DataSource, RouteRow, SeriesData, StatData, Unit } from './types.js';
