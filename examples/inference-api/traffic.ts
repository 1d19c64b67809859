/**
 * A bounded load generator for the reference inference API, loopback only. It mixes normal user
 * sessions, slow batch inferences, failing calls, 404 scanners, page views, periodic bursts and
 * retrains, and user feedback whose accuracy drifts: the inputs rotate slowly
 * (`driftPerMinute` radians a minute), so the served model gets worse until a retrain on the
 * labelled feedback brings it back, and the accuracy-per-minute panel moves.
 *
 * @example
 * ```ts
 * const report = await runTraffic({ url: 'http://127.0.0.1:8000', durationMs: 30_000, rate: 20 });
 * console.log(report.requests, report.byStatus);
 * ```
 */
import { setMaxListeners } from 'node:events';
import { seededRandom } from './data.js';
import { browse, burst, failingCalls, normalSession, retrain, scanner, slowInference, type TrafficClient, type World } from './scenarios.js';

/**
 * Options of `runTraffic`.
 *
 * @example
 * ```ts
 * const options: TrafficOptions = { url: api.url, durationMs: 60_000, rate: 20, driftPerMinute: 0.4 };
 * ```
 */
export interface TrafficOptions {
  /** Base URL of the API; only 127.0.0.0/8, localhost and [::1] are accepted. */
  readonly url: string;
  /** How long to run (default 60 s, at most 24 h). */
  readonly durationMs?: number;
  /** Requests per second at most, bursts aside (default 20). */
  readonly rate?: number;
  /** Visits in progress at most (default 16). */
  readonly concurrency?: number;
  /** Rotation of the input distribution per minute, in radians (default 0.4; 0 = no drift). */
  readonly driftPerMinute?: number;
  /** POST /train/start this often (default 90 s; 0 = never). */
  readonly retrainEveryMs?: number;
  /** A burst of cheap inferences this often (default 60 s; 0 = never). */
  readonly burstEveryMs?: number;
  /** Inferences per burst (default 40, at most 500). */
  readonly burstSize?: number;
  readonly seed?: number;
  /** Stops the run early. */
  readonly signal?: AbortSignal;
  /** Called every `progressEveryMs` (default 10 s) with the counts so far. */
  readonly onProgress?: (report: Readonly<TrafficReport>) => void;
  readonly progressEveryMs?: number;
}

/**
 * What a run did.
 *
 * @example
 * ```ts
 * const { requests, byStatus, good, bad } = await runTraffic({ url, durationMs: 5000 });
 * ```
 */
export interface TrafficReport {
  requests: number;
  /** Answers by status code; `0` counts network errors. */
  byStatus: Record<string, number>;
  visits: Record<string, number>;
  good: number;
  bad: number;
  retrains: number;
  bursts: number;
  durationMs: number;
}

// Visit kinds and their share of the visits.
const MIX: readonly (readonly [string, number, (client: TrafficClient, world: World) => Promise<void>])[] = [
  ['normal', 0.76, normalSession],
  ['slow', 0.04, slowInference],
  ['failing', 0.04, failingCalls],
  ['scanner', 0.08, scanner],
  ['browse', 0.08, browse],
];
const CLIENTS = ['web', 'ios', 'android', 'cli', 'partner-a', 'partner-b', 'notebook'];
const MAX_DURATION_MS = 24 * 3_600_000;

/**
 * Throws unless `url` points at this machine (127.0.0.0/8, localhost or [::1]).
 *
 * @example
 * ```ts
 * assertLoopback('http://127.0.0.1:8000'); // ok
 * assertLoopback('http://example.com');     // throws
 * ```
 */
export function assertLoopback(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`traffic: ${JSON.stringify(url)} is not a URL`);
  }
  const host = parsed.hostname;
  if (parsed.protocol !== 'http:' || !(/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === 'localhost' || host === '[::1]')) {
    throw new Error(`traffic only goes to this machine over http (127.0.0.1, localhost, [::1]), not ${url}`);
  }
  return parsed;
}

/**
 * Runs the traffic mix until `durationMs` passed or `signal` aborted, then waits for the visits in
 * progress (their remaining requests are skipped) and reports.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const done = runTraffic({ url: api.url, durationMs: 3_600_000, signal: controller.signal });
 * controller.abort();
 * await done;
 * ```
 */
export async function runTraffic(options: TrafficOptions): Promise<TrafficReport> {
  const base = assertLoopback(options.url).origin;
  const durationMs = bounded('durationMs', options.durationMs ?? 60_000, 1, MAX_DURATION_MS);
  const rate = bounded('rate', options.rate ?? 20, 0.1, 10_000);
  const concurrency = bounded('concurrency', options.concurrency ?? 16, 1, 1000);
  const burstSize = bounded('burstSize', options.burstSize ?? 40, 1, 500);
  const retrainEveryMs = options.retrainEveryMs ?? 90_000;
  const burstEveryMs = options.burstEveryMs ?? 60_000;
  const driftPerMinute = options.driftPerMinute ?? 0.4;
  const random = seededRandom(options.seed ?? 7);
  const started = Date.now();
  const deadline = started + durationMs;
  const report: TrafficReport = { requests: 0, byStatus: {}, visits: {}, good: 0, bad: 0, retrains: 0, bursts: 0, durationMs: 0 };

  const stop = new AbortController();
  // Every visit that is waiting listens for the stop; their number is bounded by `concurrency` + a burst.
  setMaxListeners(0, stop.signal);
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted === true) stop.abort();
  const timer = setTimeout(onAbort, durationMs);
  const interval = 1000 / rate;
  let nextSlot = Date.now();
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    if (stop.signal.aborted || ms <= 0) return resolve();
    const wait = setTimeout(done, ms);
    stop.signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(wait);
      stop.signal.removeEventListener('abort', done);
      resolve();
    }
  });

  const clientFor = (name: string, user: string): TrafficClient => ({
    get stopped() {
      return stop.signal.aborted;
    },
    sleep,
    labelled: (good) => void (good ? report.good++ : report.bad++),
    async call(method, path, body, callOptions = {}) {
      if (callOptions.burst !== true) {
        // Scheduled slots: at most `rate` requests a second over the whole run.
        const slot = Math.max(Date.now(), nextSlot);
        nextSlot = slot + interval;
        await sleep(slot - Date.now());
      }
      if (stop.signal.aborted) return { status: 0, body: undefined };
      report.requests++;
      let status = 0;
      let answer: Record<string, unknown> | undefined;
      try {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { 'x-client': name, 'x-user': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...callOptions.headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(15_000),
        });
        status = response.status;
        const text = await response.text();
        answer = response.headers.get('content-type')?.includes('json') === true && text !== '' ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        status = 0;
      }
      report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
      return { status, body: answer };
    },
  });
  const world = (): World => ({ rotation: (driftPerMinute * (Date.now() - started)) / 60_000, random });
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

  const warmUp = [...MIX];
  const running = new Set<Promise<void>>();
  const launch = (kind: string, visit: () => Promise<unknown>) => {
    report.visits[kind] = (report.visits[kind] ?? 0) + 1;
    const promise: Promise<void> = visit().then(
      () => undefined,
      () => undefined,
    ).finally(() => running.delete(promise));
    running.add(promise);
  };
  const periodic = (everyMs: number, run: () => void): NodeJS.Timeout | undefined => (everyMs > 0 ? setInterval(run, everyMs) : undefined);
  const retrainTimer = periodic(retrainEveryMs, () => launch('retrain', async () => (await retrain(clientFor('ops', 'ops'))) && report.retrains++));
  const burstTimer = periodic(burstEveryMs, () => {
    report.bursts++;
    launch('burst', () => burst(clientFor('batch', 'batch-job'), world(), burstSize));
  });
  const progressTimer = periodic(options.onProgress === undefined ? 0 : options.progressEveryMs ?? 10_000, () => options.onProgress?.({ ...report, durationMs: Date.now() - started }));

  while (!stop.signal.aborted && Date.now() < deadline) {
    if (running.size >= concurrency) {
      await Promise.race([...running, sleep(interval)]);
      continue;
    }
    let roll = random();
    // One visit of each kind first, so every panel has data from the first seconds on.
    const [kind, , visit] = warmUp.shift() ?? MIX.find(([, share]) => (roll -= share) < 0) ?? MIX[0]!;
    launch(kind, () => visit(clientFor(pick(CLIENTS), `user-${1 + Math.floor(random() * 25)}`), world()));
    // Start visits about as fast as their requests can go out.
    await sleep(interval * 2);
  }
  stop.abort();
  clearTimeout(timer);
  clearInterval(retrainTimer);
  clearInterval(burstTimer);
  clearInterval(progressTimer);
  options.signal?.removeEventListener('abort', onAbort);
  await Promise.all(running);
  report.durationMs = Date.now() - started;
  return report;
}

function bounded(name: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) throw new RangeError(`traffic: ${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/**
 * One line about a run: requests by status, labelled predictions and their accuracy, retrains.
 *
 * @example
 * ```ts
 * describeTraffic(report); // '1200 requests in 60s (200×700 202×300 ...); 180 labelled, accuracy 91.1%; 0 retrains'
 * ```
 */
export function describeTraffic(report: Readonly<TrafficReport>): string {
  const statuses = Object.entries(report.byStatus).map(([status, count]) => `${status === '0' ? 'failed' : status}×${count}`).join(' ');
  const labelled = report.good + report.bad;
  const accuracy = labelled === 0 ? 'n/a' : `${((100 * report.good) / labelled).toFixed(1)}%`;
  return `${report.requests} requests in ${(report.durationMs / 1000).toFixed(0)}s (${statuses}); ${labelled} labelled, accuracy ${accuracy}; ${report.retrains} retrains`;
}
