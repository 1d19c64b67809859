/**
 * The part of Prometheus's alert templating the generated annotations use, evaluated here so the
 * promtool tests can state the annotations an alert carries with its real values
 * (`exp_annotations`), and so a test can tell a description that shows no live value.
 *
 * Supported: `{{ $labels.name }}` and `{{ $value | f }}` with `f` one of
 * humanize, humanize1024, humanizeDuration, humanizePercentage or `printf "%.Nf"`; each formats
 * as Prometheus 2.x does (Go's `%.4g`, SI or binary prefixes). Anything else is refused.
 */
import { LookoutError } from '../../core/errors.js';

/**
 * Go's `fmt.Sprintf("%.<digits>g", value)`: shortest of fixed and exponent forms, trailing zeros dropped.
 *
 * @example
 * ```ts
 * goG(1.5840000000000001); // '1.584'
 * goG(123456); // '1.235e+05'
 * ```
 */
export function goG(value: number, digits = 4): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (value === 0) return '0';
  const rounded = halfToEven(value, digits);
  if (rounded !== value) return goG(rounded, digits);
  const [mantissa, exponentText] = value.toExponential(digits - 1).split('e') as [string, string];
  const exponent = Number(exponentText);
  const trim = (text: string) => (text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text);
  if (exponent < -4 || exponent >= digits) {
    return `${trim(mantissa)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return trim(value.toFixed(Math.max(0, digits - 1 - exponent)));
}

/**
 * `value` rounded to `digits` significant digits when it lies exactly halfway (Go rounds such a
 * tie to even, JavaScript up: 12345 is 1.234e+04 in Go), else `value` itself.
 */
function halfToEven(value: number, digits: number): number {
  // Exact: a double's decimal expansion that ends at a tie is short.
  const [mantissa, exponent] = Math.abs(value).toExponential(99).split('e') as [string, string];
  const significant = mantissa.replace('.', '');
  if (!/^50*$/.test(significant.slice(digits))) return value;
  let kept = BigInt(significant.slice(0, digits));
  if (kept % 2n === 1n) kept += 1n;
  const text = kept.toString();
  return Math.sign(value) * Number(`${text.slice(0, 1)}.${text.slice(1)}e${Number(exponent) + text.length - digits}`);
}

const SMALL_PREFIXES = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];

/**
 * Prometheus's `humanize`: SI prefixes (k, M, G… and m, u, n…), 4 significant digits.
 *
 * @example
 * ```ts
 * humanize(1234567); // '1.235M'
 * ```
 */
export function humanize(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return goG(value);
  let prefix = '';
  let scaled = value;
  if (Math.abs(scaled) >= 1) {
    for (const next of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(scaled) < 1000) break;
      prefix = next;
      scaled /= 1000;
    }
  } else {
    for (const next of SMALL_PREFIXES) {
      if (Math.abs(scaled) >= 1) break;
      prefix = next;
      scaled *= 1000;
    }
  }
  return `${goG(scaled)}${prefix}`;
}

/**
 * Prometheus's `humanize1024`: binary prefixes (Ki, Mi, Gi…), 4 significant digits.
 *
 * @example
 * ```ts
 * humanize1024(9e8); // '858.3Mi'
 * ```
 */
export function humanize1024(value: number): string {
  if (!(Math.abs(value) > 1)) return goG(value);
  let prefix = '';
  let scaled = value;
  for (const next of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(scaled) < 1024) break;
    prefix = next;
    scaled /= 1024;
  }
  return `${goG(scaled)}${prefix}`;
}

/**
 * Prometheus's `humanizeDuration`: `1d 2h 3m 4s` from a minute up, `12.5s`, `800ms` below.
 *
 * @example
 * ```ts
 * humanizeDuration(720); // '12m 0s'
 * humanizeDuration(0.8); // '800ms'
 * ```
 */
export function humanizeDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return goG(seconds);
  if (seconds === 0) return '0s';
  if (Math.abs(seconds) >= 1) {
    const sign = seconds < 0 ? '-' : '';
    const whole = Math.trunc(Math.abs(seconds));
    const [s, m, h, d] = [whole % 60, Math.trunc(whole / 60) % 60, Math.trunc(whole / 3600) % 24, Math.trunc(whole / 86_400)];
    if (d !== 0) return `${sign}${d}d ${h}h ${m}m ${s}s`;
    if (h !== 0) return `${sign}${h}h ${m}m ${s}s`;
    if (m !== 0) return `${sign}${m}m ${s}s`;
    return `${sign}${goG(Math.abs(seconds))}s`;
  }
  let prefix = '';
  let scaled = seconds;
  for (const next of SMALL_PREFIXES) {
    if (Math.abs(scaled) >= 1) break;
    prefix = next;
    scaled *= 1000;
  }
  return `${goG(scaled)}${prefix}s`;
}

/**
 * Prometheus's `humanizePercentage`: a ratio as a percentage, 4 significant digits.
 *
 * @example
 * ```ts
 * humanizePercentage(0.01584); // '1.584%'
 * ```
 */
export function humanizePercentage(ratio: number): string {
  return `${goG(ratio * 100)}%`;
}

const FORMATS: Readonly<Record<string, (value: number) => string>> = { humanize, humanize1024, humanizeDuration, humanizePercentage };
const ACTION = /\{\{\s*(.*?)\s*\}\}/g;

/**
 * True when `template` shows a live value: `$value` or a `$labels.x` of the alert.
 *
 * @example
 * ```ts
 * showsLiveValue('{{ $value | humanizePercentage }} of requests failed'); // true
 * showsLiveValue('requests failed'); // false
 * ```
 */
export function showsLiveValue(template: string): boolean {
  return [...template.matchAll(ACTION)].some(([, action]) => /^\$value\b|^\$labels\.\w+$/.test(action!));
}

/**
 * Expands an annotation template as Prometheus does for an alert with `labels` and `value`;
 * throws `LOOKOUT_E_PROVISION_TEMPLATE` on an action outside the supported subset, or on `$value`
 * when no value is given.
 *
 * @example
 * ```ts
 * expandTemplate('{{ $labels.job }}: {{ $value | humanizePercentage }}', { job: 'api' }, 0.02); // 'api: 2%'
 * ```
 */
export function expandTemplate(template: string, labels: Readonly<Record<string, string>>, value?: number): string {
  return template.replace(ACTION, (whole, action: string) => {
    const label = /^\$labels\.(\w+)$/.exec(action);
    if (label !== null) return labels[label[1]!] ?? '';
    // A bare $value prints all 17 digits of a float: every use names its format.
    const piped = /^\$value\s*\|\s*(\w+)(?:\s+"%\.(\d)f")?$/.exec(action);
    if (piped === null) throw new LookoutError('LOOKOUT_E_PROVISION_TEMPLATE', `annotation template ${whole}: only $labels.x and $value | humanize, humanize1024, humanizeDuration, humanizePercentage or printf "%.Nf" are supported`);
    if (value === undefined) throw new LookoutError('LOOKOUT_E_PROVISION_TEMPLATE', `annotation template ${whole} needs the alert's value`);
    const [, format, decimals] = piped as unknown as [string, string, string | undefined];
    if (format === 'printf' && decimals !== undefined) return value.toFixed(Number(decimals));
    const formatter = FORMATS[format];
    if (formatter === undefined || decimals !== undefined) throw new LookoutError('LOOKOUT_E_PROVISION_TEMPLATE', `annotation template ${whole}: unknown format ${format}`);
    return formatter(value);
  });
}
