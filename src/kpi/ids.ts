import { randomBytes } from 'node:crypto';

/**
 * Time-ordered UUIDs (version 7, RFC 9562), kept as numbers until a store
 * needs them: 48-bit Unix milliseconds, version 7, a 26-bit counter that
 * restarts every millisecond (12 bits in `rand_a`, 14 in `rand_b`), and 48
 * random bits (`node`) drawn once per generator. Within one generator the ids
 * strictly increase (the clock is never allowed to go backwards), so sorting
 * by id keeps a process's order; across processes `node` keeps them apart.
 *
 * @example
 * ```ts
 * const ids = new IdGenerator();
 * ids.next(Date.now(), times, counters, 0);
 * uuidString(times[0], counters[0], ids.node); // '0190b1c2-3d4e-7000-8000-5f3a9c0d1e2b'
 * ```
 */
export class IdGenerator {
  /** The 6 random bytes that end every id of this generator. */
  readonly node: Uint8Array = randomBytes(6);
  private lastMs = -1;
  private counter = 0;

  /** Assigns the id of an event recorded at `timeMs` into `times[row]` / `counters[row]`. */
  next(timeMs: number, times: Float64Array, counters: Uint32Array, row: number): void {
    const ms = Math.floor(timeMs);
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.counter = 0;
    } else if (++this.counter > 0x3ffffff) {
      // 67 million ids in one millisecond: borrow the next millisecond.
      this.lastMs++;
      this.counter = 0;
    }
    times[row] = this.lastMs;
    counters[row] = this.counter;
  }
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * The canonical text of an id.
 *
 * @example
 * ```ts
 * uuidString(1720000000334, 0, node); // '0190b1c2-3d4e-7000-8000-…'
 * ```
 */
export function uuidString(ms: number, counter: number, node: Uint8Array): string {
  const time = ms.toString(16).padStart(12, '0');
  const high = (0x7000 | (counter >>> 14)).toString(16);
  const low = (0x8000 | (counter & 0x3fff)).toString(16);
  let tail = '';
  for (let index = 0; index < 6; index++) tail += HEX[node[index]!]!;
  return `${time.slice(0, 8)}-${time.slice(8)}-${high}-${low}-${tail}`;
}

/**
 * Writes the 16 bytes of an id at `offset` (binary COPY, uuid wire format).
 *
 * @example
 * ```ts
 * writeUuid(buffer, 0, Date.now(), 0, node);
 * ```
 */
export function writeUuid(target: Uint8Array, offset: number, ms: number, counter: number, node: Uint8Array): void {
  const high = Math.floor(ms / 0x100000000);
  const low = ms >>> 0;
  target[offset] = high >>> 8;
  target[offset + 1] = high;
  target[offset + 2] = low >>> 24;
  target[offset + 3] = low >>> 16;
  target[offset + 4] = low >>> 8;
  target[offset + 5] = low;
  const randA = counter >>> 14;
  target[offset + 6] = 0x70 | (randA >>> 8);
  target[offset + 7] = randA;
  const randB = counter & 0x3fff;
  target[offset + 8] = 0x80 | (randB >>> 8);
  target[offset + 9] = randB;
  target[offset + 10] = node[0]!;
  target[offset + 11] = node[1]!;
  target[offset + 12] = node[2]!;
  target[offset + 13] = node[3]!;
  target[offset + 14] = node[4]!;
  target[offset + 15] = node[5]!;
}

/**
 * A function returning a new time-ordered UUIDv7 string per call.
 *
 * @example
 * ```ts
 * const nextId = createIdGenerator();
 * const id = nextId(Date.now());
 * ```
 */
export function createIdGenerator(): (timeMs: number) => string {
  const generator = new IdGenerator();
  const times = new Float64Array(1);
  const counters = new Uint32Array(1);
  return (timeMs) => {
    generator.next(timeMs, times, counters, 0);
    return uuidString(times[0]!, counters[0]!, generator.node);
  };
}

/**
 * The Unix milliseconds encoded in a version 7 UUID.
 *
 * @example
 * ```ts
 * uuidTimeMs('0190b1c2-3d4e-7000-8000-5f3a9c0d1e2b'); // 1720000000334
 * ```
 */
export function uuidTimeMs(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
