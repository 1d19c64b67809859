/**
 * A tiny Prometheus remote-write receiver for end-to-end tests: an HTTP server on 127.0.0.1 that
 * keeps every POST (path, headers) and decodes its body (snappy block format, then the
 * `prometheus.WriteRequest` protobuf) far enough to list each series' labels.
 *
 * @example
 * ```ts
 * const receiver = await startRemoteWriteReceiver();
 * // ... point Prometheus' remote_write at `${receiver.url}/api/v1/push` ...
 * const pushes = receiver.requests.filter((request) => request.path === '/api/v1/push');
 * await receiver.stop();
 * ```
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';

/** One POST the receiver got. */
export interface RemoteWriteRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Labels of every series in the request (`__name__` included). */
  readonly series: readonly Readonly<Record<string, string>>[];
  readonly samples: number;
  /** Why the body could not be decoded, if it could not. */
  readonly error?: string;
}

/** A running receiver. */
export interface RemoteWriteReceiver {
  readonly url: string;
  readonly requests: RemoteWriteRequest[];
  stop(): Promise<void>;
}

/**
 * Starts the receiver on an ephemeral loopback port; it answers 204 to every POST.
 *
 * @example
 * ```ts
 * const { url } = await startRemoteWriteReceiver();
 * ```
 */
export async function startRemoteWriteReceiver(): Promise<RemoteWriteReceiver> {
  const requests: RemoteWriteRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0]!;
      try {
        const decoded = decodeWriteRequest(snappyDecode(Buffer.concat(chunks)));
        requests.push({ path, headers: request.headers, ...decoded });
      } catch (error) {
        requests.push({ path, headers: request.headers, series: [], samples: 0, error: (error as Error).message });
      }
      response.writeHead(request.method === 'POST' ? 204 : 405).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Decompresses the snappy block format (what remote write sends; not the framed stream format).
 *
 * @example
 * ```ts
 * snappyDecode(Buffer.from([0x03, 0x08, 0x61, 0x62, 0x63])).toString(); // 'abc'
 * ```
 */
export function snappyDecode(input: Buffer): Buffer {
  let position = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = input[position++]!;
    length += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  const output = Buffer.alloc(length);
  let written = 0;
  while (position < input.length) {
    const tag = input[position++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let size = tag >>> 2;
      if (size >= 60) {
        const bytes = size - 59;
        size = 0;
        for (let index = 0; index < bytes; index++) size += input[position++]! * 2 ** (8 * index);
      }
      size += 1;
      input.copy(output, written, position, position + size);
      position += size;
      written += size;
      continue;
    }
    let size: number;
    let offset: number;
    if (kind === 1) {
      size = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[position++]!;
    } else if (kind === 2) {
      size = (tag >>> 2) + 1;
      offset = input.readUInt16LE(position);
      position += 2;
    } else {
      size = (tag >>> 2) + 1;
      offset = input.readUInt32LE(position);
      position += 4;
    }
    if (offset === 0 || offset > written) throw new Error(`snappy: bad copy offset ${offset} at ${written}`);
    // Byte by byte: a copy may overlap what it writes (a run).
    for (let index = 0; index < size; index++, written++) output[written] = output[written - offset]!;
  }
  if (written !== length) throw new Error(`snappy: ${written} bytes decoded, ${length} announced`);
  return output;
}

/** Fields of one protobuf message: field number → raw values (varints as numbers, bytes as Buffers). */
function fields(message: Buffer): Map<number, (number | Buffer)[]> {
  const found = new Map<number, (number | Buffer)[]>();
  let position = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[position++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  while (position < message.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      value = message.subarray(position, position + 8);
      position += 8;
    } else if (wire === 2) {
      const size = varint();
      value = message.subarray(position, position + size);
      position += size;
    } else if (wire === 5) {
      value = message.subarray(position, position + 4);
      position += 4;
    } else throw new Error(`protobuf: wire type ${wire} of field ${field}`);
    found.set(field, [...(found.get(field) ?? []), value]);
  }
  return found;
}

/**
 * The series of a `prometheus.WriteRequest` (timeseries = 1; TimeSeries: labels = 1, samples = 2;
 * Label: name = 1, value = 2).
 *
 * @example
 * ```ts
 * decodeWriteRequest(snappyDecode(body)).series[0]!.__name__; // 'up'
 * ```
 */
export function decodeWriteRequest(message: Buffer): { series: Record<string, string>[]; samples: number } {
  const series: Record<string, string>[] = [];
  let samples = 0;
  for (const timeseries of fields(message).get(1) ?? []) {
    const parts = fields(timeseries as Buffer);
    const labels: Record<string, string> = {};
    for (const label of parts.get(1) ?? []) {
      const pair = fields(label as Buffer);
      labels[(pair.get(1)?.[0] as Buffer | undefined)?.toString('utf8') ?? ''] = (pair.get(2)?.[0] as Buffer | undefined)?.toString('utf8') ?? '';
    }
    series.push(labels);
    samples += parts.get(2)?.length ?? 0;
  }
  return { series, samples };
}
