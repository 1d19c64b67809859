/**
 * Child process for the embedded store tests: records `count` events through `embeddedStore`
 * on `dataDir` (joining the folder's store process, or starting it), flushes, and prints one
 * JSON line: its stats and the store's connection string.
 *
 * Usage: node --import tsx test/kpi/embedded-child.ts <dataDir> <count> <event>
 *
 * @example
 * ```ts
 * spawn(process.execPath, ['--import', 'tsx', 'test/kpi/embedded-child.ts', dir, '5000', 'worker_1']);
 * ```
 */
import { Registry } from '../../src/core/registry.js';
import { embeddedStore } from '../../src/kpi/embedded-store.js';
import { createKpi } from '../../src/kpi/kpi.js';

const [dataDir, countText, event] = process.argv.slice(2);
const count = Number(countText);
const store = embeddedStore({ dataDir: dataDir!, idleTimeoutMs: 5000 });
const kpi = createKpi({ registry: new Registry(), events: [event!], store, bufferSize: count + 1, onError: (error) => process.stderr.write(`${error.message}\n`) });
if (!(await kpi.ready({ deadlineMs: 120_000 }))) throw new Error('store did not open');
for (let index = 0; index < count; index++) {
  kpi.record(event!, { user: `u-${index % 10}`, args: { i: index } });
  if (index % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
}
const flushed = await kpi.flush({ deadlineMs: 120_000 });
process.stdout.write(`${JSON.stringify({ flushed, stats: kpi.stats(), connectionString: store.connectionString })}\n`);
await kpi.close();
