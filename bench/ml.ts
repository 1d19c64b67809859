/**
 * `lookout/ml` micro-benchmark: what `monitor.observe(input, output)` costs on the request path
 * for 2 numeric + 1 categorical feature and one prediction (class + confidence), the drift
 * refresh the registry runs at scrape time, and the memory each monitored feature holds.
 * Same process, interleaved rounds of 1,000,000 observes over 1,024 prepared inputs.
 *
 *   npx tsx bench/ml.ts            (BENCH_ONLY=ml npm run bench writes the BENCHMARKS.md section)
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { Registry } from '../src/index.js';
import { createModelMonitor, fitReference, type FeatureSpec, type ReferenceRow } from '../src/ml/index.js';
import { emit, median, ROUNDS, spread } from './lib.js';

const OPS = 1_000_000;
const FEATURES: FeatureSpec[] = [
  { name: 'amount', kind: 'numeric' },
  { name: 'age', kind: 'numeric' },
  { name: 'region', kind: 'categorical' },
];
const CLASSES = ['ok', 'review', 'fraud'];
const REGIONS = ['eu', 'us', 'apac', 'latam'];

function rows(size: number, seed: number): ReferenceRow[] {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: size }, () => ({
    input: { amount: random() * 100, age: 18 + random() * 60, region: REGIONS[Math.floor(random() * REGIONS.length)]! },
    output: { label: CLASSES[Math.floor(random() * CLASSES.length)]!, confidence: 0.34 + random() * 0.66 },
  }));
}

function timeNs(body: () => void): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / OPS;
}

/** Runs the benchmark; returns markdown table rows. */
export function runMlBench(): { rows: string[]; header: string[] } {
  const reference = fitReference({ features: FEATURES, classes: CLASSES }, rows(5000, 1), { bins: 10 });
  const registry = new Registry();
  const monitor = createModelMonitor({ registry, model: { name: 'bench', version: '1' }, features: FEATURES, predictions: { classes: CLASSES }, reference });
  const traffic = rows(1024, 2);
  const inputs = traffic.map((row) => row.input);
  const outputs = traffic.map((row) => row.output);
  // The floor: the same loop reading the same fields, so the row shows what observe adds to it.
  // A typed-array cell: a captured `let` number would allocate a heap number per addition.
  const sink = new Float64Array(1);
  const loops = {
    observe: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) monitor.observe(inputs[index & 1023], outputs[index & 1023]);
    }),
    floor: () => timeNs(() => {
      for (let index = 0; index < OPS; index++) {
        const input = inputs[index & 1023]!;
        sink[0]! += (input['amount'] as number) + (outputs[index & 1023]!.confidence ?? 0);
      }
    }),
  };
  const results: Record<string, number[]> = { observe: [], floor: [] };
  for (const run of Object.values(loops)) run();
  // Garbage collections while observe runs: none means observe allocated nothing.
  let gcs = 0;
  let observing = false;
  const gcObserver = new PerformanceObserver((list) => {
    if (observing) gcs += list.getEntries().length;
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(loops)) {
      observing = name === 'observe';
      results[name]!.push(run());
      observing = false;
    }
  }
  gcObserver.disconnect();
  const refreshes: number[] = [];
  for (let round = 0; round < ROUNDS * 20; round++) {
    const start = process.hrtime.bigint();
    monitor.refresh();
    refreshes.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const memory = monitor.memoryBytes();
  monitor.close();
  const observe = median(results['observe']!);
  emit({ bench: 'ml-observe', unit: 'ns/op', observe, floor: median(results['floor']!), refreshMicros: median(refreshes), memory, gcDuringObserve: gcs, sink: sink[0]! > 0 });
  const memoryText = Object.entries(memory).map(([name, bytes]) => `${name} ${bytes.toLocaleString('en-US')} B`).join(', ');
  return {
    header: ['| what | median (spread) |', '|---|---|'],
    rows: [
      `| \`monitor.observe(input, output)\`: 2 numeric + 1 categorical feature, class + confidence (bins, window row, class counter, confidence histogram) | **${observe.toFixed(1)} ns** (${spread(results['observe']!, 1)}); garbage collections during ${ROUNDS}M observes: ${gcs} |`,
      `| the loop alone, reading the same inputs (floor) | ${median(results['floor']!).toFixed(1)} ns (${spread(results['floor']!, 1)}) |`,
      `| \`monitor.refresh()\` (what a scrape adds: window sum, PSI / KS / JS for 3 features + predictions, gauges set) | ${median(refreshes).toFixed(1)} µs (${spread(refreshes, 1)}) |`,
      `| memory per monitored feature (10 reference bins, 10 intervals of 60 s), fixed whatever the traffic | ${memoryText} |`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { header, rows: tableRows } = runMlBench();
  console.log([...header, ...tableRows].join('\n'));
}
