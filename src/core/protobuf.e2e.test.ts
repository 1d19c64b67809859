/**
 * The protobuf exposition read back by an independent decoder: Debian's
 * python3-protobuf with metrics.proto (io.prometheus.client, as published by
 * prometheus/client_model) described field by field below, then compared with
 * the text exposition of the same registry.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { samples } from '../../test/support/http.js';
import { escapeLabelValue, formatCanonical } from './format.js';
import { Registry } from './registry.js';

const PYTHON = '/usr/bin/python3';
/** metrics.proto as a FileDescriptorProto; decodes a delimited stream and prints the messages as JSON. */
const DECODE = `
import json, sys
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory, timestamp_pb2
from google.protobuf.internal.decoder import _DecodeVarint32
F = descriptor_pb2.FieldDescriptorProto
file = descriptor_pb2.FileDescriptorProto(name='io/prometheus/client/metrics.proto', package='io.prometheus.client', syntax='proto2',
    dependency=['google/protobuf/timestamp.proto'])
def message(name, *fields):
    m = file.message_type.add(name=name)
    for (fname, number, ftype, label, type_name) in fields:
        f = m.field.add(name=fname, number=number, type=ftype, label=label)
        if type_name: f.type_name = type_name
O, R = F.LABEL_OPTIONAL, F.LABEL_REPEATED
enum = file.enum_type.add(name='MetricType')
for n, v in [('COUNTER', 0), ('GAUGE', 1), ('SUMMARY', 2), ('UNTYPED', 3), ('HISTOGRAM', 4), ('GAUGE_HISTOGRAM', 5)]:
    enum.value.add(name=n, number=v)
P = '.io.prometheus.client.'
message('LabelPair', ('name', 1, F.TYPE_STRING, O, None), ('value', 2, F.TYPE_STRING, O, None))
message('Gauge', ('value', 1, F.TYPE_DOUBLE, O, None))
message('Counter', ('value', 1, F.TYPE_DOUBLE, O, None), ('exemplar', 2, F.TYPE_MESSAGE, O, P + 'Exemplar'),
    ('created_timestamp', 3, F.TYPE_MESSAGE, O, '.google.protobuf.Timestamp'))
message('Quantile', ('quantile', 1, F.TYPE_DOUBLE, O, None), ('value', 2, F.TYPE_DOUBLE, O, None))
message('Summary', ('sample_count', 1, F.TYPE_UINT64, O, None), ('sample_sum', 2, F.TYPE_DOUBLE, O, None),
    ('quantile', 3, F.TYPE_MESSAGE, R, P + 'Quantile'), ('created_timestamp', 4, F.TYPE_MESSAGE, O, '.google.protobuf.Timestamp'))
message('Untyped', ('value', 1, F.TYPE_DOUBLE, O, None))
message('Histogram', ('sample_count', 1, F.TYPE_UINT64, O, None), ('sample_count_float', 4, F.TYPE_DOUBLE, O, None),
    ('sample_sum', 2, F.TYPE_DOUBLE, O, None), ('bucket', 3, F.TYPE_MESSAGE, R, P + 'Bucket'),
    ('created_timestamp', 15, F.TYPE_MESSAGE, O, '.google.protobuf.Timestamp'),
    ('schema', 5, F.TYPE_SINT32, O, None), ('zero_threshold', 6, F.TYPE_DOUBLE, O, None), ('zero_count', 7, F.TYPE_UINT64, O, None),
    ('zero_count_float', 8, F.TYPE_DOUBLE, O, None), ('negative_span', 9, F.TYPE_MESSAGE, R, P + 'BucketSpan'),
    ('negative_delta', 10, F.TYPE_SINT64, R, None), ('negative_count', 11, F.TYPE_DOUBLE, R, None),
    ('positive_span', 12, F.TYPE_MESSAGE, R, P + 'BucketSpan'), ('positive_delta', 13, F.TYPE_SINT64, R, None),
    ('positive_count', 14, F.TYPE_DOUBLE, R, None), ('exemplars', 16, F.TYPE_MESSAGE, R, P + 'Exemplar'))
message('Bucket', ('cumulative_count', 1, F.TYPE_UINT64, O, None), ('cumulative_count_float', 4, F.TYPE_DOUBLE, O, None),
    ('upper_bound', 2, F.TYPE_DOUBLE, O, None), ('exemplar', 3, F.TYPE_MESSAGE, O, P + 'Exemplar'))
message('BucketSpan', ('offset', 1, F.TYPE_SINT32, O, None), ('length', 2, F.TYPE_UINT32, O, None))
message('Exemplar', ('label', 1, F.TYPE_MESSAGE, R, P + 'LabelPair'), ('value', 2, F.TYPE_DOUBLE, O, None),
    ('timestamp', 3, F.TYPE_MESSAGE, O, '.google.protobuf.Timestamp'))
message('Metric', ('label', 1, F.TYPE_MESSAGE, R, P + 'LabelPair'), ('gauge', 2, F.TYPE_MESSAGE, O, P + 'Gauge'),
    ('counter', 3, F.TYPE_MESSAGE, O, P + 'Counter'), ('summary', 4, F.TYPE_MESSAGE, O, P + 'Summary'),
    ('untyped', 5, F.TYPE_MESSAGE, O, P + 'Untyped'), ('histogram', 7, F.TYPE_MESSAGE, O, P + 'Histogram'),
    ('timestamp_ms', 6, F.TYPE_INT64, O, None))
message('MetricFamily', ('name', 1, F.TYPE_STRING, O, None), ('help', 2, F.TYPE_STRING, O, None),
    ('type', 3, F.TYPE_ENUM, O, P + 'MetricType'), ('metric', 4, F.TYPE_MESSAGE, R, P + 'Metric'), ('unit', 5, F.TYPE_STRING, O, None))
pool = descriptor_pool.Default()
pool.Add(file)
descriptor = pool.FindMessageTypeByName('io.prometheus.client.MetricFamily')
MetricFamily = message_factory.GetMessageClass(descriptor) if hasattr(message_factory, 'GetMessageClass') else message_factory.MessageFactory(pool).GetPrototype(descriptor)
data = sys.stdin.buffer.read()
position, families = 0, []
while position < len(data):
    length, position = _DecodeVarint32(data, position)
    family = MetricFamily()
    family.ParseFromString(data[position:position + length])
    position += length
    families.append(json_format.MessageToDict(family, preserving_proto_field_name=True))
json.dump(families, sys.stdout)
`;

type Json = Record<string, unknown>;
interface Decoded {
  name: string;
  help: string;
  type?: string;
  metric: Json[];
}

const hasDecoder = await probe('python3-protobuf (Debian)', () => hasCommand(PYTHON, ['-c', 'import google.protobuf']));

async function decode(registry: Registry): Promise<Decoded[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of registry.renderProtobuf()) chunks.push(chunk);
  const result = spawnSync(PYTHON, ['-c', DECODE], { input: Buffer.concat(chunks), encoding: 'utf8', timeout: 30_000, maxBuffer: 256 * 1024 * 1024 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Decoded[];
}

function labelText(labels: Json[] | undefined, extra = ''): string {
  const pairs = (labels ?? []).map((pair) => `${String(pair['name'])}="${escapeLabelValue(String(pair['value'] ?? ''))}"`);
  if (extra !== '') pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** Absolute bucket index -> count from spans and deltas, as Prometheus reads them. */
function nativeBuckets(spans: Json[] | undefined, deltas: string[] | undefined): Map<number, number> {
  const buckets = new Map<number, number>();
  let index = 0;
  let count = 0;
  let position = 0;
  for (const span of spans ?? []) {
    index += Number(span['offset'] ?? 0);
    for (let step = 0; step < Number(span['length'] ?? 0); step++) {
      count += Number(deltas![position++]);
      if (count !== 0) buckets.set(index, count);
      index++;
    }
  }
  expect(position).toBe(deltas?.length ?? 0);
  return buckets;
}

/** Every value the protobuf carries, as the text format names its samples. */
function asSamples(families: Decoded[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const family of families) {
    for (const metric of family.metric) {
      const labels = metric['label'] as Json[] | undefined;
      const name = family.name;
      const histogram = metric['histogram'] as Json | undefined;
      const summary = metric['summary'] as Json | undefined;
      if (metric['counter'] !== undefined) map.set(name + labelText(labels), Number((metric['counter'] as Json)['value'] ?? 0));
      else if (metric['gauge'] !== undefined) map.set(name + labelText(labels), Number((metric['gauge'] as Json)['value'] ?? 0));
      else if (summary !== undefined) {
        for (const quantile of (summary['quantile'] as Json[] | undefined) ?? []) {
          map.set(name + labelText(labels, `quantile="${formatCanonical(Number(quantile['quantile']))}"`), Number(quantile['value'] ?? 0));
        }
        map.set(`${name}_sum${labelText(labels)}`, Number(summary['sample_sum'] ?? 0));
        map.set(`${name}_count${labelText(labels)}`, Number(summary['sample_count'] ?? 0));
      } else if (histogram !== undefined) {
        for (const bucket of (histogram['bucket'] as Json[] | undefined) ?? []) {
          map.set(`${name}_bucket${labelText(labels, `le="${formatCanonical(Number(bucket['upper_bound']))}"`)}`, Number(bucket['cumulative_count'] ?? 0));
        }
        map.set(`${name}_bucket${labelText(labels, 'le="+Inf"')}`, Number(histogram['sample_count'] ?? 0));
        map.set(`${name}_sum${labelText(labels)}`, Number(histogram['sample_sum'] ?? 0));
        map.set(`${name}_count${labelText(labels)}`, Number(histogram['sample_count'] ?? 0));
      }
    }
  }
  return map;
}

function everyType(): Registry {
  const registry = new Registry({ defaultLabels: { app: 'api' } });
  const requests = registry.counter({ name: 'requests_total', help: 'Requests "served".\nTwo lines.', labelNames: ['route', 'status'] });
  requests.labels({ route: '/a', status: 200 }).inc(41);
  requests.labels({ route: 'q"uote\\back\nslash ü 🚀', status: 500 }).incWithExemplar(2.5, 'trace-1');
  registry.gauge({ name: 'temperature_celsius', help: 'T.', unit: 'celsius' }).set(-12.25);
  const classic = registry.histogram({ name: 'classic_seconds', help: 'C.', buckets: [0.1, 1, 10], labelNames: ['route'] });
  for (const value of [0.05, 0.5, 0.5, 5, 50]) classic.labels({ route: '/a' }).observe(value);
  classic.labels({ route: '/b' }).observeWithExemplar(0.2, 'trace-2');
  const summary = registry.summary({ name: 'payload_bytes', help: 'S.', percentiles: [0.5, 0.99] });
  for (let index = 1; index <= 100; index++) summary.observe(index);
  registry.info({ name: 'build_info', help: 'Build.', labelNames: ['version'] }).set({ version: '1.2.3' });
  registry.stateSet({ name: 'mode', help: 'Mode.', states: ['on', 'off'] }).set('off');
  return registry;
}

describe.skipIf(!hasDecoder)('protobuf exposition read by python3-protobuf', () => {
  it('carries every metric type with the values of the text exposition', async () => {
    const registry = everyType();
    const families = await decode(registry);
    const text = samples(await registry.metrics('text'));
    expect(asSamples(families)).toEqual(text);
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(byName.get('requests_total')).toMatchObject({ help: 'Requests "served".\nTwo lines.', type: 'COUNTER' });
    expect(byName.get('build_info')?.type).toBe('GAUGE');
    expect(byName.get('mode')?.type).toBe('GAUGE');
    expect(byName.get('payload_bytes')?.type).toBe('SUMMARY');
    expect(byName.get('classic_seconds')?.type).toBe('HISTOGRAM');
    // Exemplars: the counter's, and the classic bucket's.
    const counter = byName.get('requests_total')!.metric[1]!['counter'] as Json;
    expect(counter['exemplar']).toMatchObject({ label: [{ name: 'trace_id', value: 'trace-1' }], value: 2.5 });
    const buckets = (byName.get('classic_seconds')!.metric[1]!['histogram'] as Json)['bucket'] as Json[];
    expect(buckets[1]!['exemplar']).toMatchObject({ label: [{ name: 'trace_id', value: 'trace-2' }], value: 0.2 });
  });

  it('encodes native histograms as schema, zero bucket, spans and deltas at exact indexes', async () => {
    const registry = new Registry();
    const native = registry.histogram({ name: 'native_seconds', help: 'N.', native: { schema: 0, zeroThreshold: 0.001 } });
    // schema 0: bucket i is (2^(i-1), 2^i]; the gap between 2 and 16 splits the spans.
    for (const value of [1, 2, 3, 4, 16, 0, 0.0005, -1, -3, Infinity, Number.NaN]) native.observe(value);
    const both = registry.histogram({ name: 'both_seconds', help: 'B.', buckets: [1], native: { schema: 3 }, labelNames: ['route'] });
    both.labels({ route: '/a' }).observe(2);
    registry.histogram({ name: 'empty_seconds', help: 'E.', native: true });
    const families = await decode(registry);
    const histogram = (name: string): Json => families.find((family) => family.name === name)!.metric[0]!['histogram'] as Json;

    const first = histogram('native_seconds');
    expect(first).toMatchObject({ sample_count: '11', sample_sum: 'NaN', zero_threshold: 0.001, zero_count: '2' });
    expect(first['schema']).toBe(0); // proto2: written, so present
    expect(nativeBuckets(first['positive_span'] as Json[], first['positive_delta'] as string[])).toEqual(
      new Map([[0, 1], [1, 1], [2, 2], [4, 1], [1025, 1]]),
    );
    expect(nativeBuckets(first['negative_span'] as Json[], first['negative_delta'] as string[])).toEqual(new Map([[0, 1], [2, 1]]));

    const second = histogram('both_seconds');
    expect(second).toMatchObject({ schema: 3, sample_count: '1', bucket: [{ cumulative_count: '0', upper_bound: 1 }] });
    expect(nativeBuckets(second['positive_span'] as Json[], second['positive_delta'] as string[])).toEqual(new Map([[8, 1]]));

    // No observation yet: one empty span marks it native for Prometheus.
    expect(histogram('empty_seconds')).toMatchObject({ schema: 3, positive_span: [{}] });
  });
});
