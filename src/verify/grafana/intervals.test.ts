import { describe, expect, it } from 'vitest';
import { calculateInterval, formatInterval, goDurationString, intervalToMs, parseGoInterval, roundIntervalBackend, roundIntervalFrontend, secondsToHms } from './intervals.js';

describe('front-end interval (rangeutil)', () => {
  it('rounds with `<` at the boundaries', () => {
    expect(roundIntervalFrontend(21_600)).toBe(20_000);
    expect(roundIntervalFrontend(25_000)).toBe(30_000);
    expect(roundIntervalFrontend(24_999)).toBe(20_000);
    expect(roundIntervalFrontend(7_200)).toBe(5_000);
    expect(roundIntervalFrontend(86_400_000)).toBe(86_400_000);
    expect(roundIntervalFrontend(5_000_000_000)).toBe(31_536_000_000);
  });

  it('prints only the largest unit, truncated (90 s → 1m)', () => {
    expect(secondsToHms(90)).toBe('1m');
    expect(secondsToHms(5400)).toBe('1h');
    expect(secondsToHms(0.5)).toBe('500ms');
    expect(secondsToHms(86_400 * 2)).toBe('2d');
  });

  it('raises the interval to the low limit, unrounded', () => {
    expect(calculateInterval(21_600_000, 1000, '15s')).toEqual({ intervalMs: 20_000, interval: '20s' });
    expect(calculateInterval(3_600_000, 500, '15s')).toEqual({ intervalMs: 15_000, interval: '15s' });
    expect(calculateInterval(60_000, 500, '90s')).toEqual({ intervalMs: 90_000, interval: '1m' });
    expect(intervalToMs('1m')).toBe(60_000);
  });
});

describe('back-end interval (gtime)', () => {
  it('rounds with `<=` and its own ladder above 12h', () => {
    expect(roundIntervalBackend(25_000)).toBe(20_000);
    expect(roundIntervalBackend(1_963)).toBe(2_000);
    expect(roundIntervalBackend(100_000_000)).toBe(86_400_000);
    expect(roundIntervalBackend(2_000_000_000)).toBe(2_592_000_000);
  });

  it('formats like FormatInterval and Go Duration.String', () => {
    expect(formatInterval(20_000)).toBe('20s');
    expect(formatInterval(90_000)).toBe('1m');
    expect(formatInterval(0.5)).toBe('1ms');
    expect(goDurationString(60_000)).toBe('1m0s');
    expect(goDurationString(35_000)).toBe('35s');
    expect(goDurationString(150_000)).toBe('2m30s');
    expect(goDurationString(3_600_000)).toBe('1h0m0s');
    expect(goDurationString(1_500)).toBe('1.5s');
    expect(goDurationString(500)).toBe('500ms');
  });

  it('parses Go durations, bare seconds and calendar units', () => {
    expect(parseGoInterval('1m30s')).toBe(90_000);
    expect(parseGoInterval('30')).toBe(30_000);
    expect(parseGoInterval('<15s>')).toBe(15_000);
    expect(parseGoInterval('1d')).toBe(86_400_000);
    expect(() => parseGoInterval('abc')).toThrow('LOOKOUT_E_VERIFY_INTERVAL');
  });
});
