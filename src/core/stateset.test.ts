import { describe, expect, it } from 'vitest';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

describe('StateSet', () => {
  it('renders one sample per state, the family name as the state label', () => {
    const state = new Registry().stateSet({ name: 'model_state', help: 'Lifecycle.', states: ['idle', 'training', 'serving'] });
    expect(family(state, 'openmetrics')).toBe(
      '# TYPE model_state stateset\n# HELP model_state Lifecycle.\n' +
        'model_state{model_state="idle"} 0\nmodel_state{model_state="training"} 0\nmodel_state{model_state="serving"} 0\n',
    );
    state.set('serving');
    expect(family(state, 'text')).toBe(
      '# HELP model_state Lifecycle.\n# TYPE model_state gauge\n' +
        'model_state{model_state="idle"} 0\nmodel_state{model_state="training"} 0\nmodel_state{model_state="serving"} 1\n',
    );
  });

  it('works as an enum (set) and as a bit set (setStates)', () => {
    const flags = new Registry().stateSet({ name: 'features', help: 'x', states: ['a', 'b', 'c'] });
    flags.set('a');
    flags.set('c');
    expect([...flags.labels({}).enabled]).toEqual([0, 0, 1]);
    flags.setStates({ a: true, b: true });
    expect([...flags.labels({}).enabled]).toEqual([1, 1, 1]);
    flags.setStates({ c: false });
    expect([...flags.labels({}).enabled]).toEqual([1, 1, 0]);
  });

  it('puts the state label after the series labels and escapes state names', () => {
    const state = new Registry({ defaultLabels: { app: 'api' } }).stateSet({ name: 'mode', help: 'x', labelNames: ['model'], states: ['on "hot"', 'off'] });
    state.labels({ model: 'mlp' }).set('off');
    expect(family(state, 'text').split('\n').slice(2, -1)).toEqual(['mode{app="api",model="mlp",mode="on \\"hot\\""} 0', 'mode{app="api",model="mlp",mode="off"} 1']);
  });

  it('validates states with stable codes', () => {
    const registry = new Registry();
    for (const states of [[], ['a', 'a'], [1 as unknown as string], 'ab' as unknown as string[]]) {
      expect(() => registry.stateSet({ name: 's', help: 'x', states })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_STATES' }));
    }
    const state = registry.stateSet({ name: 's', help: 'x', states: ['a'] });
    expect(() => state.set('z')).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_UNKNOWN_STATE' }));
    expect(() => state.setStates({ z: true })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_UNKNOWN_STATE' }));
    expect([...state.labels({}).enabled]).toEqual([0]);
  });
});
