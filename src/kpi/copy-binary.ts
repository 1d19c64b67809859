import type { KpiBatch } from './batch.js';
import { writeUuid } from './ids.js';

/** The columns of a COPY, in the order `encodeCopyBinary` writes them. @example `COPY events (${COPY_COLUMNS}) FROM STDIN (FORMAT binary)` */
export const COPY_COLUMNS = 'id, creation_time, event, "user", model, args, value';

/** The 19 bytes that open a binary COPY stream: signature, flags, header extension length. @example stream.write(COPY_HEADER); */
export const COPY_HEADER: Buffer = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** The 2 bytes that end a binary COPY stream (a field count of -1). @example stream.write(COPY_TRAILER); */
export const COPY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);
const CHUNK_BYTES = 1 << 18;
const FIELDS = 7;
const EMPTY: Uint8Array = new Uint8Array(0);
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_TO_32 = 0x100000000;
/** Bytes of a row without its variable-length strings. */
const FIXED_ROW_BYTES = 2 + (4 + 16) + (4 + 8) + 4 + 4 + 4 + (4 + 1) + (4 + 8);

/**
 * Encodes a batch in PostgreSQL's binary COPY format (`COPY_COLUMNS` order),
 * one chunk of about 256 KiB at a time, so that a writer can send each chunk
 * (and let the event loop run) before encoding the next: the uuid and the
 * timestamp go as raw numbers, no text to format on our side or to parse on
 * the server's. Text loses any NUL character (PostgreSQL text cannot hold
 * it); `args` is jsonb version 1.
 *
 * @example
 * ```ts
 * const encoder = new CopyBinaryEncoder(batch);
 * for (let chunk = encoder.next(); chunk !== undefined; chunk = encoder.next()) copyStream.write(chunk);
 * ```
 */
export class CopyBinaryEncoder {
  private readonly batch: KpiBatch;
  private readonly eventCache = new Map<string, Buffer>();
  private row = 0;
  private finished = false;

  constructor(batch: KpiBatch) {
    this.batch = batch;
  }

  private eventData(event: string): Buffer {
    const data = eventBytes(event);
    this.eventCache.set(event, data);
    return data;
  }

  /** The next chunk, or undefined after the one that holds the trailer. */
  next(): Buffer | undefined {
    if (this.finished) return undefined;
    const { idTimes, idCounters, idNode, times, events, users, models, args, values, size } = this.batch;
    let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    if (this.row === 0) {
      buffer.set(COPY_HEADER, 0);
      offset = COPY_HEADER.length;
    }
    let lastEvent = '';
    let eventData: Uint8Array = EMPTY;
    let row = this.row;
    for (; row < size; row++) {
      const event = events[row]!;
      if (event !== lastEvent) {
        lastEvent = event;
        eventData = this.eventCache.get(event) ?? this.eventData(event);
      }
      const user = users[row]!;
      const model = models[row]!;
      const json = args[row]!;
      const most = rowBytesAtMost(eventData, user, model, json);
      if (offset + most + 2 > buffer.length) {
        if (offset > 0) {
          this.row = row;
          return buffer.subarray(0, offset);
        }
        buffer = Buffer.allocUnsafe(most + 2); // one row larger than a chunk
      }
      offset = writeRow(buffer, offset, idTimes[row]!, idCounters[row]!, idNode, times[row]!, eventData, user, model, json, values[row]!);
    }
    this.row = row;
    if (offset + 2 > buffer.length) return buffer.subarray(0, offset); // the trailer goes in a chunk of its own
    buffer.set(COPY_TRAILER, offset);
    this.finished = true;
    return buffer.subarray(0, offset + 2);
  }
}

/**
 * The most bytes `writeRow` can take for a row with these fields (UTF-16 code
 * units become at most 3 bytes of UTF-8).
 *
 * @example
 * ```ts
 * if (offset + rowBytesAtMost(eventData, user, model, json) > buffer.length) buffer = nextChunk();
 * ```
 */
export function rowBytesAtMost(eventData: Uint8Array, user: string | null, model: string | null, json: string | null): number {
  return FIXED_ROW_BYTES + eventData.length + 3 * ((user?.length ?? 0) + (model?.length ?? 0) + (json?.length ?? 0));
}

/**
 * Writes one row of the binary COPY stream (`COPY_COLUMNS` order) at `offset`
 * and returns the offset after it. The caller reserved `rowBytesAtMost` bytes.
 * `eventData` is the event name as UTF-8 without NUL; text fields lose any NUL;
 * `json` goes as jsonb version 1.
 *
 * @example
 * ```ts
 * offset = writeRow(buffer, offset, idMs, idCounter, ids.node, Date.now(), eventData, 'u-1', null, '{"a":1}', null);
 * ```
 */
export function writeRow(
  buffer: Buffer, offset: number, idMs: number, idCounter: number, idNode: Uint8Array, timeMs: number,
  eventData: Uint8Array, user: string | null, model: string | null, json: string | null, value: number | null,
): number {
  buffer[offset] = 0;
  buffer[offset + 1] = FIELDS;
  int32(buffer, offset + 2, 16);
  writeUuid(buffer, offset + 6, idMs, idCounter, idNode);
  offset += 22;
  const micros = (timeMs - PG_EPOCH_MS) * 1000;
  const high = Math.floor(micros / TWO_TO_32);
  int32(buffer, offset, 8);
  int32(buffer, offset + 4, high);
  int32(buffer, offset + 8, micros - high * TWO_TO_32);
  offset += 12;
  const eventLength = eventData.length;
  int32(buffer, offset, eventLength);
  offset += 4;
  for (let index = 0; index < eventLength; index++) buffer[offset + index] = eventData[index]!;
  offset += eventLength;
  offset = writeText(buffer, offset, user, 0);
  offset = writeText(buffer, offset, model, 0);
  offset = writeText(buffer, offset, json, 1);
  if (value === null) {
    int32(buffer, offset, -1);
    return offset + 4;
  }
  int32(buffer, offset, 8);
  buffer.writeDoubleBE(value, offset + 4);
  return offset + 12;
}

/**
 * The byte offset just after `rows` rows that start at `offset` (rows written
 * by `writeRow`: a field count, then length-prefixed fields, -1 for null).
 *
 * @example
 * ```ts
 * const end = skipRows(chunk, 0, 100); // chunk.subarray(0, end) holds the first 100 rows
 * ```
 */
export function skipRows(buffer: Uint8Array, offset: number, rows: number): number {
  for (let row = 0; row < rows; row++) {
    offset += 2;
    for (let field = 0; field < FIELDS; field++) {
      const length = readInt32(buffer, offset);
      offset += length < 0 ? 4 : 4 + length;
    }
  }
  return offset;
}

/**
 * Event name bytes as `writeRow` takes them: UTF-8, NUL removed.
 *
 * @example
 * ```ts
 * const eventData = eventBytes('good_inference');
 * ```
 */
export function eventBytes(event: string): Buffer {
  return Buffer.from(withoutNul(event), 'utf8');
}

/**
 * The whole batch at once (see `CopyBinaryEncoder`).
 *
 * @example
 * ```ts
 * const data = Buffer.concat(encodeCopyBinary(batch));
 * ```
 */
export function encodeCopyBinary(batch: KpiBatch): Buffer[] {
  const encoder = new CopyBinaryEncoder(batch);
  const chunks: Buffer[] = [];
  for (let chunk = encoder.next(); chunk !== undefined; chunk = encoder.next()) chunks.push(chunk);
  return chunks;
}

/** Writes a length-prefixed UTF-8 field (`-1` for null), after `version` when non-zero (jsonb). */
function writeText(buffer: Buffer, offset: number, text: string | null, version: number): number {
  if (text === null) {
    int32(buffer, offset, -1);
    return offset + 4;
  }
  let start = offset + 4;
  if (version !== 0) buffer[start++] = version;
  let end = start;
  const length = text.length;
  // Short ASCII strings (ids, names, small JSON) are copied by hand: cheaper than a call into C++.
  if (length <= 64) {
    let index = 0;
    for (; index < length; index++) {
      const code = text.charCodeAt(index);
      if (code >= 0x80 || code === 0) break;
      buffer[end++] = code;
    }
    if (index < length) end = start + buffer.write(withoutNul(text), start, 'utf8');
  } else {
    end = start + buffer.write(withoutNul(text), start, 'utf8');
  }
  int32(buffer, offset, end - offset - 4);
  return end;
}

/** Big-endian 32-bit store without Buffer's range checks (the caller reserved the room). */
function int32(buffer: Uint8Array, offset: number, value: number): void {
  buffer[offset] = value >>> 24;
  buffer[offset + 1] = value >>> 16;
  buffer[offset + 2] = value >>> 8;
  buffer[offset + 3] = value;
}

function readInt32(buffer: Uint8Array, offset: number): number {
  return (buffer[offset]! << 24) | (buffer[offset + 1]! << 16) | (buffer[offset + 2]! << 8) | buffer[offset + 3]!;
}

function withoutNul(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '') : text;
}
