/**
 * Decodes PostgreSQL binary COPY data for the columns lookout writes, to
 * check the encoder without a server.
 *
 * @example
 * ```ts
 * const rows = decodeCopyBinary(Buffer.concat(encodeCopyBinary(batch)));
 * ```
 */
export interface DecodedRow {
  id: string;
  creationTime: Date;
  micros: bigint;
  event: string;
  user: string | null;
  model: string | null;
  args: string | null;
  value: number | null;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const PG_EPOCH_MICROS = 946_684_800_000_000n;

export function decodeCopyBinary(data: Buffer): DecodedRow[] {
  if (!data.subarray(0, 11).equals(SIGNATURE)) throw new Error('bad signature');
  let offset = 19 + data.readInt32BE(15);
  const rows: DecodedRow[] = [];
  for (;;) {
    const fields = data.readInt16BE(offset);
    offset += 2;
    if (fields === -1) break;
    if (fields !== 7) throw new Error(`expected 7 fields, got ${fields}`);
    const raw: (Buffer | null)[] = [];
    for (let index = 0; index < fields; index++) {
      const length = data.readInt32BE(offset);
      offset += 4;
      if (length === -1) raw.push(null);
      else {
        raw.push(data.subarray(offset, offset + length));
        offset += length;
      }
    }
    const hex = raw[0]!.toString('hex');
    const micros = raw[1]!.readBigInt64BE(0);
    const jsonb = raw[5];
    if (jsonb !== null && jsonb !== undefined && jsonb[0] !== 1) throw new Error('jsonb version must be 1');
    rows.push({
      id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      micros,
      creationTime: new Date(Number((micros + PG_EPOCH_MICROS) / 1000n)),
      event: raw[2]!.toString('utf8'),
      user: raw[3]?.toString('utf8') ?? null,
      model: raw[4]?.toString('utf8') ?? null,
      args: jsonb ? jsonb.subarray(1).toString('utf8') : null,
      value: raw[6] ? raw[6].readDoubleBE(0) : null,
    });
  }
  if (offset !== data.length) throw new Error(`trailing bytes: ${data.length - offset}`);
  return rows;
}
