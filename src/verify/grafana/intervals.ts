/**
 * Grafana's interval arithmetic, front end (rangeutil.ts) and back end (grafana-plugin-sdk-go gtime,
 * pkg/promlib). Durations are milliseconds. See GRAFANA-QUERIES.md §2.
 */
import { LookoutError } from '../../core/errors.js';

const FE_LADDER: readonly (readonly [number, number])[] = [
  [10, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500], [1500, 1000], [3500, 2000], [7500, 5000],
  [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000], [90_000, 60_000], [210_000, 120_000],
  [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000],
  [86_400_000, 43_200_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000, 2_592_000_000],
];

/**
 * Front-end `rangeutil.roundInterval`: `interval < bound → value`, else one year.
 *
 * @example
 * ```ts
 * roundIntervalFrontend(21_600); // 20000
 * ```
 */
export function roundIntervalFrontend(intervalMs: number): number {
  for (const [bound, value] of FE_LADDER) if (intervalMs < bound) return value;
  return 31_536_000_000;
}

// The back end uses `<=` and differs above 12h (24h up to 1w).
const BE_LADDER: readonly (readonly [number, number])[] = [
  ...FE_LADDER.slice(0, 25),
  [86_400_000, 43_200_000], [172_800_000, 86_400_000], [604_800_000, 86_400_000], [1_814_400_000, 604_800_000],
];

/**
 * Back-end `gtime.RoundInterval` (`<=` at the boundaries).
 *
 * @example
 * ```ts
 * roundIntervalBackend(1_963); // 2000 (21600000 / 11000)
 * ```
 */
export function roundIntervalBackend(intervalMs: number): number {
  for (const [bound, value] of BE_LADDER) if (intervalMs <= bound) return value;
  return intervalMs < 3_628_800_000 ? 2_592_000_000 : 31_536_000_000;
}

/**
 * Front-end `rangeutil.secondsToHms`: the first non-zero unit only, truncated (90 s → `1m`).
 *
 * @example
 * ```ts
 * secondsToHms(20); // '20s'
 * ```
 */
export function secondsToHms(seconds: number): string {
  const years = Math.floor(seconds / 31_536_000);
  if (years) return `${years}y`;
  const days = Math.floor((seconds % 31_536_000) / 86_400);
  if (days) return `${days}d`;
  const hours = Math.floor(((seconds % 31_536_000) % 86_400) / 3600);
  if (hours) return `${hours}h`;
  const minutes = Math.floor((((seconds % 31_536_000) % 86_400) % 3600) / 60);
  if (minutes) return `${minutes}m`;
  const wholeSeconds = Math.floor((((seconds % 31_536_000) % 86_400) % 3600) % 60);
  if (wholeSeconds) return `${wholeSeconds}s`;
  const milliseconds = Math.floor(seconds * 1000);
  if (milliseconds) return `${milliseconds}ms`;
  return 'less than a millisecond';
}

/**
 * Back-end `gtime.FormatInterval` (`y d h m s ms`, integer division).
 *
 * @example
 * ```ts
 * formatInterval(60_000); // '1m'
 * ```
 */
export function formatInterval(ms: number): string {
  const units: readonly (readonly [number, string])[] = [[31_536_000_000, 'y'], [86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
  for (const [size, unit] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return '1ms';
}

/**
 * Go `time.Duration.String()` for a whole number of milliseconds (`1m0s`, `2m30s`, `1h0m0s`, `500ms`).
 *
 * @example
 * ```ts
 * goDurationString(60_000); // '1m0s'
 * ```
 */
export function goDurationString(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : String(seconds)}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/**
 * Front-end `rangeutil.intervalToMs` (`describeInterval`: number + unit, `ms s m h d w M y`; a bare number is seconds).
 *
 * @example
 * ```ts
 * intervalToMs('15s'); // 15000
 * ```
 */
export function intervalToMs(text: string): number {
  if (Number(text)) return Number.parseInt(text, 10) * 1000;
  const match = /^(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])/.exec(text);
  if (match === null) throw new LookoutError('LOOKOUT_E_VERIFY_INTERVAL', `invalid interval ${JSON.stringify(text)}`);
  const seconds: Record<string, number> = { y: 31_536_000, M: 2_592_000, w: 604_800, d: 86_400, h: 3600, m: 60, s: 1, ms: 0.001 };
  return seconds[match[2]!]! * 1000 * Number.parseInt(match[1]!, 10);
}

/**
 * Back-end `gtime.ParseIntervalStringToTimeDuration`: Go durations (`1m30s`) plus `d w M y`, a bare
 * number is seconds, `<` and `>` are stripped. Months and years use the Julian average (ParseDuration).
 *
 * @example
 * ```ts
 * parseGoInterval('1m30s'); // 90000
 * ```
 */
export function parseGoInterval(text: string): number {
  const cleaned = text.replace('<', '').replace('>', '');
  const withUnit = /^\d+$/.test(cleaned) ? `${cleaned}s` : cleaned;
  const dateUnit = /^(\d+)([dwMy])$/.exec(withUnit);
  if (dateUnit !== null) {
    const day = 86_400_000;
    const year = day * 365.25;
    const size: Record<string, number> = { d: day, w: 7 * day, M: year / 12, y: year };
    return Number(dateUnit[1]) * size[dateUnit[2]!]!;
  }
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < withUnit.length) {
    part.lastIndex = index;
    const match = part.exec(withUnit);
    if (match === null) throw new LookoutError('LOOKOUT_E_VERIFY_INTERVAL', `invalid duration ${JSON.stringify(text)}`);
    total += Number(match[1]) * units[match[2]!]!;
    index = part.lastIndex;
  }
  if (withUnit.length === 0) throw new LookoutError('LOOKOUT_E_VERIFY_INTERVAL', 'empty duration');
  return total;
}

/**
 * Front-end `rangeutil.calculateInterval`: `roundInterval(range / maxDataPoints)`, raised to the low limit.
 *
 * @example
 * ```ts
 * calculateInterval(21_600_000, 1000, '15s'); // { intervalMs: 20000, interval: '20s' }
 * ```
 */
export function calculateInterval(rangeMs: number, maxDataPoints: number, lowLimit?: string): { intervalMs: number; interval: string } {
  const lowLimitMs = lowLimit === undefined || lowLimit === '' ? 1 : intervalToMs(lowLimit);
  let intervalMs = roundIntervalFrontend(rangeMs / maxDataPoints);
  if (lowLimitMs > intervalMs) intervalMs = lowLimitMs;
  return { intervalMs, interval: secondsToHms(intervalMs / 1000) };
}
