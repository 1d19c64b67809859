/**
 * `npm run traffic`: drives a running inference API (the demo, or
 * `node --import tsx examples/inference-api/server.ts`) with a realistic, bounded mix of calls.
 * Loopback only; stops by itself after --duration.
 *
 * @example
 * ```sh
 * npm run traffic -- --url http://127.0.0.1:8000 --duration 2m --rate 30
 * ```
 */
import { durationFlag, parseFlags, usageError } from '../src/cli/command.js';
import { LookoutError } from '../src/core/errors.js';
import { parseFault } from './inference-api/faults.js';
import { assertLoopback, describeTraffic, runTraffic } from './inference-api/traffic.js';

/** Injects (POST) or clears (DELETE) a fault through the API's /faults. */
async function setFault(url: string, method: 'POST' | 'DELETE', fault?: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(new URL('/faults', url), { method, ...(fault !== undefined && { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ fault }) }), signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`cannot reach ${url}/faults: ${(error as Error).message}`);
  }
  if (response.status === 404) throw new Error(`${url} has no fault injection: start it with npm run demo -- --fault <spec>, or LOOKOUT_FAULTS=1`);
  if (!response.ok) throw new Error(`${url}/faults answered ${response.status}: ${await response.text()}`);
}

const usage = `Usage: npm run traffic -- [options]

Sends a realistic mix of calls to the reference inference API on this machine: user sessions
with feedback whose accuracy drifts, slow batch inferences, failing calls, 404 scanners, page
views, a burst every minute and a retrain every 90 s. Stops by itself.

Options:
  --url <url>             the API (default http://127.0.0.1:8000; 127.0.0.1, localhost or [::1] only)
  --duration <d>          how long, e.g. 30s, 5m, 1h (default 60s, at most 24h)
  --rate <n>              requests per second at most, bursts aside (default 20)
  --drift <radians>       rotation of the inputs per minute (default 0.4; 0 = no drift)
  --retrain-every <d>     POST /train/start this often (default 90s; 0s = never)
  --burst-every <d>       a burst of 40 inferences this often (default 60s; 0s = never)
  --fault <spec>          inject this fault for the run and clear it at the end, e.g.
                          latency:/inference/start:1500ms, errors:/inference/start:50%, hang:*:3s,
                          kpi-store-down, memory-leak:20mb, event-loop-block:800ms, cardinality (the API must
                          run with fault injection: npm run demo -- --fault <spec>, or LOOKOUT_FAULTS=1)
  -h, --help              show this help`;

try {
  const { values } = parseFlags(process.argv.slice(2), {
    url: { type: 'string' },
    duration: { type: 'string' },
    rate: { type: 'string' },
    drift: { type: 'string' },
    'retrain-every': { type: 'string' },
    'burst-every': { type: 'string' },
    fault: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }, usage);
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  const number = (flag: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text === '' || !Number.isFinite(value) || value < 0) throw usageError(`${flag} must be a number >= 0, got ${JSON.stringify(text)}`, usage);
    return value;
  };
  const url = values.url ?? 'http://127.0.0.1:8000';
  try {
    assertLoopback(url);
  } catch (error) {
    throw usageError((error as Error).message, usage);
  }
  const durationMs = durationFlag(values.duration ?? '60s', '--duration', usage);
  console.log(`traffic: ${url} for ${durationMs / 1000}s`);
  const controller = new AbortController();
  // `on`: a repeated signal (tsx relays the terminal's Ctrl-C) must not cut the summary short.
  process.on('SIGINT', () => controller.abort());
  process.on('SIGTERM', () => controller.abort());
  const fault = values.fault;
  if (fault !== undefined) {
    try {
      parseFault(fault);
    } catch (error) {
      throw usageError(`--fault: ${(error as Error).message.replace('LOOKOUT_E_FAULT: ', '')}`, usage);
    }
    await setFault(url, 'POST', fault);
    console.log(`traffic: fault ${fault} injected; cleared when the run ends`);
  }
  const report = await runTraffic({
    url,
    durationMs,
    rate: number('--rate', values.rate, 20),
    driftPerMinute: number('--drift', values.drift, 0.4),
    retrainEveryMs: durationFlag(values['retrain-every'] ?? '90s', '--retrain-every', usage),
    burstEveryMs: durationFlag(values['burst-every'] ?? '60s', '--burst-every', usage),
    signal: controller.signal,
    onProgress: (so) => console.log(`traffic: ${describeTraffic(so)}`),
  });
  if (fault !== undefined) await setFault(url, 'DELETE');
  console.log(`traffic done: ${describeTraffic(report)}`);
  if (report.requests > 0 && report.byStatus['0'] === report.requests) {
    console.error(`traffic: no answer from ${url}; start the API first (npm run demo, or node --import tsx examples/inference-api/server.ts)`);
    process.exitCode = 1;
  }
} catch (error) {
  const usageProblem = error instanceof LookoutError && error.code === 'LOOKOUT_E_CLI_USAGE';
  console.error(`traffic: ${(error as Error).message.replace('LOOKOUT_E_CLI_USAGE: ', '')}`);
  process.exitCode = usageProblem || error instanceof RangeError ? 2 : 1;
}
