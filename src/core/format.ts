/**
 * Text helpers shared by both exposition formats. Numbers follow the Go
 * spelling Prometheus parsers expect (`+Inf`, `-Inf`, `NaN`).
 */

/**
 * Formats a sample value.
 *
 * @example
 * ```ts
 * formatValue(Infinity); // '+Inf'
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? '+Inf' : '-Inf';
}

/**
 * Formats a bucket bound or quantile the canonical OpenMetrics way: integers
 * carry `.0` (`1.0`), infinity is `+Inf`.
 *
 * @example
 * ```ts
 * formatCanonical(1); // '1.0'
 * formatCanonical(0.25); // '0.25'
 * ```
 */
export function formatCanonical(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  const text = String(value);
  return Number.isInteger(value) && !text.includes('e') ? `${text}.0` : text;
}

const NEEDS_LABEL_ESCAPE = /[\\"\n]/;

/**
 * Escapes a label value (`\`, `"`, newline), the same in both formats.
 * Invalid UTF-16 (lone surrogates) becomes U+FFFD so that the output is valid UTF-8.
 *
 * @example
 * ```ts
 * escapeLabelValue('a "b"'); // 'a \\"b\\"'
 * ```
 */
export function escapeLabelValue(value: string): string {
  const text = wellFormed(value);
  if (!NEEDS_LABEL_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/**
 * `text` with every lone surrogate replaced by U+FFFD: what UTF-8 output carries.
 *
 * @example
 * ```ts
 * wellFormed('a\uD800'); // 'a\uFFFD'
 * ```
 */
export function wellFormed(text: string): string {
  return isWellFormed(text) ? text : toWellFormed(text);
}

/**
 * Escapes HELP text. Text format 0.0.4 escapes `\` and newline; OpenMetrics
 * also escapes `"`.
 *
 * @example
 * ```ts
 * escapeHelp('line\nbreak', false); // 'line\\nbreak'
 * ```
 */
export function escapeHelp(help: string, openMetrics: boolean): string {
  const escaped = wellFormed(help).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return openMetrics ? escaped.replace(/"/g, '\\"') : escaped;
}

/**
 * Renders `name="value",...` (no braces) for label names and values.
 *
 * @example
 * ```ts
 * labelPairs(['method', 'route'], ['GET', '/users/:id']); // 'method="GET",route="/users/:id"'
 * ```
 */
export function labelPairs(names: readonly string[], values: readonly string[]): string {
  let text = '';
  for (let index = 0; index < names.length; index++) {
    if (index > 0) text += ',';
    text += `${names[index]}="${escapeLabelValue(values[index] ?? '')}"`;
  }
  return text;
}

/** Joins two `a="b"` lists, either of which may be empty. */
export function joinPairs(left: string, right: string): string {
  if (left === '') return right;
  if (right === '') return left;
  return `${left},${right}`;
}

/** Wraps pairs in braces, or nothing at all when there are none. */
export function braces(pairs: string): string {
  return pairs === '' ? '' : `{${pairs}}`;
}

type WellFormedString = string & { isWellFormed?: () => boolean; toWellFormed?: () => string };

function isWellFormed(text: string): boolean {
  const candidate = text as WellFormedString;
  if (typeof candidate.isWellFormed === 'function') return candidate.isWellFormed();
  return !/[\uD800-\uDFFF]/.test(text) || toWellFormed(text) === text;
}

function toWellFormed(text: string): string {
  const candidate = text as WellFormedString;
  if (typeof candidate.toWellFormed === 'function') return candidate.toWellFormed();
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
