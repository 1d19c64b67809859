/**
 * The merged cluster answer, in every gauge mode and both formats, checked by
 * `promtool check metrics` and the strict OpenMetrics parser. Two real
 * node:cluster workers (with runtime metrics and label values that need
 * escaping) plus the primary's own registry under other default labels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkWorker, killAll } from '../../test/cluster/fork.js';
import { hasCommand, probe } from '../../test/support/e2e.js';
import { hasOpenMetricsParser, parseOpenMetrics, promtoolCheckMetrics } from '../../test/support/validators.js';
import { Registry } from '../core/registry.js';
import { registerRuntimeMetrics } from '../core/runtime.js';
import type { GaugeMode } from './merge.js';
import { clusterPrimary } from './primary.js';

const hasPromtool = await probe('promtool (Debian prometheus)', () => hasCommand('promtool', ['--version']));
const hasParser = await probe('python3-prometheus-client OpenMetrics parser', () => hasOpenMetricsParser());

describe.skipIf(!hasPromtool && !hasParser)('the merged cluster answer passes the strict parsers', () => {
  const primaryRegistry = new Registry({ defaultLabels: { role: 'primary' } });
  registerRuntimeMetrics(primaryRegistry);

  beforeAll(async () => {
    for (let index = 0; index < 2; index++) await forkWorker('normal');
  });

  afterAll(async () => {
    await killAll();
  });

  it.each(['sum', 'max', 'min', 'worker'] as GaugeMode[])('gauges by %s', async (mode) => {
    const primary = clusterPrimary({ gauges: mode, registry: primaryRegistry, timeoutMs: 10_000 });
    try {
      const text = await primary.registry.metrics('text');
      const openMetrics = await primary.registry.metrics('openmetrics');
      expect(text).toContain('http_requests_total{route="/a",status="200"} 30\n');
      expect(text).toContain('tricky_total{value="q\\"uote\\\\ new\\nline \u00fc \u2028"} 3\n');
      expect(text).toContain('lookout_cluster_workers_missing 0\n');
      if (mode === 'worker') expect(text).toMatch(/^http_requests_in_flight\{method="GET",worker="2"\} 2$/m);
      if (hasPromtool) {
        const verdict = promtoolCheckMetrics(text);
        expect(verdict.output).toBe('');
        expect(verdict.status).toBe(0);
      }
      if (hasParser) {
        const families = parseOpenMetrics(openMetrics);
        const names = new Map(families.map(([name, type]) => [name, type]));
        expect(names.get('http_requests')).toBe('counter');
        expect(names.get('payload_bytes')).toBe('summary');
        expect(names.get('model_state')).toBe('stateset');
        expect(names.get('nodejs_version')).toBe('info');
        expect(names.get('process_cpu_seconds')).toBe('counter');
      }
    } finally {
      primary.close();
    }
  });
});
