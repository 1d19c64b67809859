/**
 * Bounded traffic against the reference inference API: the full inference flow, labelled
 * predictions (good and bad) for the KPI events, server errors, unmatched paths, and more
 * x-client values than the per-client counter keeps (series overflow). Only 127.0.0.1.
 *
 * @example
 * ```ts
 * const counts = await driveTraffic(api.url, { durationMs: 8000 });
 * ```
 */
export interface TrafficCounts {
  requests: number;
  errors: number;
  labelled: number;
}

const CLIENTS = ['web', 'ios', 'android', 'cli', 'batch', 'partner'];

/**
 * Runs the inference flow from a few workers until `durationMs` has passed; 127.0.0.1 only.
 *
 * @example
 * ```ts
 * const counts = await driveTraffic('http://127.0.0.1:3000', { durationMs: 1000 });
 * ```
 */
export async function driveTraffic(baseUrl: string, options: { readonly durationMs: number; readonly workers?: number }): Promise<TrafficCounts> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(baseUrl)) throw new Error(`traffic only goes to 127.0.0.1, not ${baseUrl}`);
  const counts: TrafficCounts = { requests: 0, errors: 0, labelled: 0 };
  const deadline = Date.now() + options.durationMs;
  const worker = async (index: number) => {
    for (let round = 0; Date.now() < deadline; round++) {
      const client = CLIENTS[(index + round) % CLIENTS.length]!;
      const call = async (method: string, path: string, body?: unknown) => {
        counts.requests++;
        const response = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { 'x-client': client, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        if (response.status >= 500) counts.errors++;
        return response.status === 204 ? undefined : ((await response.json()) as Record<string, unknown>);
      };
      const user = `user-${(index * 7 + round) % 5}`;
      const size = round % 3 === 0 ? 'large' : 'small';
      const { id } = (await call('POST', '/inference/start', { user, size }))!;
      await call('GET', `/inference/status/${String(id)}`);
      await sleep(60);
      await call('GET', `/inference/results/${String(id)}`);
      await call('PUT', '/inference/select', { id, user, size, good: (index + round) % 4 !== 0, model: round % 2 === 0 ? 'resnet-50' : 'vit-b16' });
      counts.labelled++;
      if (round % 5 === 0) await call('GET', '/inference/fail');
      if (round % 7 === 0) await call('GET', `/wp-login.php?probe=${round}`);
      await sleep(40);
    }
  };
  await Promise.all(Array.from({ length: options.workers ?? 4 }, (_, index) => worker(index)));
  return counts;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
