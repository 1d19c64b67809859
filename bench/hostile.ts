/**
 * The hostile-load suite (issue 7), figures for RELIABILITY.md:
 *  1. 1,000,000 requests to random URLs with random methods: series count and heap stay bounded;
 *  2. scraping 50,000 series every second while the API is under load: the API's p99.
 *
 *   npm run hostile                      (HOSTILE_REQUESTS=1000000 HOSTILE_ROUNDS=3 HOSTILE_SECONDS=8)
 *
 * Every request goes to 127.0.0.1; every loop is bounded in count and time.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { cpus } from 'node:os';
import { emit, median, spread, startServer, stopServer, writeSection } from './lib.js';

const REQUESTS = Number(process.env['HOSTILE_REQUESTS'] ?? 1_000_000);
const ROUNDS = Number(process.env['HOSTILE_ROUNDS'] ?? 3);
const SECONDS = Number(process.env['HOSTILE_SECONDS'] ?? 8);
const SCRAPE_SERIES = 50_000;
// Methods Node's parser accepts (it answers unknown ones with 400 before any app code runs).
const METHODS = ['GET', 'POST', 'PUT', 'PROPFIND', 'MKCOL', 'PURGE', 'SEARCH', 'UNLOCK', 'REPORT', 'DELETE', 'OPTIONS', 'PATCH'];

interface State {
  series: number;
  heapUsed: number;
  rss: number;
}

async function state(base: string): Promise<State> {
  return (await (await fetch(`${base}/debug/state`)).json()) as State;
}

async function junk(base: string, count: number, concurrency = 64): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (sent < count) {
      const index = sent++;
      const path = `/${randomBytes(8).toString('base64url')}/${index}?${randomBytes(4).toString('hex')}=1`;
      await new Promise<void>((resolve) => {
        const req = http.request(`${base}${path}`, { agent, method: METHODS[index % METHODS.length] }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => resolve());
        req.end();
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return count / ((performance.now() - started) / 1000);
}

/** Closed-loop load on /users/:id for `seconds`; returns per-request latencies in ms. */
async function load(base: string, seconds: number, concurrency = 16): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      const start = performance.now();
      await new Promise<void>((resolve, reject) => {
        http.get(`${base}/users/42`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return latencies;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function scrapeEverySecond(base: string, until: number): Promise<{ scrapes: number; bytes: number }> {
  let scrapes = 0;
  let bytes = 0;
  while (performance.now() < until) {
    const next = performance.now() + 1000;
    const response = await fetch(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    bytes += (await response.arrayBuffer()).byteLength;
    scrapes++;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
  }
  return { scrapes, bytes };
}

export async function runJunkSuite(): Promise<string[]> {
  const { child, port } = await startServer('bench/servers/hostile-app.ts', ['0'], ['--expose-gc']);
  const base = `http://127.0.0.1:${port}`;
  try {
    await junk(base, 5_000); // warm-up: every series junk can create now exists
    const before = await state(base);
    const rate = await junk(base, REQUESTS);
    const after = await state(base);
    const result = { bench: 'hostile-junk-urls', requests: REQUESTS, rate, seriesBefore: before.series, seriesAfter: after.series, heapGrowthMB: (after.heapUsed - before.heapUsed) / 1e6, rssBeforeMB: before.rss / 1e6, rssAfterMB: after.rss / 1e6 };
    emit(result);
    return [
      `| ${REQUESTS.toLocaleString('en')} requests, distinct random URLs, ${METHODS.length} methods (Fastify + lookout) | series ${before.series} → ${after.series} | heap ${(before.heapUsed / 1e6).toFixed(1)} → ${(after.heapUsed / 1e6).toFixed(1)} MB (${result.heapGrowthMB >= 0 ? '+' : ''}${result.heapGrowthMB.toFixed(2)} MB) | RSS ${result.rssBeforeMB.toFixed(0)} → ${result.rssAfterMB.toFixed(0)} MB | ${Math.round(rate)} req/s |`,
    ];
  } finally {
    await stopServer(child);
  }
}

export async function runScrapeUnderLoad(): Promise<string[]> {
  const { child, port } = await startServer('bench/servers/hostile-app.ts', [String(SCRAPE_SERIES)]);
  const base = `http://127.0.0.1:${port}`;
  const p99: Record<'quiet' | 'scraped', number[]> = { quiet: [], scraped: [] };
  let scrapeInfo = { scrapes: 0, bytes: 0 };
  try {
    await load(base, 1); // warm-up
    await fetch(`${base}/metrics`).then((response) => response.arrayBuffer());
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['quiet', 'scraped'] as const) : (['scraped', 'quiet'] as const)) {
        const until = performance.now() + SECONDS * 1000;
        const scraper = mode === 'scraped' ? scrapeEverySecond(base, until) : Promise.resolve({ scrapes: 0, bytes: 0 });
        const latencies = await load(base, SECONDS);
        const info = await scraper;
        if (mode === 'scraped') scrapeInfo = info;
        p99[mode].push(percentile(latencies, 0.99));
      }
    }
  } finally {
    await stopServer(child);
  }
  const quiet = median(p99.quiet);
  const scraped = median(p99.scraped);
  emit({ bench: 'hostile-scrape-under-load', series: SCRAPE_SERIES, p99QuietMs: quiet, p99ScrapedMs: scraped, ratio: scraped / quiet, rounds: ROUNDS, seconds: SECONDS, scrapesPerRound: scrapeInfo.scrapes, gzipBytesPerScrape: scrapeInfo.bytes / Math.max(1, scrapeInfo.scrapes) });
  return [
    `| API p99 under load (16 connections, /users/:id), no scrapes vs a ${SCRAPE_SERIES.toLocaleString('en')}-series scrape every second | ${quiet.toFixed(2)} ms (${spread(p99.quiet, 2)}) | ${scraped.toFixed(2)} ms (${spread(p99.scraped, 2)}) | **${(scraped / quiet).toFixed(2)}×** | ${ROUNDS} interleaved rounds of ${SECONDS} s; ${(scrapeInfo.bytes / Math.max(1, scrapeInfo.scrapes) / 1e3).toFixed(0)} kB gzip per scrape |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const junkTable = ['| attack | series | heap (after full GC) | RSS | rate |', '|---|---|---|---|---|', ...(await runJunkSuite())].join('\n');
  console.log(junkTable);
  const scrapeTable = ['| what | without scrapes | with scrapes | ratio | notes |', '|---|---|---|---|---|', ...(await runScrapeUnderLoad())].join('\n');
  console.log(scrapeTable);
  await writeSection('hostile', [
    '## Hostile load',
    '',
    `Node ${process.version}, ${cpus().length} CPUs (shared), ${new Date().toISOString().slice(0, 10)}. Reproduce: \`npm run hostile\` (\`HOSTILE_REQUESTS\`, \`HOSTILE_ROUNDS\`, \`HOSTILE_SECONDS\`).`,
    '',
    junkTable,
    '',
    scrapeTable,
  ].join('\n'), 'RELIABILITY.md');
}
