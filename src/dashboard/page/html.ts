import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveOptional } from '../../core/optional.js';
import { PANELS, STATS } from '../panels.js';
import { PAGE_SCRIPT } from './client.js';
import { PAGE_CSS } from './style.js';

/**
 * What the page needs to know, embedded as JSON.
 *
 * @example
 * ```ts
 * const config: PageConfig = { title: 'api', dataPath: '/lookout/data', sources: ['memory'], refreshSeconds: 5, defaultRange: 900 };
 * ```
 */
export interface PageConfig {
  readonly title: string;
  readonly dataPath: string;
  /** The first is the default. */
  readonly sources: readonly string[];
  readonly refreshSeconds: number;
  readonly defaultRange: number;
  /** Where the runbooks are listed; the header links to it. */
  readonly runbooksPath?: string | undefined;
}

/**
 * The time ranges the page offers: `[seconds, label]`.
 *
 * @example
 * ```ts
 * RANGES.map(([seconds]) => seconds); // [300, 900, 3600, 21600, 86400]
 * ```
 */
export const RANGES: readonly (readonly [number, string])[] = [[300, '5m'], [900, '15m'], [3600, '1h'], [21600, '6h'], [86400, '24h']];

/**
 * The page and the Content-Security-Policy that allows exactly its inline
 * script and styles (by hash) and nothing else but calls to its own origin.
 *
 * @example
 * ```ts
 * const { html, csp } = buildPage({ title: 'api', dataPath: '/lookout/data', sources: ['memory'], refreshSeconds: 5, defaultRange: 900 });
 * ```
 */
export interface Page {
  readonly html: string;
  readonly csp: string;
}

/**
 * uPlot's minified script and stylesheet from node_modules, its license
 * header (`/*! https://github.com/leeoniya/uPlot (v1.6.x) *\/`) kept as shipped.
 *
 * @example
 * ```ts
 * uplotAssets().script.startsWith('/*! https://github.com/leeoniya/uPlot'); // true
 * ```
 */
export function uplotAssets(): { script: string; style: string } {
  return {
    script: readFileSync(resolveOptional('dashboard', 'uplot', 'uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(resolveOptional('dashboard', 'uplot', 'uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** Leading indentation and whole-line `//` comments go: safe for our script (no multi-line strings) and a fifth smaller. */
function compact(source: string): string {
  return source
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('// '))
    .join('\n');
}

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * Builds the page once: uPlot and our script and styles inlined, so it is
 * one request (plus the polled JSON).
 *
 * @example
 * ```ts
 * const page = buildPage(config);
 * response.setHeader('content-security-policy', page.csp);
 * response.end(page.html);
 * ```
 */
export function buildPage(config: PageConfig): Page {
  const uplot = uplotAssets();
  const embedded = JSON.stringify({
    ...config,
    ranges: RANGES,
    panels: PANELS,
    stats: STATS.map(({ id, label, unit }) => ({ id, label, unit })),
  }).replace(/</g, '\\u003c');
  const style = uplot.style + compact(PAGE_CSS);
  const script = compact(PAGE_SCRIPT);
  const title = escapeHtml(config.title);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · lookout</title><meta name="referrer" content="no-referrer">
<style>${style}</style></head>
<body><header><div class="brand"><b>lookout</b><span>${title}</span></div><div class="spacer"></div>
${config.runbooksPath === undefined ? '' : `<a class="runbooks" href="${escapeHtml(config.runbooksPath)}">Runbooks</a>`}<div class="seg" id="sources"></div><div class="seg" id="ranges"></div><button type="button" class="live" id="live" aria-pressed="true">Live</button><div id="updated"></div></header>
<div id="notice" hidden></div>
<main><div class="tiles" id="tiles"></div></main>
<script id="lookout-config" type="application/json">${embedded}</script>
<script>${uplot.script}</script>
<script>${script}</script>
</body></html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${hash(uplot.script)} ${hash(script)}`,
    `style-src ${hash(style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/**
 * The page shown without a valid token: a form that sends it once (the
 * answer sets an HttpOnly cookie and redirects to the clean URL).
 *
 * @example
 * ```ts
 * response.end(loginPage('/lookout', 'api'));
 * ```
 */
export function loginPage(path: string, title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)} · lookout</title>
<style>body{font:14px system-ui,sans-serif;background:#0d1117;color:#e1e7ef;display:grid;place-items:center;height:100vh;margin:0}form{background:#151b23;border:1px solid #262f3b;border-radius:10px;padding:24px;display:grid;gap:10px;min-width:300px}input,button{font:inherit;padding:8px;border-radius:6px;border:1px solid #262f3b;width:100%;box-sizing:border-box}button{background:#58a6ff;color:#fff;border:0;cursor:pointer}</style></head>
<body><form method="get" action="${escapeHtml(path)}"><b>lookout · ${escapeHtml(title)}</b><label>Metrics token<br><input name="token" type="password" autocomplete="current-password" required autofocus></label><button>Open the dashboard</button></form></body></html>
`;
}
