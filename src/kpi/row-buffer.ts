import type { KpiBatch } from './batch.js';
import { eventBytes, rowBytesAtMost, skipRows, writeRow } from './copy-binary.js';
import type { IdGenerator } from './ids.js';

/** Bytes of one chunk of encoded rows (a row larger than this gets a chunk of its own). */
const CHUNK_BYTES = 1 << 18;
/** Emptied chunks kept for reuse, at most. */
const SPARE_CHUNKS = 8;
/** Events held as recorded until they are encoded (at the latest when this many wait). */
const STAGE_ROWS = 1024;
const PG_EPOCH_MS = 946_684_800_000;
const TWO_TO_32 = 0x100000000;
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** A block of encoded rows; `start`..`end` holds the rows still pending. */
interface Chunk {
  readonly data: Buffer;
  start: number;
  end: number;
  /** Rows between `start` and `end`. */
  rows: number;
  /** The buffer's queue (while the chunk is in it) and every live batch that views it. */
  refs: number;
}

/** Where a batch returns its chunks. */
interface ChunkOwner {
  unref(chunk: Chunk): void;
}

/**
 * The pending events of a store that takes binary COPY rows (see `KpiStore.rowEncoding`).
 * `push` keeps the event's fields as they are (as cheap as the column buffer) and the events
 * are encoded, ids and timestamps included, into blocks of bytes soon after: in a
 * `setImmediate` after the current event-loop turn, or at once when 1,024 wait or a batch is
 * taken. So no string of an event outlives the turn it was recorded in (nothing for the
 * young-generation collector to copy or promote while a batch fills and is written), and a
 * batch is a list of views on those blocks, sent as they are. Emptied blocks are reused.
 * Ids are assigned at encoding, in record order, by the dispatcher's generator.
 *
 * @example
 * ```ts
 * const buffer = new CopyRowBuffer(100_000, new IdGenerator());
 * buffer.push('good_inference', Date.now(), 'u-1', 'resnet', '{"label":"cat"}', null);
 * const batch = buffer.take(20_000); // an EncodedBatch
 * ```
 */
export class CopyRowBuffer implements ChunkOwner {
  readonly capacity: number;
  private readonly ids: IdGenerator;
  private readonly idTime = new Float64Array(1);
  private readonly idCounter = new Uint32Array(1);
  /** Oldest first; the last one takes new rows. Every chunk but the last holds pending rows. */
  private readonly chunks: Chunk[] = [];
  private readonly spare: Buffer[] = [];
  private readonly eventCache = new Map<string, Uint8Array>();
  /** Events pushed and not encoded yet, oldest first (they come after every encoded one). */
  private readonly stagedEvents: (string | null)[] = new Array<string | null>(STAGE_ROWS).fill(null);
  private readonly stagedTimes = new Float64Array(STAGE_ROWS);
  private readonly stagedUsers: (string | null)[] = new Array<string | null>(STAGE_ROWS).fill(null);
  private readonly stagedModels: (string | null)[] = new Array<string | null>(STAGE_ROWS).fill(null);
  private readonly stagedArgs: (string | null)[] = new Array<string | null>(STAGE_ROWS).fill(null);
  private readonly stagedValues: (number | null)[] = new Array<number | null>(STAGE_ROWS).fill(null);
  private staged = 0;
  private scheduled = false;
  private readonly encodeLater = (): void => {
    this.scheduled = false;
    this.encodeStaged();
  };

  /** Encoded events waiting. */
  private encoded = 0;

  constructor(capacity: number, ids: IdGenerator) {
    this.capacity = capacity;
    this.ids = ids;
  }

  /** Events waiting. */
  get size(): number {
    return this.encoded + this.staged;
  }

  /** Appends one event; the caller checks `size < capacity` first. */
  push(event: string, timeMs: number, user: string | null, model: string | null, args: string | null, value: number | null): void {
    const slot = this.staged++;
    this.stagedEvents[slot] = event;
    this.stagedTimes[slot] = timeMs;
    this.stagedUsers[slot] = user;
    this.stagedModels[slot] = model;
    this.stagedArgs[slot] = args;
    this.stagedValues[slot] = value;
    if (slot + 1 === STAGE_ROWS) this.encodeStaged();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.encodeLater);
    }
  }

  /** Encodes the staged events into the chunks, in order, and lets their strings go. */
  encodeStaged(): void {
    const count = this.staged;
    if (count === 0) return;
    const { ids, idTime, idCounter, stagedEvents, stagedTimes, stagedUsers, stagedModels, stagedArgs, stagedValues } = this;
    let lastEvent = '';
    let eventData: Uint8Array = EMPTY;
    let tail = this.chunks[this.chunks.length - 1];
    for (let slot = 0; slot < count; slot++) {
      const event = stagedEvents[slot]!;
      if (event !== lastEvent) {
        lastEvent = event;
        eventData = this.eventCache.get(event) ?? this.cacheEvent(event);
      }
      const user = stagedUsers[slot]!;
      const model = stagedModels[slot]!;
      const args = stagedArgs[slot]!;
      const most = rowBytesAtMost(eventData, user, model, args);
      if (tail === undefined || tail.end + most > tail.data.length) tail = this.newTail(tail, most);
      const timeMs = stagedTimes[slot]!;
      ids.next(timeMs, idTime, idCounter, 0);
      tail.end = writeRow(tail.data, tail.end, idTime[0]!, idCounter[0]!, ids.node, timeMs, eventData, user, model, args, stagedValues[slot]!);
      tail.rows++;
      stagedEvents[slot] = null;
      stagedUsers[slot] = null;
      stagedModels[slot] = null;
      stagedArgs[slot] = null;
    }
    this.staged = 0;
    this.encoded += count;
  }

  /** Forgets the oldest `n` events (drop-oldest policy, close timeout). Returns how many went. */
  discard(n: number): number {
    this.encodeStaged();
    const gone = Math.min(n, this.encoded);
    this.consume(gone, undefined);
    return gone;
  }

  /** Removes up to `max` of the oldest events as one batch. */
  take(max: number): EncodedBatch {
    this.encodeStaged();
    const size = Math.min(max, this.encoded);
    const parts: Buffer[] = [];
    const chunks: Chunk[] = [];
    this.consume(size, { parts, chunks });
    return new EncodedBatch(size, parts, chunks, this, this.ids.node);
  }

  /** Called when a chunk loses a holder; an unused chunk of the standard size is kept for reuse. */
  unref(chunk: Chunk): void {
    if (--chunk.refs === 0 && chunk.data.length === CHUNK_BYTES && this.spare.length < SPARE_CHUNKS) this.spare.push(chunk.data);
  }

  private cacheEvent(event: string): Uint8Array {
    const data = eventBytes(event);
    this.eventCache.set(event, data);
    return data;
  }

  /** The chunk new rows go to once `tail` (if any) cannot hold `most` more bytes. */
  private newTail(tail: Chunk | undefined, most: number): Chunk {
    if (tail !== undefined && tail.rows === 0) {
      if (tail.refs === 1 && most <= tail.data.length) {
        tail.start = 0; // nothing pending and no batch views it: start over
        tail.end = 0;
        return tail;
      }
      this.chunks.pop();
      this.unref(tail);
    }
    const data = most <= CHUNK_BYTES ? this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES) : Buffer.allocUnsafeSlow(most);
    const chunk: Chunk = { data, start: 0, end: 0, rows: 0, refs: 1 };
    this.chunks.push(chunk);
    return chunk;
  }

  /** Moves the oldest `n` rows out of the queue, into `into` when given. */
  private consume(n: number, into: { parts: Buffer[]; chunks: Chunk[] } | undefined): void {
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const rows = Math.min(left, chunk.rows);
      const cut = rows === chunk.rows ? chunk.end : skipRows(chunk.data, chunk.start, rows);
      if (into !== undefined) {
        into.parts.push(chunk.data.subarray(chunk.start, cut));
        into.chunks.push(chunk);
        chunk.refs++;
      }
      chunk.start = cut;
      chunk.rows -= rows;
      left -= rows;
      if (chunk.rows === 0 && this.chunks.length > 1) {
        this.chunks.shift();
        this.unref(chunk);
      }
    }
    this.encoded -= n;
  }
}

/** The columns of an encoded batch, decoded on first use. */
interface Columns {
  idTimes: Float64Array;
  idCounters: Uint32Array;
  times: Float64Array;
  events: string[];
  users: (string | null)[];
  models: (string | null)[];
  args: (string | null)[];
  values: (number | null)[];
}

/**
 * A batch taken from a `CopyRowBuffer`: its rows as binary COPY bytes
 * (`parts`, without the stream's header and trailer), sent as they are by
 * the PostgreSQL store. The `KpiBatch` columns are decoded from those bytes
 * on first access, for stores and messages that need them.
 *
 * @example
 * ```ts
 * if (batch instanceof EncodedBatch) for (const part of batch.parts) copyStream.write(part);
 * else console.log(batch.users[0]);
 * ```
 */
export class EncodedBatch implements KpiBatch {
  readonly size: number;
  /** The rows, in order, as views on the buffer's chunks. */
  readonly parts: readonly Buffer[];
  readonly idNode: Uint8Array;
  private readonly chunks: readonly Chunk[];
  private readonly owner: ChunkOwner;
  private columns: Columns | undefined;
  private released = false;

  /** Holds a reference on each of `chunks` (the caller already counted it) until `release`. */
  constructor(size: number, parts: readonly Buffer[], chunks: readonly Chunk[], owner: ChunkOwner, idNode: Uint8Array) {
    this.size = size;
    this.parts = parts;
    this.chunks = chunks;
    this.owner = owner;
    this.idNode = idNode;
  }

  get idTimes(): Float64Array {
    return this.decoded().idTimes;
  }

  get idCounters(): Uint32Array {
    return this.decoded().idCounters;
  }

  get times(): Float64Array {
    return this.decoded().times;
  }

  get events(): readonly string[] {
    return this.decoded().events;
  }

  get users(): readonly (string | null)[] {
    return this.decoded().users;
  }

  get models(): readonly (string | null)[] {
    return this.decoded().models;
  }

  get args(): readonly (string | null)[] {
    return this.decoded().args;
  }

  get values(): readonly (number | null)[] {
    return this.decoded().values;
  }

  /**
   * Rows `start` (inclusive) to `end` (exclusive), as a batch viewing the same
   * bytes (it holds its own references: release both).
   */
  slice(start: number, end: number): EncodedBatch {
    const parts: Buffer[] = [];
    let skip = start;
    let take = end - start;
    for (const part of this.parts) {
      if (take === 0) break;
      const rows = countRows(part);
      if (skip >= rows) {
        skip -= rows;
        continue;
      }
      const from = skipRows(part, 0, skip);
      const count = Math.min(take, rows - skip);
      parts.push(part.subarray(from, skipRows(part, from, count)));
      take -= count;
      skip = 0;
    }
    for (const chunk of this.chunks) chunk.refs++;
    return new EncodedBatch(end - start, parts, this.chunks, this.owner, this.idNode);
  }

  /** Gives the chunks back once the batch is written or dropped (safe to call twice). */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const chunk of this.chunks) this.owner.unref(chunk);
  }

  private decoded(): Columns {
    this.columns ??= decodeRows(this.parts, this.size);
    return this.columns;
  }
}

function countRows(part: Buffer): number {
  let rows = 0;
  for (let offset = 0; offset < part.length; rows++) offset = skipRows(part, offset, 1);
  return rows;
}

function decodeRows(parts: readonly Buffer[], size: number): Columns {
  const columns: Columns = {
    idTimes: new Float64Array(size), idCounters: new Uint32Array(size), times: new Float64Array(size),
    events: new Array<string>(size), users: new Array<string | null>(size), models: new Array<string | null>(size),
    args: new Array<string | null>(size), values: new Array<number | null>(size),
  };
  let row = 0;
  for (const part of parts) {
    let offset = 0;
    while (offset < part.length) {
      offset += 2 + 4; // field count, uuid length
      const high = part.readUInt16BE(offset);
      columns.idTimes[row] = high * TWO_TO_32 + part.readUInt32BE(offset + 2);
      columns.idCounters[row] = (((part[offset + 6]! & 0x0f) << 8 | part[offset + 7]!) << 14) | ((part[offset + 8]! & 0x3f) << 8 | part[offset + 9]!);
      offset += 16 + 4;
      columns.times[row] = (part.readInt32BE(offset) * TWO_TO_32 + part.readUInt32BE(offset + 4)) / 1000 + PG_EPOCH_MS;
      offset += 8;
      let text: string | null;
      [text, offset] = readText(part, offset, 0);
      columns.events[row] = text!;
      [text, offset] = readText(part, offset, 0);
      columns.users[row] = text;
      [text, offset] = readText(part, offset, 0);
      columns.models[row] = text;
      [text, offset] = readText(part, offset, 1);
      columns.args[row] = text;
      const length = part.readInt32BE(offset);
      columns.values[row] = length < 0 ? null : part.readDoubleBE(offset + 4);
      offset += length < 0 ? 4 : 12;
      row++;
    }
  }
  return columns;
}

function readText(part: Buffer, offset: number, skip: number): [string | null, number] {
  const length = part.readInt32BE(offset);
  if (length < 0) return [null, offset + 4];
  return [decoder.decode(part.subarray(offset + 4 + skip, offset + 4 + length)), offset + 4 + length];
}

/**
 * Rows `start` (inclusive) to `end` (exclusive) of a batch, for splitting a
 * batch that PostgreSQL rejected. An `EncodedBatch` gives an `EncodedBatch`
 * on the same bytes (release it as well).
 *
 * @example
 * ```ts
 * const [left, right] = [sliceBatch(batch, 0, half), sliceBatch(batch, half, batch.size)];
 * ```
 */
export function sliceBatch(batch: KpiBatch, start: number, end: number): KpiBatch {
  if (batch instanceof EncodedBatch) return batch.slice(start, end);
  return {
    size: end - start,
    idTimes: batch.idTimes.slice(start, end),
    idCounters: batch.idCounters.slice(start, end),
    idNode: batch.idNode,
    times: batch.times.slice(start, end),
    events: batch.events.slice(start, end),
    users: batch.users.slice(start, end),
    models: batch.models.slice(start, end),
    args: batch.args.slice(start, end),
    values: batch.values.slice(start, end),
  };
}
