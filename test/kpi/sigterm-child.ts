/**
 * Child process for the SIGTERM flush tests: records events that stay
 * pending (no size or interval flush can happen), prints `recorded`, then
 * idles like a server until a signal arrives.
 *
 * Usage: node --import tsx test/kpi/sigterm-child.ts <postgres|pglite> <schema|dataDir> <count> [pgUrl]
 *
 * @example
 * ```ts
 * spawn(process.execPath, ['--import', 'tsx', 'test/kpi/sigterm-child.ts', 'pglite', dir, '20000']);
 * ```
 */
import { Registry } from '../../src/core/registry.js';
import { createKpi } from '../../src/kpi/kpi.js';
import { pgStore } from '../../src/kpi/pg-store.js';
import { pgliteStore } from '../../src/kpi/pglite-store.js';

const [kind, target, countText, pgUrl] = process.argv.slice(2);
const count = Number(countText);
const store = kind === 'pglite' ? pgliteStore({ dataDir: target! }) : pgStore({ connectionString: pgUrl!, schema: target! });
const kpi = createKpi({
  registry: new Registry(),
  events: ['good_inference'],
  store,
  bufferSize: count + 1,
  batchSize: count + 1,
  flushIntervalMs: 600_000,
  handleSignals: { deadlineMs: 20_000 },
  onError: (error) => process.stderr.write(`${error.message}\n`),
});
if (!(await kpi.ready({ deadlineMs: 20_000 }))) throw new Error('store did not open');
for (let index = 0; index < count; index++) kpi.record('good_inference', { user: `u-${index % 10}`, args: { i: index } });
process.stdout.write(`recorded ${kpi.stats().pending}\n`);
setInterval(() => undefined, 60_000); // a server would keep the process alive
