// The CI-sized scale benchmark (bench/slo-scale.ts): the current SLO rules on 30 days of step
// recordings evaluate in a small share of their interval without a missed iteration, and read
// far fewer samples than the rules before issue 26 did on 6 hours of raw data.
import { describe, expect, it } from 'vitest';
import { runSloScaleCase } from '../bench/slo-scale.js';
import { hasCommand, probe } from './support/e2e.js';

const available = await probe('prometheus and promtool', () => hasCommand('prometheus', ['--version']) && hasCommand('promtool', ['--version']));

describe.skipIf(!available)('SLO rules at scale, CI size (real Prometheus, backfilled)', () => {
  it('current rules: 30 label sets, 30 days of recordings: every group under 10% of its interval, none missed', async () => {
    const { costs, intervalSeconds } = await runSloScaleCase({ rules: 'new', labelSets: 30, rawSeconds: 3600, recordedSeconds: 30 * 86_400 });
    expect(costs.map((cost) => cost.group)).toEqual(['inference-api-sli', 'inference-api-sli-long', 'inference-api-slo-alerts']);
    for (const cost of costs) {
      expect(cost.missed, cost.group).toBe(0);
      expect(cost.seconds, cost.group).toBeLessThan(intervalSeconds * 0.1);
    }
    // The group reading raw series reads 30 label sets x 4 series x ~5 samples per step rule, plus
    // up to 6h of 1m recordings: not 30 days of anything.
    expect(costs[0]!.samples).toBeLessThan(10_000);
    // 30 days of 1m recordings (43,201 per series) per long-window ratio.
    expect(costs[1]!.samples).toBeGreaterThan(43_200 * 4);
    const old = await runSloScaleCase({ rules: 'old', labelSets: 30, rawSeconds: 6 * 3600 });
    // Before issue 26 the SLI group read every raw sample of every window from the raw series.
    expect(old.costs[0]!.samples).toBeGreaterThan(costs[0]!.samples * 100);
  }, 300_000);
});
