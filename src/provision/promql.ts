/**
 * Small PromQL text helpers shared by the rules and the dashboards.
 */

/**
 * A label matcher list `{a="x", b=~"y"}`; values are written as given (they may hold Grafana variables).
 *
 * @example
 * ```ts
 * selector({ job: '"api"', route: '~"$route"' }); // '{job="api", route=~"$route"}'
 * ```
 */
export function selector(matchers: Readonly<Record<string, string>>): string {
  const parts = Object.entries(matchers).map(([name, rest]) => `${name}=${rest}`);
  return `{${parts.join(', ')}}`;
}

/**
 * The `le` label value the contract's histograms write for a bucket bound
 * (`1` → `1.0`, `0.5` → `0.5`), as OpenMetrics canonical numbers.
 *
 * @example
 * ```ts
 * leLabel(1); // '1.0'
 * ```
 */
export function leLabel(bound: number): string {
  if (bound === Infinity) return '+Inf';
  const text = String(bound);
  return Number.isInteger(bound) && !text.includes('e') ? `${text}.0` : text;
}

/**
 * A number without binary noise (`1 - 0.999` → `0.001`), for rule and panel text.
 *
 * @example
 * ```ts
 * number(1 - 0.999); // '0.001'
 * ```
 */
export function number(value: number): string {
  return String(Number(value.toPrecision(12)));
}

/**
 * The error budget of an objective: `1 - objective`, without binary noise.
 *
 * @example
 * ```ts
 * errorBudget(0.999); // 0.001
 * ```
 */
export function errorBudget(objective: number): number {
  return Number((1 - objective).toPrecision(12));
}

/**
 * Prometheus duration text → seconds (`1h30m` → 5400); units ms s m h d w y.
 *
 * @example
 * ```ts
 * durationSeconds('6h'); // 21600
 * ```
 */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, y: 31_536_000 };
  let total = 0;
  for (const match of text.matchAll(/([0-9]+)(ms|s|m|h|d|w|y)/g)) total += Number(match[1]) * units[match[2]!]!;
  return total;
}
