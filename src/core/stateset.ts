import { LookoutError } from './errors.js';
import { escapeLabelValue } from './format.js';
import { Metric, Series, type ExpositionFormat, type MetricContext, type MetricOptions } from './metric.js';
import { assertNoReservedSuffix } from './names.js';
import { encodeLabels, Field, type ProtoWriter } from './protobuf.js';

/** State set options: the closed list of states. */
export interface StateSetOptions<L extends string = never> extends MetricOptions<L> {
  readonly states: readonly string[];
}

/**
 * One label set of a state set: which of the states are on.
 *
 * @example
 * ```ts
 * modelState.labels({ model: 'mlp' }).set('training');
 * ```
 */
export class StateSetSeries extends Series {
  readonly enabled: Uint8Array;
  private readonly states: readonly string[];

  constructor(labelValues: readonly string[], pairs: string, states: readonly string[]) {
    super(labelValues, pairs);
    this.states = states;
    this.enabled = new Uint8Array(states.length);
  }

  /** Turns `state` on and every other state off (an enum). */
  set(state: string): void {
    const index = this.indexOf(state);
    this.enabled.fill(0);
    this.enabled[index] = 1;
  }

  /** Sets several states at once (a bit set). */
  setStates(states: Readonly<Record<string, boolean>>): void {
    for (const [state, on] of Object.entries(states)) this.enabled[this.indexOf(state)] = on ? 1 : 0;
  }

  private indexOf(state: string): number {
    const index = this.states.indexOf(state);
    if (index < 0) throw new LookoutError('LOOKOUT_E_UNKNOWN_STATE', `unknown state ${JSON.stringify(state)}; known: ${this.states.join(', ')}`);
    return index;
  }
}

/**
 * An enum or bit set: one sample per state, 1 when on. The metric name is
 * also the label that carries the state, as OpenMetrics requires.
 *
 * @example
 * ```ts
 * const state = registry.stateSet({ name: 'model_state', help: 'Model lifecycle.', states: ['idle', 'training', 'serving'] });
 * state.set('serving');
 * ```
 */
export class StateSet<L extends string = never> extends Metric<L, StateSetSeries> {
  readonly type = 'stateset';
  readonly states: readonly string[];
  private readonly statePairs: readonly string[];
  private readonly stateLabels: readonly Uint8Array[];

  constructor(options: StateSetOptions<L>, context: MetricContext) {
    super(options.name, options, context, [options.name]);
    assertNoReservedSuffix(options.name, 'stateset');
    // OpenMetrics: MetricFamilies of type StateSet MUST have an empty unit.
    if (options.unit !== undefined) throw new LookoutError('LOOKOUT_E_INVALID_UNIT', `stateset ${options.name}: a stateset metric has no unit`);
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(options.name)) {
      throw new LookoutError('LOOKOUT_E_INVALID_NAME', `state set ${options.name}: the name is also a label name, so it cannot contain ':'`);
    }
    const states = options.states;
    if (!Array.isArray(states) || states.length === 0 || new Set(states).size !== states.length || states.some((s) => typeof s !== 'string')) {
      throw new LookoutError('LOOKOUT_E_INVALID_STATES', `state set ${options.name}: states must be a non-empty list of distinct strings`);
    }
    this.states = [...states];
    this.statePairs = states.map((state) => `${options.name}="${escapeLabelValue(state)}"`);
    this.stateLabels = states.map((state) => encodeLabels([options.name], [state]));
    this.init();
  }

  set(state: string): void {
    this.only.set(state);
  }

  setStates(states: Readonly<Record<string, boolean>>): void {
    this.only.setStates(states);
  }

  protected override get textType(): string {
    return 'gauge';
  }

  render(series: StateSetSeries, _format: ExpositionFormat): string {
    let text = '';
    for (let index = 0; index < this.statePairs.length; index++) {
      text += `${this.name}${Metric.wrap(series.pairs, this.statePairs[index])} ${series.enabled[index]}\n`;
    }
    return text;
  }

  /** One gauge per state (0 or 1) with the state as a label named after the metric, as in the text format. */
  encode(series: StateSetSeries, writer: ProtoWriter): void {
    for (let index = 0; index < this.stateLabels.length; index++) {
      const metric = this.beginProtoMetric(series, writer);
      writer.raw(this.stateLabels[index]!);
      const gauge = writer.begin(Field.metricGauge);
      writer.double(Field.value, series.enabled[index]!);
      writer.end(gauge);
      writer.end(metric);
    }
  }

  protected createSeries(labelValues: readonly string[], pairs: string): StateSetSeries {
    return new StateSetSeries(labelValues, pairs, this.states);
  }
}
