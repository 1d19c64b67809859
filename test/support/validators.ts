/** The two strict outside judges of our exposition: promtool and prometheus_client's OpenMetrics parser. */
import { spawnSync } from 'node:child_process';

/** Runs `promtool check metrics` on text; returns its combined output ('' when clean) and exit status. */
export function promtoolCheckMetrics(text: string): { output: string; status: number | null } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return { output: `${result.stdout}${result.stderr}`.trim(), status: result.status };
}

const PARSER = `
import sys, json
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(sys.stdin.read()))
print(json.dumps([[f.name, f.type, len(f.samples), sum(1 for s in f.samples if s.exemplar)] for f in families]))
`;

/** Debian's python3-prometheus-client lives beside /usr/bin/python3, not a pyenv python. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/**
 * Parses OpenMetrics text with prometheus_client's strict parser.
 * Returns families as [name, type, samples, exemplars]; throws with the parser's message on invalid input.
 */
export function parseOpenMetrics(text: string): [string, string, number, number][] {
  const result = spawnSync(SYSTEM_PYTHON, ['-c', PARSER], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) throw new Error(`OpenMetrics parser rejected the text: ${result.stderr.trim().split('\n').pop()}`);
  return JSON.parse(result.stdout) as [string, string, number, number][];
}

/** True when the strict OpenMetrics parser can be run here. */
export function hasOpenMetricsParser(): boolean {
  return spawnSync(SYSTEM_PYTHON, ['-c', 'import prometheus_client.openmetrics.parser'], { timeout: 10_000 }).status === 0;
}
