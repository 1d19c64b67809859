/**
 * Fault injection for the reference API: the failures the generated alerts are meant to catch,
 * switched on and off while it runs, so a test (or `npm run demo`/`npm run traffic`) can prove
 * that each one pages. Off by default; enabled by `startInferenceApi({ faults: true })` or
 * `LOOKOUT_FAULTS=1`, and refused unless the API listens on a loopback address.
 *
 * Faults, as `kind[:route][:amount]` (route `*`: every route but /metrics, /faults and /healthz):
 * - `errors:/inference/start:50%`: that share of the route's requests answer 500;
 * - `latency:/inference/start:1500ms`: the route's requests wait that long first;
 * - `hang:/inference/start:3s`: a dependency that never answers: requests wait for its timeout
 *   (default 3 s), then answer 504;
 * - `kpi-store-down`: every KPI store operation fails (events are buffered, then dropped);
 * - `memory-leak:20mb`: that many MiB a second are kept and never freed (at most 512 MiB);
 * - `event-loop-block:1200ms`: the event loop is blocked that long, every that long plus 200 ms;
 * - `cardinality`: the API labels `inference_client_requests_total` with a value of its own for
 *   every request (a deploy that put a request id into a label), so the metric reaches its series
 *   cap and folds the rest into its overflow series; clearing it removes those series again.
 *
 * @example
 * ```ts
 * const faults = new FaultInjector();
 * faults.inject(parseFault('latency:/inference/start:1500ms'));
 * faults.clear();
 * ```
 */
import type { FastifyInstance } from 'fastify';
import { isIP } from 'node:net';
import { LookoutError } from '../../src/core/errors.js';
import type { KpiStore } from '../../src/kpi/index.js';

/**
 * The kinds of fault.
 *
 * @example
 * ```ts
 * FAULT_KINDS.includes('hang'); // true
 * ```
 */
export const FAULT_KINDS = ['errors', 'latency', 'hang', 'kpi-store-down', 'memory-leak', 'event-loop-block', 'cardinality'] as const;

/**
 * One active fault.
 *
 * @example
 * ```ts
 * const fault: Fault = { kind: 'errors', route: '/inference/start', ratio: 0.5, spec: 'errors:/inference/start:50%' };
 * ```
 */
export interface Fault {
  readonly kind: (typeof FAULT_KINDS)[number];
  /** The route template it applies to (errors, latency, hang). */
  readonly route?: string;
  /** Share of the route's requests that fail (errors). */
  readonly ratio?: number;
  /** Added latency, dependency timeout or blocking time, in ms. */
  readonly ms?: number;
  /** MiB leaked a second (memory-leak). */
  readonly mibPerSecond?: number;
  /** The text it was parsed from. */
  readonly spec: string;
}

const MAX_LEAK_MIB = 512;
/** Label values `cardinality` remembers to remove: more than any series cap of the API. */
const MAX_FORGOTTEN_LABELS = 1000;

function bad(spec: string, expected: string): never {
  throw new LookoutError('LOOKOUT_E_FAULT', `fault ${JSON.stringify(spec)}: ${expected}`);
}

function milliseconds(spec: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s)$/.exec(text ?? '');
  if (match === null) bad(spec, `expected a duration such as 300ms or 2s, got ${JSON.stringify(text)}`);
  const ms = Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  if (!(ms > 0 && ms <= 60_000)) bad(spec, 'the duration must be above 0 and at most 60s');
  return ms;
}

function route(spec: string, text: string | undefined): string {
  if (text === undefined || !(text === '*' || /^\/[A-Za-z0-9/_.-]*$/.test(text))) bad(spec, `expected a route template such as /inference/start, or *, got ${JSON.stringify(text)}`);
  return text;
}

/**
 * Parses `kind[:route][:amount]` (see the module comment); throws `LOOKOUT_E_FAULT` on bad input.
 *
 * @example
 * ```ts
 * parseFault('errors:/inference/start:50%'); // { kind: 'errors', route: '/inference/start', ratio: 0.5, ... }
 * ```
 */
export function parseFault(spec: string): Fault {
  if (typeof spec !== 'string' || spec.length > 200) bad(String(spec), 'expected kind[:route][:amount]');
  const [kind, ...rest] = spec.split(':');
  switch (kind) {
    case 'errors': {
      const share = /^([0-9]+(?:\.[0-9]+)?)(%?)$/.exec(rest[1] ?? '100%');
      const ratio = share === null ? NaN : Number(share[1]) / (share[2] === '%' ? 100 : 1);
      if (!(ratio > 0 && ratio <= 1)) bad(spec, 'the share of failing requests is above 0 and at most 100% (or 1)');
      return { kind, route: route(spec, rest[0]), ratio, spec };
    }
    case 'latency':
      return { kind, route: route(spec, rest[0]), ms: milliseconds(spec, rest[1]), spec };
    case 'hang':
      return { kind, route: route(spec, rest[0]), ms: milliseconds(spec, rest[1], 3000), spec };
    case 'kpi-store-down':
    case 'cardinality':
      if (rest.length > 0) bad(spec, `${kind} takes no argument`);
      return { kind, spec };
    case 'memory-leak': {
      const match = /^([0-9]+)mi?b$/i.exec(rest[0] ?? '10mb');
      const mibPerSecond = match === null ? NaN : Number(match[1]);
      if (!(mibPerSecond >= 1 && mibPerSecond <= 100)) bad(spec, 'expected MiB a second from 1mb to 100mb');
      return { kind, mibPerSecond, spec };
    }
    case 'event-loop-block':
      return { kind, ms: milliseconds(spec, rest[0], 1000), spec };
    default:
      return bad(spec, `unknown kind; known: ${FAULT_KINDS.join(', ')}`);
  }
}

/**
 * True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`.
 *
 * @example
 * ```ts
 * isLoopback('127.0.0.1'); // true
 * isLoopback('0.0.0.0'); // false
 * ```
 */
export function isLoopback(host: string | undefined): boolean {
  if (host === undefined) return false;
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Holds the active faults and applies them: to the routes (a Fastify hook), to the KPI store
 * (a wrapper), and to the process (a leak, a blocked event loop).
 *
 * @example
 * ```ts
 * const faults = new FaultInjector();
 * const store = faults.wrapStore(pgliteStore({ dataDir }));
 * faults.register(app);
 * ```
 */
export class FaultInjector {
  private readonly active = new Map<Fault['kind'], Fault>();
  private leak: Buffer[] = [];
  private leakTimer: NodeJS.Timeout | undefined;
  private blockTimer: NodeJS.Timeout | undefined;
  /** Label values handed out under `cardinality`, and who forgets them when it is cleared. */
  private readonly unbounded = new Set<string>();
  private forgetLabel: ((value: string) => void) | undefined;
  private labelSequence = 0;

  /** The active faults. */
  list(): Fault[] {
    return [...this.active.values()];
  }

  /** Starts `fault`, replacing an active one of the same kind. */
  inject(fault: Fault): void {
    this.clear(fault.kind);
    this.active.set(fault.kind, fault);
    if (fault.kind === 'memory-leak') {
      const chunk = Math.round((fault.mibPerSecond! * 1024 * 1024) / 10);
      this.leakTimer = setInterval(() => {
        // fill: untouched pages would not count in the resident memory.
        if (this.leak.length * chunk < MAX_LEAK_MIB * 1024 * 1024) this.leak.push(Buffer.alloc(chunk, 1));
      }, 100);
      this.leakTimer.unref();
    }
    if (fault.kind === 'event-loop-block') {
      this.blockTimer = setInterval(() => {
        const end = Date.now() + fault.ms!;
        while (Date.now() < end) {
          // blocking on purpose: nothing else runs until `end`
        }
      }, fault.ms! + 200);
      this.blockTimer.unref();
    }
  }

  /** Stops the fault of `kind`, or all of them. */
  clear(kind?: Fault['kind']): void {
    for (const key of kind === undefined ? [...this.active.keys()] : [kind]) {
      this.active.delete(key);
      if (key === 'memory-leak') {
        clearInterval(this.leakTimer);
        this.leak = [];
      }
      if (key === 'event-loop-block') clearInterval(this.blockTimer);
      if (key === 'cardinality') {
        for (const value of this.unbounded) this.forgetLabel?.(value);
        this.unbounded.clear();
      }
    }
  }

  /**
   * The label value to record for `value`: itself, or under `cardinality` a new one per call
   * (`value#n`). `forget` removes such a series once the fault is cleared (the fix deployed).
   */
  labelValue(value: string, forget: (value: string) => void): string {
    if (!this.active.has('cardinality')) return value;
    this.forgetLabel = forget;
    const unbounded = `${value.slice(0, 48)}#${++this.labelSequence}`;
    // The first values take the free series; later ones fold into the overflow series (nothing to forget).
    if (this.unbounded.size < MAX_FORGOTTEN_LABELS) this.unbounded.add(unbounded);
    return unbounded;
  }

  /** The store, failing every operation while `kpi-store-down` is active. */
  wrapStore(store: KpiStore): KpiStore {
    const down = (): boolean => this.active.has('kpi-store-down');
    const refuse = (): Promise<never> => Promise.reject(new Error('connect ECONNREFUSED (injected fault kpi-store-down)'));
    return {
      kind: store.kind,
      ...(store.preferredBatchSize !== undefined && { preferredBatchSize: store.preferredBatchSize }),
      ...(store.rowEncoding !== undefined && { rowEncoding: store.rowEncoding }),
      open: () => (down() ? refuse() : store.open()),
      write: (batch, retry) => (down() ? refuse() : store.write(batch, retry)),
      close: () => store.close(),
      ...(store.instrument !== undefined && { instrument: (registry) => store.instrument!(registry) }),
      ...(store.query !== undefined && { query: (sql, params) => (down() ? refuse() : store.query!(sql, params)) }),
    };
  }

  /**
   * Applies route faults (`*` spares the `spared` paths: the scrape and the health check) and serves `GET /faults` (the active ones), `POST /faults` (body
   * `{"fault": "kind:..."}`) and `DELETE /faults`, to loopback clients only.
   */
  register(app: FastifyInstance, spared: readonly string[] = ['/metrics', '/healthz']): void {
    app.addHook('onRequest', async (request, reply) => {
      const template = request.routeOptions.url;
      if (template === undefined || template === '/faults') return;
      for (const fault of this.active.values()) {
        if (fault.route !== template && !(fault.route === '*' && !spared.includes(template))) continue;
        if (fault.kind === 'latency') await sleep(fault.ms!);
        if (fault.kind === 'errors' && Math.random() < fault.ratio!) return reply.code(500).send({ error: `injected fault ${fault.spec}` });
        if (fault.kind === 'hang') {
          await sleep(fault.ms!);
          return reply.code(504).send({ error: `dependency timed out after ${fault.ms} ms (injected fault ${fault.spec})` });
        }
      }
    });
    const local = (remote: string | undefined): boolean => isLoopback(remote);
    app.get('/faults', async (request, reply) => (local(request.socket.remoteAddress) ? { faults: this.list().map((fault) => fault.spec) } : reply.code(403).send({ error: 'loopback only' })));
    app.post<{ Body: { fault: string } }>('/faults', {
      schema: { body: { type: 'object', required: ['fault'], additionalProperties: false, properties: { fault: { type: 'string', maxLength: 200 } } } },
    }, async (request, reply) => {
      if (!local(request.socket.remoteAddress)) return reply.code(403).send({ error: 'loopback only' });
      try {
        this.inject(parseFault(request.body.fault));
      } catch (error) {
        if (error instanceof LookoutError) return reply.code(400).send({ error: error.message });
        throw error;
      }
      return { faults: this.list().map((fault) => fault.spec) };
    });
    app.delete('/faults', async (request, reply) => {
      if (!local(request.socket.remoteAddress)) return reply.code(403).send({ error: 'loopback only' });
      this.clear();
      return { faults: [] };
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
