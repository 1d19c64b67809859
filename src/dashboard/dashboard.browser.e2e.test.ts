import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { sumOf, waitFor } from '../../test/support/http.js';
import { startTrafficApp } from './test-app.test-support.js';

/** The little of the DOM the in-page callbacks use (the project compiles without the DOM library). */
interface PageNode {
  readonly hidden: boolean;
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  querySelector(selector: string): PageNode | null;
}
declare const document: { querySelectorAll(selector: string): Iterable<PageNode>; getElementById(id: string): PageNode | null; readonly documentElement: PageNode };

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-test-token';
/** LOOKOUT_UPDATE_SCREENSHOT=1 lets the traffic run a few minutes (the per-minute panels fill) and writes docs/dashboard.png. */
const UPDATE_SCREENSHOT = process.env['LOOKOUT_UPDATE_SCREENSHOT'] === '1';
const WARMUP_MS = UPDATE_SCREENSHOT ? 240_000 : 0;
const available = await probe(`chromium at ${CHROMIUM} (apt-get install -y chromium)`, () => existsSync(CHROMIUM) && hasCommand(CHROMIUM, ['--version']));

/** Charts the page must draw for an API with KPI events and runtime metrics. */
const REQUIRED_CHARTS = ['requests', 'status', 'errors', 'inflight', 'latency', 'latencyRoutes', 'accuracy', 'eventsByType', 'kpiEvents', 'cpu', 'memory', 'eventloop', 'kpiQueue', 'kpiFlow'];
/** And with a model monitor registered (lookout/ml, as the reference inference API has). */
const MODEL_CHARTS = ['drift', 'predictionMix', 'accuracyByVersion'];
/** Charts with a point only where something happened in the interval: the per-minute SQL panels, the labelled feedback. */
const SPARSE_CHARTS = ['accuracy', 'eventsByType', 'accuracyByVersion'];

describe.skipIf(!available)('the built-in dashboard in a real browser (Debian chromium)', () => {
  it('shows live data during traffic, every chart has points, the route totals match /metrics', async () => {
    // The screenshot shows the default sampling; the test wants points soon.
    const app = await startTrafficApp({ sampleSeconds: UPDATE_SCREENSHOT ? 5 : 1 }, TOKEN);
    const profile = await mkdtemp(join(tmpdir(), 'lookout-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
      viewport: { width: 1440, height: 900 },
      colorScheme: 'dark',
    });
    const problems: string[] = [];
    try {
      console.log(`dashboard browser test: ${app.description}`);
      const run = app.traffic(40_000 + WARMUP_MS);
      const page = context.pages()[0] ?? (await context.newPage());

      // Without the token: the login page. With it once: a cookie, then the clean URL.
      const denied = await page.goto(`${app.url}/lookout`);
      expect(denied?.status()).toBe(401);
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      await page.goto(`${app.url}/lookout?token=${TOKEN}#range=300`);
      expect(new URL(page.url()).search).toBe('');

      const started = Date.now();
      const state = (): Promise<string> => page.evaluate(() => [...document.querySelectorAll('[data-chart]')]
        .map((card) => `${card.dataset['chart']}=${card.hidden ? 'hidden' : card.dataset['points']}`).join(' ') + ` notice=${document.getElementById('notice')!.textContent}`);
      const monitored = app.registry.get('model_feature_drift') !== undefined;
      console.log(`model monitor registered: ${String(monitored)}${monitored ? ` (charts ${MODEL_CHARTS.join(', ')} required)` : ''}`);
      const required = monitored ? [...REQUIRED_CHARTS, ...MODEL_CHARTS] : REQUIRED_CHARTS;
      await page.waitForFunction(([required, sparse]) => {
        const cards = [...document.querySelectorAll('[data-chart]')].filter((card) => !card.hidden);
        const ids = cards.map((card) => card.dataset['chart']);
        // The SQL panels have one point per minute, the feedback one where some came; the others one per sample.
        const enough = (card: PageNode): boolean => Number(card.dataset['points']) >= (sparse.includes(card.dataset['chart']!) ? 1 : 5);
        return required.every((id) => ids.includes(id)) && cards.every(enough);
      }, [required, SPARSE_CHARTS] as const, { timeout: 30_000, polling: 250 }).catch(async (error: unknown) => {
        throw new Error(`${String(error)}\npage: ${await state()}\nproblems: ${problems.join('; ')}`);
      });
      console.log(`every chart drawn (5 points or more, 1 for the per-minute SQL panels and the feedback by version) ${((Date.now() - started) / 1000).toFixed(1)} s after the page opened`);

      const charts = await page.$$eval('[data-chart]:not([hidden])', (cards) => cards.map((card) => `${(card as PageNode).dataset['chart']}=${(card as PageNode).dataset['points']}`));
      console.log(`charts (id=points): ${charts.join(' ')}`);
      const canvases = await page.$$eval('[data-chart]:not([hidden]) canvas', (nodes) => nodes.length);
      expect(canvases).toBe(charts.length);

      if (WARMUP_MS > 0) await page.waitForTimeout(WARMUP_MS);
      const screenshot = join(tmpdir(), 'lookout-dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      if (UPDATE_SCREENSHOT) await copyFile(screenshot, 'docs/dashboard.png');
      console.log(`screenshot saved: ${UPDATE_SCREENSHOT ? 'docs/dashboard.png' : screenshot} (LOOKOUT_UPDATE_SCREENSHOT=1 writes docs/dashboard.png)`);

      // Quiet the traffic, let the last requests finish, then compare the page with /metrics.
      run.stop();
      await run.done;
      const scrape = async (): Promise<string> => (await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      await waitFor(async () => sumOf(await scrape(), 'http_requests_in_flight') === 0, 10_000);
      const metrics = await scrape();
      const expected = sumOf(metrics, 'http_requests_total', `route="${app.busyRoute}"`);
      const before = Number(await page.evaluate(() => document.documentElement.dataset['updated']));
      await page.waitForFunction((after) => Number(document.documentElement.dataset['updated']) > after + 1000, before, { timeout: 10_000 });
      const shown = await page.$eval(`tr[data-route="${app.busyRoute}"]`, (row) => ({ total: Number((row as PageNode).dataset['total']), text: row.querySelector('.total')!.textContent }));
      console.log(`route ${app.busyRoute}: page total ${shown.text}, /metrics http_requests_total sum ${expected}`);
      expect(expected).toBeGreaterThan(20);
      expect(shown.total).toBe(expected);
      expect(shown.text).toBe(expected.toLocaleString('en-US'));
      const allRoutes = await page.$$eval('tr[data-route]', (rows) => rows.reduce((sum, row) => sum + Number((row as PageNode).dataset['total']), 0));
      expect(allRoutes).toBe(sumOf(metrics, 'http_requests_total'));
      // The dashboard's own requests are never counted.
      expect(metrics).not.toContain('route="/lookout');

      const tiles = await page.$$eval('[data-stat]', (nodes) => nodes.map((node) => `${(node as PageNode).dataset['stat']}=${node.querySelector('.v')!.textContent}`));
      console.log(`tiles: ${tiles.join(' | ')}`);
      expect(tiles.length).toBeGreaterThanOrEqual(8);

      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await app.close();
      await rm(profile, { recursive: true, force: true });
    }
  }, 90_000 + WARMUP_MS);
});
