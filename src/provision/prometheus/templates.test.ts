import { describe, expect, it } from 'vitest';
import { expandTemplate, goG, humanize, humanize1024, humanizeDuration, humanizePercentage } from './templates.js';

// Expected strings are Go's (fmt %.4g) and Prometheus 2.x's template functions' outputs; the
// promtool rule tests (deploy/prometheus/tests) check the same functions against promtool itself.
describe('Prometheus template formats', () => {
  it('goG is Go\'s %.4g: 4 significant digits, trailing zeros dropped, exponent form outside 1e-4..1e4', () => {
    expect([0, 1, 1.5, 70.00000000000001, 1.5840000000000001, 0.0001234, 0.00001234, 9999, 12345, 123456, -2.5].map((value) => goG(value))).toEqual(['0', '1', '1.5', '70', '1.584', '0.0001234', '1.234e-05', '9999', '1.234e+04', '1.235e+05', '-2.5']);
    expect([NaN, Infinity, -Infinity].map((value) => goG(value))).toEqual(['NaN', '+Inf', '-Inf']);
  });

  it('humanize, humanize1024, humanizeDuration and humanizePercentage', () => {
    expect([0, 15, 1234, 1_234_567, 0.25, 0.0005].map(humanize)).toEqual(['0', '15', '1.234k', '1.235M', '250m', '500u']);
    expect([0.5, 1000, 2048, 9e8, 1.5 * 1024 ** 3].map(humanize1024)).toEqual(['0.5', '1000', '2ki', '858.3Mi', '1.5Gi']);
    expect([0, 0.8, 0.0015, 12.5, 720, 3725, 90_061, -75].map(humanizeDuration)).toEqual(['0s', '800ms', '1.5ms', '12.5s', '12m 0s', '1h 2m 5s', '1d 1h 1m 1s', '-1m 15s']);
    expect([0.01584, 0.7, 1].map(humanizePercentage)).toEqual(['1.584%', '70%', '100%']);
  });

  it('expands labels and the value in one annotation', () => {
    expect(expandTemplate('{{ $labels.instance }} lag {{ $value | humanizeDuration }}, psi {{ $value | printf "%.2f" }}, missing "{{ $labels.nope }}"', { instance: 'a:1' }, 0.8)).toBe('a:1 lag 800ms, psi 0.80, missing ""');
  });
});
