import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './protobuf.js';
import { Registry } from './registry.js';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

describe('ProtoWriter', () => {
  it('writes varints, zigzag and doubles as protobuf defines them', () => {
    const writer = new ProtoWriter(4);
    writer.uint(1, 150);
    writer.sint(2, -1);
    writer.sint(2, 1);
    writer.sint(2, -64);
    writer.uint(3, 2 ** 40);
    writer.double(4, 1);
    expect(hex(writer.take())).toBe('089601' + '1001' + '1002' + '107f' + '18808080808020' + '21000000000000f03f');
  });

  it('prefixes nested messages with their length, shifting bodies of 128 bytes or more', () => {
    const writer = new ProtoWriter(8);
    const outer = writer.begin(1);
    const inner = writer.begin(2);
    writer.string(3, 'x'.repeat(200));
    writer.end(inner);
    writer.end(outer);
    const bytes = writer.take();
    // 0a <len 206> 12 <len 203> 1a <len 200> x...
    expect(hex(bytes.subarray(0, 10))).toBe('0a' + 'ce01' + '12' + 'cb01' + '1a' + 'c801' + '78');
    expect(bytes.length).toBe(3 + 3 + 3 + 200);
  });
});

describe('Registry.renderProtobuf', () => {
  it('writes one delimited family per metric with series, and yields in chunks for big registries', async () => {
    const registry = new Registry();
    const histogram = registry.histogram({ name: 'h_seconds', help: 'H.', labelNames: ['id'], native: true });
    for (let id = 0; id < 3000; id++) histogram.labels({ id }).observe(id / 1000);
    const chunks: Uint8Array[] = [];
    for await (const chunk of registry.renderProtobuf()) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    // The first family is the histogram (the registry's own counters have no series yet and are left out).
    let length = 0;
    let shift = 0;
    let position = 0;
    for (;;) {
      const byte = bytes[position++]!;
      length += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    expect(position + length).toBe(bytes.length);
    expect(bytes.subarray(position, position + 11).toString('latin1')).toBe('\n\th_seconds');
  });

  it('is not offered when prom-client registries are merged in', () => {
    const registry = new Registry();
    expect(registry.protobufCapable).toBe(true);
    registry.mergePromClient({ metrics: async () => '', getMetricsAsJSON: async () => [] } as never);
    expect(registry.protobufCapable).toBe(false);
  });
});
