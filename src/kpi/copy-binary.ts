import type { KpiBatch } from './batch.js';
import { writeUuid } from './ids.js';

/** The columns of a COPY, in the order `encodeCopyBinary` writes them. */
export const COPY_COLUMNS = 'id, creation_time, event, "user", model, args, value';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const CHUNK_BYTES = 1 << 18;
const FIELDS = 7;
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;
const TWO_TO_32 = 0x100000000;
/** Bytes of a row without its variable-length strings. */
const FIXED_ROW_BYTES = 2 + (4 + 16) + (4 + 8) + 4 + 4 + 4 + (4 + 1) + (4 + 8);

/**
 * Encodes a batch in PostgreSQL's binary COPY format (`COPY_COLUMNS` order),
 * in chunks of about 256 KiB: the uuid and timestamp go as raw numbers, no
 * text to format on our side or to parse on the server's. Text loses any NUL
 * character (PostgreSQL text cannot hold it); `args` is jsonb version 1.
 *
 * @example
 * ```ts
 * for (const chunk of encodeCopyBinary(batch)) copyStream.write(chunk);
 * ```
 */
export function encodeCopyBinary(batch: KpiBatch): Buffer[] {
  const chunks: Buffer[] = [];
  const { idTimes, idCounters, idNode, times, events, users, models, args, values } = batch;
  const eventBytes = new Map<string, Buffer>();
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  buffer.set(SIGNATURE, 0);
  buffer.writeInt32BE(0, 11); // flags
  buffer.writeInt32BE(0, 15); // header extension length
  let offset = 19;
  for (let row = 0; row < batch.size; row++) {
    const event = events[row]!;
    let eventData = eventBytes.get(event);
    if (eventData === undefined) {
      eventData = Buffer.from(withoutNul(event), 'utf8');
      eventBytes.set(event, eventData);
    }
    const user = users[row]!;
    const model = models[row]!;
    const json = args[row]!;
    const most = FIXED_ROW_BYTES + eventData.length + 3 * ((user?.length ?? 0) + (model?.length ?? 0) + (json?.length ?? 0));
    if (offset + most + 2 > buffer.length) {
      chunks.push(buffer.subarray(0, offset));
      buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, most + 2));
      offset = 0;
    }
    buffer.writeInt16BE(FIELDS, offset);
    buffer.writeInt32BE(16, offset + 2);
    writeUuid(buffer, offset + 6, idTimes[row]!, idCounters[row]!, idNode);
    offset += 22;
    const micros = (times[row]! - PG_EPOCH_MS) * 1000;
    const high = Math.floor(micros / TWO_TO_32);
    buffer.writeInt32BE(8, offset);
    buffer.writeInt32BE(high, offset + 4);
    buffer.writeUInt32BE(micros - high * TWO_TO_32, offset + 8);
    offset += 12;
    buffer.writeInt32BE(eventData.length, offset);
    buffer.set(eventData, offset + 4);
    offset += 4 + eventData.length;
    offset = writeText(buffer, offset, user, 0);
    offset = writeText(buffer, offset, model, 0);
    offset = writeText(buffer, offset, json, 1);
    const value = values[row]!;
    if (value === null) {
      buffer.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      buffer.writeInt32BE(8, offset);
      buffer.writeDoubleBE(value, offset + 4);
      offset += 12;
    }
  }
  buffer.writeInt16BE(-1, offset);
  chunks.push(buffer.subarray(0, offset + 2));
  return chunks;
}

/** Writes a length-prefixed UTF-8 field (`-1` for null), after `version` when non-zero (jsonb). */
function writeText(buffer: Buffer, offset: number, text: string | null, version: number): number {
  if (text === null) {
    buffer.writeInt32BE(-1, offset);
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
  buffer.writeInt32BE(end - offset - 4, offset);
  return end;
}

function withoutNul(text: string): string {
  return text.includes('\0') ? text.replace(/\0/g, '') : text;
}
