import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip as gzipCallback, gzipSync } from 'node:zlib';
import { resolveOptional } from '../core/optional.js';
import { bearerChecker } from '../http/serve.js';
import { KpiMinutes } from './kpi-source.js';
import { memoryData } from './memory-source.js';
import { resolveDashboardOptions, type DashboardConfig, type ResolvedDashboardOptions } from './options.js';
import { buildPage, loginPage, RANGES } from './page/html.js';
import { PANELS, statsFromCharts } from './panels.js';
import { PrometheusError, prometheusData } from './prometheus-source.js';
import { Sampler } from './sampler.js';
import type { DashboardData, DataSource } from './types.js';

const gzip = promisify(gzipCallback);

/**
 * What a dashboard request carries that matters to the answer.
 *
 * @example
 * ```ts
 * const request: DashboardRequest = { method: 'GET', url: '/lookout/data?range=900', authorization: undefined, cookie: undefined, acceptEncoding: 'gzip' };
 * ```
 */
export interface DashboardRequest {
  readonly method: string | undefined;
  /** Path and query string. */
  readonly url: string | undefined;
  readonly authorization: string | undefined;
  readonly cookie: string | undefined;
  readonly acceptEncoding: string | undefined;
  /** True behind TLS: the token cookie is then marked Secure. */
  readonly secure?: boolean;
}

/**
 * A dashboard answer, ready to write.
 *
 * @example
 * ```ts
 * const answer = await dashboard.respond(request);
 * res.writeHead(answer.status, answer.headers).end(answer.body);
 * ```
 */
export interface DashboardAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Uint8Array;
}

/**
 * The built-in dashboard: a page at `path`, its JSON at `dataPath`.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ registry, token: process.env.METRICS_TOKEN });
 * http.createServer((req, res) => dashboard.owns(req.url) ? dashboard.handle(req, res) : app(req, res));
 * ```
 */
export interface Dashboard {
  readonly options: ResolvedDashboardOptions;
  /** The paths it answers (also the paths the HTTP metrics skip). */
  readonly paths: readonly string[];
  /** True when `url` (path and query) is one of `paths`. */
  owns(url: string | undefined): boolean;
  respond(request: DashboardRequest): Promise<DashboardAnswer>;
  /** A node `(req, res)` handler around `respond`. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The data endpoint's answer, without HTTP. */
  data(query?: { readonly range?: number; readonly source?: DataSource }): Promise<DashboardData>;
  /** Stops the sampler. */
  close(): void;
}

const COOKIE = 'lookout_token';
/** The data endpoint's range when none (or an unknown one) is asked for. */
const DEFAULT_RANGE = 900;
/** Answers are reused this long: several open tabs cost one computation. */
const CACHE_MS = 1000;
/** After Prometheus failed, it is left alone this long (a blackholed host costs a timeout per query). */
const PROMETHEUS_BACKOFF_MS = 30_000;
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const cut = part.indexOf('=');
    if (cut > 0 && part.slice(0, cut).trim() === name) {
      try {
        return decodeURIComponent(part.slice(cut + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Creates the dashboard. Nothing runs until the first request: the sampler
 * starts then (for the in-process source) and the page is built once.
 *
 * @example
 * ```ts
 * const dashboard = createDashboard({ registry, kpi, prometheusUrl: 'http://127.0.0.1:9090' });
 * const data = await dashboard.data({ range: 300 });
 * dashboard.close();
 * ```
 */
export function createDashboard(config: DashboardConfig): Dashboard {
  const options = resolveDashboardOptions(config);
  // uplot is an optional peer dependency: without it the app learns so here, at registration, with the install command.
  resolveOptional('dashboard', 'uplot', 'uplot/dist/uPlot.iife.min.js');
  const sampler = new Sampler(options);
  const minutes = options.kpi === undefined ? undefined : new KpiMinutes(options.kpi);
  const checkBearer = bearerChecker(options.token);
  const sources: DataSource[] = options.prometheusUrl === undefined ? ['memory'] : ['prometheus', 'memory'];
  const cache = new Map<string, { at: number; answer: Promise<DashboardData> }>();
  let page: { html: string; gzipped: Buffer; csp: string } | undefined;
  let prometheusDown: { until: number; reason: string } | undefined;

  const authorized = (request: DashboardRequest): boolean => {
    if (options.token === undefined) return true;
    const cookie = cookieValue(request.cookie, COOKIE);
    return checkBearer(request.authorization) || (cookie !== undefined && checkBearer(`Bearer ${cookie}`));
  };

  async function compute(range: number, source: DataSource): Promise<DashboardData> {
    let base: DashboardData | undefined;
    let notice: string | undefined;
    if (source === 'prometheus' && prometheusDown !== undefined && Date.now() < prometheusDown.until) {
      notice = prometheusDown.reason;
    } else if (source === 'prometheus') {
      try {
        base = await prometheusData(options, range);
        prometheusDown = undefined;
      } catch (error) {
        if (!(error instanceof PrometheusError)) throw error;
        notice = `${error.message}: showing in-process samples instead (next try in ${PROMETHEUS_BACKOFF_MS / 1000} s).`;
        prometheusDown = { until: Date.now() + PROMETHEUS_BACKOFF_MS, reason: notice };
      }
    }
    if (base === undefined) {
      sampler.start();
      const now = Date.now();
      // Right after a lazy start, one more sample a second later gives the first rates.
      if (sampler.size < 2 && now - (sampler.newest ?? now) >= 1000) sampler.sample(now);
      base = memoryData(sampler, range, now);
    }
    const kpi = minutes === undefined ? { charts: [] } : await minutes.charts(range);
    const charts = [...base.charts, ...kpi.charts].sort((a, b) => order(a.id) - order(b.id));
    const lastFlush = base.stats.find((stat) => stat.id === 'lastFlush')?.value ?? null;
    const notices = [notice, base.notice, 'notice' in kpi ? kpi.notice : undefined].filter((text) => text !== undefined);
    return {
      ...base,
      ...(notices.length > 0 && { notice: notices.join(' ') }),
      stats: statsFromCharts(charts, { lastFlush }),
      charts,
    };
  }

  function data(query: { readonly range?: number; readonly source?: DataSource } = {}): Promise<DashboardData> {
    const range = RANGES.some(([seconds]) => seconds === query.range) ? query.range! : DEFAULT_RANGE;
    const source = query.source !== undefined && sources.includes(query.source) ? query.source : sources[0]!;
    const key = `${source}:${range}`;
    const now = Date.now();
    for (const [cached, entry] of cache) if (now - entry.at > CACHE_MS) cache.delete(cached);
    const hit = cache.get(key);
    if (hit !== undefined) return hit.answer;
    const answer = compute(range, source);
    cache.set(key, { at: now, answer });
    answer.catch(() => cache.delete(key));
    return answer;
  }

  function pageAnswer(request: DashboardRequest): DashboardAnswer {
    page ??= (() => {
      const built = buildPage({
        title: options.title,
        dataPath: options.dataPath,
        sources,
        refreshSeconds: Math.max(1, Math.min(options.sampleSeconds, 15)),
        // In-process history starts with the page: 5 minutes fill soon. Prometheus has the past.
        defaultRange: sources[0] === 'memory' ? 300 : 3600,
        runbooksPath: options.runbooksPath,
      });
      return { ...built, gzipped: gzipSync(built.html, { level: 9 }) };
    })();
    const zipped = /\bgzip\b/.test(request.acceptEncoding ?? '');
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': page.csp,
      vary: 'Accept-Encoding',
    };
    if (zipped) headers['content-encoding'] = 'gzip';
    return { status: 200, headers, body: request.method === 'HEAD' ? '' : zipped ? page.gzipped : page.html };
  }

  async function respond(request: DashboardRequest): Promise<DashboardAnswer> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const isPage = url.pathname === options.path;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return { status: 405, headers: { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'method not allowed\n' };
    }
    const given = url.searchParams.get('token');
    if (isPage && given !== null && options.token !== undefined && checkBearer(`Bearer ${given}`)) {
      // The token leaves the URL at once: an HttpOnly cookie scoped to the dashboard carries it.
      const cookie = `${COOKIE}=${encodeURIComponent(given)}; Path=${options.path}; HttpOnly; SameSite=Strict${request.secure === true ? '; Secure' : ''}`;
      return { status: 303, headers: { ...SECURITY_HEADERS, location: options.path, 'set-cookie': cookie }, body: '' };
    }
    if (!authorized(request)) {
      return isPage
        ? { status: 401, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Bearer realm="lookout"', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'" }, body: loginPage(options.path, options.title) }
        : { status: 401, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json', 'www-authenticate': 'Bearer realm="lookout"' }, body: '{"error":"unauthorized"}' };
    }
    if (isPage) {
      // Opening the page starts the history, so its first poll finds samples.
      if (sources[0] === 'memory') sampler.start();
      return pageAnswer(request);
    }
    if (options.runbooksPath !== undefined && (url.pathname === options.runbooksPath || url.pathname.startsWith(`${options.runbooksPath}/`))) {
      return runbookAnswer(options, url.pathname, request.method === 'HEAD');
    }
    const answer = await data({ range: Number(url.searchParams.get('range')), source: url.searchParams.get('source') as DataSource });
    const json = JSON.stringify(answer);
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', vary: 'Accept-Encoding' };
    if (json.length > 1024 && /\bgzip\b/.test(request.acceptEncoding ?? '')) {
      headers['content-encoding'] = 'gzip';
      return { status: 200, headers, body: request.method === 'HEAD' ? '' : await gzip(json) };
    }
    return { status: 200, headers, body: request.method === 'HEAD' ? '' : json };
  }

  const runbookPaths = options.runbooksPath === undefined ? [] : [options.runbooksPath, ...[...options.runbooks.keys()].map((name) => `${options.runbooksPath}/${name}`)];
  const paths = [options.path, options.dataPath, ...runbookPaths];
  return {
    options,
    paths,
    owns: (url) => {
      const path = url === undefined ? '' : url.split('?', 1)[0]!;
      return paths.includes(path);
    },
    respond,
    data,
    async handle(req, res) {
      let answer: DashboardAnswer;
      try {
        answer = await respond({
          method: req.method,
          url: req.url,
          authorization: req.headers.authorization,
          cookie: req.headers.cookie,
          acceptEncoding: [req.headers['accept-encoding']].flat().join(','),
          secure: (req.socket as { encrypted?: boolean }).encrypted === true,
        });
      } catch {
        answer = { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'dashboard data failed\n' };
      }
      if (res.headersSent || res.destroyed) return;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    },
    close: () => sampler.stop(),
  };
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

// The runbook index (HTML links) and each runbook as its Markdown source (plain text: nothing in it runs).
function runbookAnswer(options: ResolvedDashboardOptions, pathname: string, head: boolean): DashboardAnswer {
  const base = options.runbooksPath!;
  if (pathname === base) {
    const items = [...options.runbooks.keys()].sort().map((name) => `<li><a href="${escapeHtml(`${base}/${name}`)}">${escapeHtml(name)}</a></li>`);
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Runbooks · ${escapeHtml(options.title)}</title></head><body><h1>Runbooks</h1><p><a href="${escapeHtml(options.path)}">Back to the dashboard</a></p><ul>${items.join('')}</ul></body></html>\n`;
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'; frame-ancestors 'none'" }, body: head ? '' : html };
  }
  const text = options.runbooks.get(pathname.slice(base.length + 1));
  if (text === undefined) return { status: 404, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: 'no such runbook\n' };
  return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' }, body: head ? '' : text };
}

function order(id: string): number {
  const index = PANELS.findIndex((panel) => panel.id === id);
  return index < 0 ? PANELS.length : index;
}
