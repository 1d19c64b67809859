/**
 * A protobuf writer for Prometheus's `io.prometheus.client` messages
 * (metrics.proto), written straight into one growing byte buffer: no message
 * objects. Nested messages reserve one length byte and shift their body in
 * the rare case it is 128 bytes or longer.
 */
import { infinityIndex, type BucketWindow, type NativeBuckets } from './native.js';

/** Content-Type of the delimited protobuf exposition. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';

/** metrics.proto's MetricType. */
export const ProtoMetricType = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

/** Field numbers of metrics.proto used by lookout. */
export const Field = {
  familyName: 1, familyHelp: 2, familyType: 3, familyMetric: 4, familyUnit: 5,
  labelName: 1, labelValue: 2,
  metricLabel: 1, metricGauge: 2, metricCounter: 3, metricSummary: 4, metricHistogram: 7,
  value: 1, counterExemplar: 2,
  summaryCount: 1, summarySum: 2, summaryQuantile: 3, quantileQuantile: 1, quantileValue: 2,
  histogramCount: 1, histogramSum: 2, histogramBucket: 3, histogramSchema: 5, histogramZeroThreshold: 6, histogramZeroCount: 7,
  histogramNegativeSpan: 9, histogramNegativeDelta: 10, histogramPositiveSpan: 12, histogramPositiveDelta: 13,
  bucketCumulativeCount: 1, bucketUpperBound: 2, bucketExemplar: 3,
  spanOffset: 1, spanLength: 2,
  exemplarLabel: 1, exemplarValue: 2, exemplarTimestamp: 3, timestampSeconds: 1, timestampNanos: 2,
} as const;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH = 2;
const encoder = new TextEncoder();

/**
 * Appends protobuf fields to a byte buffer.
 *
 * @example
 * ```ts
 * const writer = new ProtoWriter();
 * const family = writer.beginDelimited();
 * writer.string(1, 'up');
 * writer.end(family);
 * const bytes = writer.take();
 * ```
 */
export class ProtoWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private position = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buffer = new Uint8Array(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.position;
  }

  /** The bytes written so far, then starts over with a fresh buffer (the returned bytes stay valid). */
  take(): Uint8Array {
    const bytes = this.buffer.subarray(0, this.position);
    this.buffer = new Uint8Array(Math.max(this.buffer.length, 1024));
    this.view = new DataView(this.buffer.buffer);
    this.position = 0;
    return bytes;
  }

  /** An unsigned varint (0 .. 2^53). */
  varint(value: number): void {
    this.reserve(10);
    const buffer = this.buffer;
    let position = this.position;
    while (value > 0x7f) {
      buffer[position++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    buffer[position++] = value;
    this.position = position;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  uint(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  /** sint32/sint64 (zigzag). */
  sint(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(zigzag(value));
  }

  double(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.reserve(8);
    this.view.setFloat64(this.position, value, true);
    this.position += 8;
  }

  string(field: number, text: string): void {
    this.tag(field, LENGTH);
    this.raw(encoder.encode(text), true);
  }

  /** Bytes as they are (`delimited` prefixes their length). */
  raw(bytes: Uint8Array, delimited = false): void {
    if (delimited) this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.position);
    this.position += bytes.length;
  }

  /** Starts a nested message; pass the result to `end`. */
  begin(field: number): number {
    this.tag(field, LENGTH);
    return this.beginDelimited();
  }

  /** Starts a length-prefixed message with no tag (a delimited stream entry). */
  beginDelimited(): number {
    this.reserve(1);
    return this.position++;
  }

  /** Writes the length of the message started at `start`. */
  end(start: number): void {
    const length = this.position - start - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.reserve(size - 1);
      this.buffer.copyWithin(start + size, start + 1, this.position);
      this.position += size - 1;
    }
    const end = this.position;
    this.position = start;
    this.varint(length);
    this.position = end;
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.position + bytes));
    next.set(this.buffer.subarray(0, this.position));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/**
 * `LabelPair` fields (`field` 1 of Metric, or of Exemplar) for names and values, encoded once per series.
 *
 * @example
 * ```ts
 * encodeLabels(['method'], ['GET']);
 * ```
 */
export function encodeLabels(names: readonly string[], values: readonly string[]): Uint8Array {
  const writer = new ProtoWriter(64);
  for (let index = 0; index < names.length; index++) {
    const pair = writer.begin(Field.metricLabel);
    writer.string(Field.labelName, names[index]!);
    writer.string(Field.labelValue, values[index] ?? '');
    writer.end(pair);
  }
  return writer.take();
}

/**
 * An `Exemplar` message with a `trace_id` label.
 *
 * @example
 * ```ts
 * writeExemplar(writer, 2, 'abc', 0.12, 1700000000.5);
 * ```
 */
export function writeExemplar(writer: ProtoWriter, field: number, traceId: string, value: number, timestampSeconds: number): void {
  const exemplar = writer.begin(field);
  const pair = writer.begin(Field.exemplarLabel);
  writer.string(Field.labelName, 'trace_id');
  writer.string(Field.labelValue, traceId);
  writer.end(pair);
  writer.double(Field.exemplarValue, value);
  const timestamp = writer.begin(Field.exemplarTimestamp);
  const seconds = Math.floor(timestampSeconds);
  writer.uint(Field.timestampSeconds, seconds);
  const nanos = Math.round((timestampSeconds - seconds) * 1e9);
  if (nanos > 0) writer.uint(Field.timestampNanos, Math.min(nanos, 999_999_999));
  writer.end(timestamp);
  writer.end(exemplar);
}

/**
 * The native fields of a `Histogram` message: schema, zero bucket, and each
 * sign's buckets as spans (offset from the previous span's end) and deltas
 * (each count minus the previous one), as metrics.proto defines them.
 *
 * @example
 * ```ts
 * writeNativeBuckets(writer, series.native);
 * ```
 */
export function writeNativeBuckets(writer: ProtoWriter, native: NativeBuckets): void {
  writer.sint(Field.histogramSchema, native.schema);
  writer.double(Field.histogramZeroThreshold, native.zeroThreshold);
  writer.uint(Field.histogramZeroCount, native.zeroCount);
  const infinity = infinityIndex(native.schema);
  const negative = writeSpans(writer, Field.histogramNegativeSpan, native.negative, infinity, native.negativeInfinity);
  const positive = writeSpans(writer, Field.histogramPositiveSpan, native.positive, infinity, native.positiveInfinity);
  if (!negative && !positive && native.zeroCount === 0) {
    // No bucket yet: an empty span still tells Prometheus this is a native histogram (as client_golang does).
    const span = writer.begin(Field.histogramPositiveSpan);
    writer.sint(Field.spanOffset, 0);
    writer.uint(Field.spanLength, 0);
    writer.end(span);
  }
  if (negative) writeDeltas(writer, Field.histogramNegativeDelta, native.negative, infinity, native.negativeInfinity);
  if (positive) writeDeltas(writer, Field.histogramPositiveDelta, native.positive, infinity, native.positiveInfinity);
}

/** Spans of populated buckets; a gap of one or two empty buckets is cheaper as zero deltas, as client_golang does. */
function writeSpans(writer: ProtoWriter, field: number, window: BucketWindow, infinity: number, infinityCount: number): boolean {
  const counts = window.counts;
  let previousEnd = 0;
  let spanStart = Number.NaN;
  let spanEnd = 0;
  let any = false;
  const flush = (): void => {
    const span = writer.begin(field);
    writer.sint(Field.spanOffset, spanStart - previousEnd);
    writer.uint(Field.spanLength, spanEnd - spanStart);
    writer.end(span);
    previousEnd = spanEnd;
  };
  for (let slot = 0; slot < counts.length; slot++) {
    if (counts[slot] === 0) continue;
    const index = window.offset + slot;
    if (!any) {
      spanStart = index;
    } else if (index - spanEnd > 2) {
      flush();
      spanStart = index;
    }
    spanEnd = index + 1;
    any = true;
  }
  if (infinityCount > 0) {
    if (!any) spanStart = infinity;
    else if (infinity - spanEnd > 2) {
      flush();
      spanStart = infinity;
    }
    spanEnd = infinity + 1;
    any = true;
  }
  if (any) flush();
  return any;
}

/** Deltas over the same buckets `writeSpans` covered (gaps inside a span count as zero). */
function writeDeltas(writer: ProtoWriter, field: number, window: BucketWindow, infinity: number, infinityCount: number): void {
  const counts = window.counts;
  const packed = writer.begin(field);
  let previous = 0;
  let lastIndex = Number.NaN;
  const emit = (index: number, count: number): void => {
    if (index - lastIndex <= 3) {
      for (let gap = lastIndex + 1; gap < index; gap++) {
        writer.varint(zigzag(0 - previous));
        previous = 0;
      }
    }
    writer.varint(zigzag(count - previous));
    previous = count;
    lastIndex = index;
  };
  for (let slot = 0; slot < counts.length; slot++) {
    const count = counts[slot]!;
    if (count !== 0) emit(window.offset + slot, count);
  }
  if (infinityCount > 0) emit(infinity, infinityCount);
  writer.end(packed);
}
