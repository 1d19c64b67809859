/**
 * What the simulated clients of the inference API do, one function per kind of visit. Each
 * request goes through `client.call`, which waits for the rate limiter and counts the answer.
 *
 * @example
 * ```ts
 * await normalSession(client, { rotation: 0.2, random });
 * ```
 */
import { CLASS_LABELS, seededRandom, spiralPoint } from './data.js';

/**
 * The request side the scenarios use (implemented by the traffic runner).
 *
 * @example
 * ```ts
 * const { status, body } = await client.call('POST', '/inference/start', { points: [[0, 0]] });
 * ```
 */
export interface TrafficClient {
  /**
   * Sends one request, after the rate limiter lets it (unless `burst`); status 0 for a network
   * error or when the run stopped.
   */
  call(method: string, path: string, body?: unknown, options?: { readonly headers?: Record<string, string>; readonly burst?: boolean }): Promise<{ status: number; body: Record<string, unknown> | undefined }>;
  /** True once the run is over: scenarios stop between requests. */
  readonly stopped: boolean;
  /** Waits, or returns early when the run stops. */
  sleep(ms: number): Promise<void>;
  /** Counts a labelled prediction. */
  labelled(good: boolean): void;
}

/**
 * Where the simulated world is: the rotation of the input distribution (the drift) and the PRNG.
 *
 * @example
 * ```ts
 * const world: World = { rotation: 0.4, random: seededRandom(1) };
 * ```
 */
export interface World {
  readonly rotation: number;
  readonly random: () => number;
}

const SCANNER_PATHS = ['/wp-login.php', '/.env', '/admin', '/phpmyadmin/index.php', '/.git/config', '/api/v1/users', '/cgi-bin/luci'];

/**
 * Polls the status until the inference finished (or `maxPolls` ran out); returns the final status.
 *
 * @example
 * ```ts
 * const status = await waitUntilDone(client, id, 10, 50);
 * ```
 */
export async function waitUntilDone(client: TrafficClient, id: string, maxPolls: number, pollMs: number): Promise<string> {
  let status = 'queued';
  for (let poll = 0; poll < maxPolls && !client.stopped; poll++) {
    const answer = await client.call('GET', `/inference/status/${id}`);
    status = String(answer.body?.['status'] ?? 'unknown');
    if (status !== 'queued' && status !== 'running') return status;
    await client.sleep(pollMs);
  }
  return status;
}

/**
 * A user classifies one point, fetches the result and, mostly, says whether it was right (with the
 * true label, which is what a retrain learns from).
 *
 * @example
 * ```ts
 * await normalSession(client, world);
 * ```
 */
export async function normalSession(client: TrafficClient, world: World): Promise<void> {
  const point = spiralPoint(world.random, { rotation: world.rotation });
  const samples = world.random() < 0.7 ? 1 : 1 + Math.floor(world.random() * 16);
  const started = await client.call('POST', '/inference/start', { points: [[point.x, point.y]], samples });
  const id = started.body?.['id'];
  if (typeof id !== 'string') return;
  await client.sleep(10 + world.random() * 40);
  if ((await waitUntilDone(client, id, 20, 50)) !== 'done') return;
  // Some users never come back for their result: the active-inferences gauge shows them.
  if (world.random() < 0.02) return;
  const results = await client.call('GET', `/inference/results/${id}`);
  const predictions = results.body?.['predictions'] as { label: string }[] | undefined;
  if (predictions === undefined || world.random() < 0.1) return;
  const truth = CLASS_LABELS[point.label]!;
  const good = predictions[0]?.label === truth;
  await client.sleep(world.random() * 200);
  const answer = await client.call('PUT', '/inference/select', { id, good, labels: [truth] });
  if (answer.status === 204) client.labelled(good);
}

/**
 * A batch client: many points, many test-time samples each (hundreds of ms of model time).
 *
 * @example
 * ```ts
 * await slowInference(client, world);
 * ```
 */
export async function slowInference(client: TrafficClient, world: World): Promise<void> {
  const points = Array.from({ length: 32 + Math.floor(world.random() * 64) }, () => {
    const point = spiralPoint(world.random, { rotation: world.rotation });
    return [point.x, point.y];
  });
  const started = await client.call('POST', '/inference/start', { points, samples: 512 + Math.floor(world.random() * 1536) });
  const id = started.body?.['id'];
  if (typeof id !== 'string') return;
  if ((await waitUntilDone(client, id, 60, 200)) === 'done') await client.call('GET', `/inference/results/${id}`);
}

/**
 * A client that gets things wrong: an input outside the training domain (422 on the result, an
 * exception), a malformed body (400), and the result of an id that does not exist (404).
 *
 * @example
 * ```ts
 * await failingCalls(client, world);
 * ```
 */
export async function failingCalls(client: TrafficClient, world: World): Promise<void> {
  const started = await client.call('POST', '/inference/start', { points: [[5 + world.random() * 50, -3]] });
  const id = started.body?.['id'];
  if (typeof id === 'string' && (await waitUntilDone(client, id, 10, 30)) === 'failed') await client.call('GET', `/inference/results/${id}`);
  await client.call('POST', '/inference/start', { points: 'not-a-list', samples: -1 });
  await client.call('GET', `/inference/results/${Math.floor(world.random() * 1e9).toString(16)}`);
}

/**
 * A vulnerability scanner probing paths the API does not have (404, one `__unmatched__` series).
 *
 * @example
 * ```ts
 * await scanner(client, world);
 * ```
 */
export async function scanner(client: TrafficClient, world: World): Promise<void> {
  const base = SCANNER_PATHS[Math.floor(world.random() * SCANNER_PATHS.length)]!;
  await client.call('GET', `${base}?probe=${Math.floor(world.random() * 1e6)}`, undefined, { headers: { 'x-client': 'scanner' } });
}

/**
 * Someone reading the home page, the docs or the model description.
 *
 * @example
 * ```ts
 * await browse(client, world);
 * ```
 */
export async function browse(client: TrafficClient, world: World): Promise<void> {
  const pages = ['/', '/docs', '/model'];
  await client.call('GET', pages[Math.floor(world.random() * pages.length)]!);
}

/**
 * Retrains the model (from the labelled feedback once there is enough) and waits for it.
 *
 * @example
 * ```ts
 * await retrain(client);
 * ```
 */
export async function retrain(client: TrafficClient): Promise<boolean> {
  const started = await client.call('POST', '/train/start', {});
  const id = started.body?.['id'];
  if (typeof id !== 'string') return false;
  for (let poll = 0; poll < 60 && !client.stopped; poll++) {
    await client.sleep(250);
    const status = String((await client.call('GET', `/train/status/${id}`)).body?.['status'] ?? 'unknown');
    if (status !== 'queued' && status !== 'running') return status === 'done';
  }
  return false;
}

/**
 * Many cheap inferences at once, as a misbehaving batch job sends them: fills the queue, so some
 * are refused with 503 when the queue is small.
 *
 * @example
 * ```ts
 * await burst(client, world, 40);
 * ```
 */
export async function burst(client: TrafficClient, world: World, size: number): Promise<void> {
  const random = seededRandom(Math.floor(world.random() * 2 ** 31));
  const points = Array.from({ length: 16 }, () => {
    const point = spiralPoint(random, { rotation: world.rotation });
    return [point.x, point.y];
  });
  const ids = await Promise.all(
    Array.from({ length: size }, async () => (await client.call('POST', '/inference/start', { points, samples: 256 }, { headers: { 'x-client': 'batch' }, burst: true })).body?.['id']),
  );
  for (const id of ids) {
    if (typeof id !== 'string' || client.stopped) continue;
    if ((await waitUntilDone(client, id, 40, 100)) === 'done') await client.call('GET', `/inference/results/${id}`, undefined, { headers: { 'x-client': 'batch' } });
  }
}
