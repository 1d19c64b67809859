/** The two strict outside judges of our exposition: promtool and prometheus_client's OpenMetrics parser. */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs promtool with `args` in `cwd`; returns its exit code and combined output instead of throwing. */
export async function promtool(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

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
