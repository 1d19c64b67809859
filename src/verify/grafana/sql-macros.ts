/**
 * The PostgreSQL datasource's back-end expansion: sqleng's global pass, then the macro engine of
 * pkg/tsdb/grafana-postgresql-datasource/macros.go. See GRAFANA-QUERIES.md §1.
 */
import { LookoutError } from '../../core/errors.js';
import { formatInterval } from './intervals.js';

/**
 * A query time range in epoch milliseconds (what the front end sends as `from`/`to`).
 *
 * @example
 * ```ts
 * const range: TimeRange = { fromMs: 1704067200000, toMs: 1704088800000 };
 * ```
 */
export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * A fill mode set by a third `$__timeGroup` argument; it changes the returned frame, not the SQL.
 *
 * @example
 * ```ts
 * const fill: FillMode = { mode: 'value', value: 0, intervalMs: 60000 };
 * ```
 */
export interface FillMode {
  readonly mode: 'null' | 'previous' | 'value';
  readonly value?: number;
  readonly intervalMs: number;
}

/**
 * Go `time.RFC3339Nano` in UTC for an epoch in ms: `Z` suffix, fraction only when non-zero, trailing zeros trimmed.
 *
 * @example
 * ```ts
 * rfc3339Nano(1704067200500); // '2024-01-01T00:00:00.5Z'
 * ```
 */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_, fraction: string) => (fraction === '000' ? 'Z' : `.${fraction.replace(/0+$/, '')}Z`));
}

/**
 * Go `fmt` `%v` of a float64 (shortest digits; exponent form below 1e-4 or from 1e6 on, as `1.2096e+06`).
 *
 * @example
 * ```ts
 * goFloat(604800); // '604800'
 * ```
 */
export function goFloat(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-4 || magnitude >= 1e6)) {
    const [mantissa, power] = value.toExponential().split('e') as [string, string];
    const sign = power.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${power.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return String(value);
}

/**
 * `gtime.ParseInterval` as the macros use it: Go durations, or `N` + `d w M y` counted on the UTC calendar from `now`.
 *
 * @example
 * ```ts
 * parseMacroInterval('5m'); // 300000
 * ```
 */
export function parseMacroInterval(text: string, nowMs: number = Date.now()): number {
  const calendar = /^(\d+)([dwMy])$/.exec(text);
  if (calendar !== null) {
    const count = Number(calendar[1]);
    const later = new Date(nowMs);
    if (calendar[2] === 'd') later.setUTCDate(later.getUTCDate() + count);
    if (calendar[2] === 'w') later.setUTCDate(later.getUTCDate() + count * 7);
    if (calendar[2] === 'M') later.setUTCMonth(later.getUTCMonth() + count);
    if (calendar[2] === 'y') later.setUTCFullYear(later.getUTCFullYear() + count);
    return later.getTime() - nowMs;
  }
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  if (text === '0') return 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (match === null) throw new Error(`time: invalid duration "${text}"`);
    total += Number(match[1]) * units[match[2]!]!;
    index = part.lastIndex;
  }
  if (text.length === 0) throw new Error('time: invalid duration ""');
  return total;
}

/**
 * sqleng's global pass (plain replaces, in this order): `$__interval_ms`, `$__interval`,
 * `$__unixEpochFrom()`, `$__unixEpochTo()`.
 *
 * @example
 * ```ts
 * sqlGlobalPass('LIMIT $__interval_ms', range, 60000); // 'LIMIT 60000'
 * ```
 */
export function sqlGlobalPass(sql: string, range: TimeRange, intervalMs: number): string {
  return sql
    .replaceAll('$__interval_ms', String(Math.trunc(intervalMs)))
    .replaceAll('$__interval', formatInterval(intervalMs))
    .replaceAll('$__unixEpochFrom()', String(Math.floor(range.fromMs / 1000)))
    .replaceAll('$__unixEpochTo()', String(Math.floor(range.toMs / 1000)));
}

const MACRO = /\$([_a-zA-Z0-9]+)\(([^)]*)\)/g;

/**
 * The PostgreSQL macro engine. Throws `LOOKOUT_E_VERIFY_MACRO` with Grafana's own message for an
 * unknown macro or bad arguments (Grafana fails the query the same way).
 *
 * @example
 * ```ts
 * expandPostgresMacros('WHERE $__timeFilter(ts)', range).sql; // "WHERE ts BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T06:00:00Z'"
 * ```
 */
export function expandPostgresMacros(sql: string, range: TimeRange, options: { readonly timescaledb?: boolean; readonly nowMs?: number } = {}): { sql: string; fill: FillMode | undefined } {
  let fill: FillMode | undefined;
  let firstError: string | undefined;
  const expanded = sql.replace(MACRO, (whole, name: string, rawArgs: string) => {
    let macro = name;
    // Pre-5.3 compatibility: `$__timeGroup(...)` directly followed by ',' (first textual occurrence) gets an alias.
    if (macro === '__timeGroup') {
      const index = sql.indexOf(whole);
      if (index >= 0 && sql[index + whole.length] === ',') macro = '__timeGroupAlias';
    }
    const args = rawArgs.split(',').map((arg) => arg.replace(/^ +| +$/g, ''));
    try {
      const result = evaluate(macro, args, range, options);
      if (result.fill !== undefined) fill = result.fill;
      return result.text;
    } catch (error) {
      firstError ??= (error as Error).message;
      return 'macro_error()';
    }
  });
  if (firstError !== undefined) throw new LookoutError('LOOKOUT_E_VERIFY_MACRO', firstError);
  return { sql: expanded, fill };
}

function evaluate(name: string, args: string[], range: TimeRange, options: { readonly timescaledb?: boolean; readonly nowMs?: number }): { text: string; fill?: FillMode } {
  const column = () => {
    if (args.length === 0) throw new Error(`missing time column argument for macro ${name}`);
    return args[0]!;
  };
  const from = rfc3339Nano(range.fromMs);
  const to = rfc3339Nano(range.toMs);
  switch (name) {
    case '__time':
      return { text: `${column()} AS "time"` };
    case '__timeEpoch':
      return { text: `extract(epoch from ${column()}) as "time"` };
    case '__timeFilter':
      return { text: `${column()} BETWEEN '${from}' AND '${to}'` };
    case '__timeFrom':
      return { text: `'${from}'` };
    case '__timeTo':
      return { text: `'${to}'` };
    case '__timeGroup':
    case '__unixEpochGroup': {
      if (args.length < 2) throw new Error(`macro ${name} needs time column and interval and optional fill value`);
      let intervalMs: number;
      try {
        intervalMs = parseMacroInterval(args[1]!.replace(/^'+|'+$/g, ''), options.nowMs);
      } catch {
        throw new Error(`error parsing interval ${args[1]}`);
      }
      const fill = args.length === 3 ? fillMode(args[2]!, intervalMs) : undefined;
      const seconds = goFloat(intervalMs / 1000);
      let text: string;
      if (name === '__unixEpochGroup') text = `floor((${args[0]})/${seconds})*${seconds}`;
      else if (options.timescaledb === true) text = `time_bucket('${(intervalMs / 1000).toFixed(3)}s',${args[0]})`;
      else text = `floor(extract(epoch from ${args[0]})/${seconds})*${seconds}`;
      return fill === undefined ? { text } : { text, fill };
    }
    case '__timeGroupAlias':
    case '__unixEpochGroupAlias': {
      const grouped = evaluate(name.replace('Alias', ''), args, range, options);
      return { ...grouped, text: `${grouped.text} AS "time"` };
    }
    case '__unixEpochFilter':
      return { text: `${column()} >= ${Math.floor(range.fromMs / 1000)} AND ${args[0]} <= ${Math.floor(range.toMs / 1000)}` };
    case '__unixEpochNanoFilter':
      return { text: `${column()} >= ${nanos(range.fromMs)} AND ${args[0]} <= ${nanos(range.toMs)}` };
    case '__unixEpochNanoFrom':
      return { text: nanos(range.fromMs) };
    case '__unixEpochNanoTo':
      return { text: nanos(range.toMs) };
    default:
      throw new Error(`unknown macro "${name}"`);
  }
}

function nanos(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

function fillMode(argument: string, intervalMs: number): FillMode {
  if (argument === 'NULL') return { mode: 'null', intervalMs };
  if (argument === 'previous') return { mode: 'previous', intervalMs };
  const value = Number(argument);
  if (argument.trim() === '' || Number.isNaN(value)) throw new Error(`error parsing fill value ${argument}`);
  return { mode: 'value', value, intervalMs };
}

/** Re-exported for the checker: the interval text `$__interval` becomes in SQL. */
export { formatInterval };
