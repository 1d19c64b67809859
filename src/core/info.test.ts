import { describe, expect, it } from 'vitest';
import type { ExpositionFormat, Metric, Series } from './metric.js';
import { Registry } from './registry.js';

function family<S extends Series>(metric: Metric<string, S>, format: ExpositionFormat): string {
  return metric.header(format) + metric.series.map((series) => metric.render(series, format)).join('');
}

describe('Info', () => {
  it('renders an info family in OpenMetrics and a gauge named *_info in text', () => {
    const build = new Registry().info({ name: 'app_build_info', help: 'Build.', labelNames: ['version', 'commit'] });
    expect(build.name).toBe('app_build');
    build.set({ version: '1.2.0', commit: 'abc"1' });
    expect(family(build, 'openmetrics')).toBe('# TYPE app_build info\n# HELP app_build Build.\napp_build_info{version="1.2.0",commit="abc\\"1"} 1\n');
    expect(family(build, 'text')).toBe('# HELP app_build_info Build.\n# TYPE app_build_info gauge\napp_build_info{version="1.2.0",commit="abc\\"1"} 1\n');
  });

  it('adds _info when the name lacks it, and finds the metric by either name', () => {
    const registry = new Registry();
    const info = registry.info({ name: 'model', help: 'Model.', labelNames: ['name'] });
    info.set({ name: 'mlp' });
    expect(family(info, 'text')).toContain('\nmodel_info{name="mlp"} 1\n');
    expect(registry.get('model_info')).toBe(info);
    expect(registry.get('model')).toBe(info);
  });

  it('replaces the information on set: always one series', () => {
    const info = new Registry({ defaultLabels: { app: 'api' } }).info({ name: 'build', help: 'x', labelNames: ['version'] });
    info.set({ version: '1' });
    info.set({ version: '2' });
    expect(info.seriesCount).toBe(1);
    expect(family(info, 'text')).toBe('# HELP build_info x\n# TYPE build_info gauge\nbuild_info{app="api",version="2"} 1\n');
  });

  it('an info metric without labels renders exactly one sample, set or not', () => {
    const info = new Registry().info({ name: 'ready', help: 'x' });
    expect(family(info, 'openmetrics')).toBe('# TYPE ready info\n# HELP ready x\nready_info 1\n');
    info.set({});
    info.set({});
    expect(info.seriesCount).toBe(1);
    expect(family(info, 'openmetrics')).toBe('# TYPE ready info\n# HELP ready x\nready_info 1\n');
  });
});
