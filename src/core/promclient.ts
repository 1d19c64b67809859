import { escapeHelp, formatCanonical, formatValue, labelPairs } from './format.js';
import type { ExpositionFormat } from './metric.js';

/** The part of a prom-client `Registry` lookout reads (`getMetricsAsJSON`). */
export interface PromClientRegistryLike {
  getMetricsAsJSON(): Promise<PromClientMetricJson[]> | PromClientMetricJson[];
}

/** prom-client's JSON view of one metric family. */
export interface PromClientMetricJson {
  name: string;
  help: string;
  type: string | { toString(): string };
  // Partial, as prom-client declares it: without it, a prom-client Registry does not type-check here.
  values: { value: number; labels: Readonly<Partial<Record<string, string | number>>>; metricName?: string }[];
}

/**
 * Renders a prom-client registry in either format, skipping families whose
 * names are already `taken` (counted through `onClash`); rendered names are
 * added to `taken`.
 *
 * @example
 * ```ts
 * const text = await renderPromClient(client.register, 'text', new Set(), () => {});
 * ```
 */
export async function renderPromClient(
  registry: PromClientRegistryLike,
  format: ExpositionFormat,
  taken: Set<string>,
  onClash: (name: string) => void,
): Promise<string> {
  const families = await registry.getMetricsAsJSON();
  const openMetrics = format === 'openmetrics';
  let text = '';
  for (const family of families) {
    const type = String(family.type);
    const isCounter = type === 'counter';
    const base = isCounter ? family.name.replace(/_total$/, '') : family.name;
    if (taken.has(base) || taken.has(family.name)) {
      onClash(family.name);
      continue;
    }
    taken.add(base).add(family.name);
    const omType = type === 'histogram' || type === 'summary' || type === 'gauge' || isCounter ? type : 'unknown';
    const headerName = openMetrics ? base : isCounter ? `${base}_total` : family.name;
    text += openMetrics
      ? `# TYPE ${headerName} ${omType}\n# HELP ${headerName} ${escapeHelp(family.help, true)}\n`
      : `# HELP ${headerName} ${escapeHelp(family.help, false)}\n# TYPE ${headerName} ${type === 'gauge' || isCounter || type === 'histogram' || type === 'summary' ? type : 'untyped'}\n`;
    for (const sample of family.values) {
      let name = sample.metricName ?? family.name;
      if (isCounter) name = `${base}_total`;
      const names = Object.keys(sample.labels).filter((label) => sample.labels[label] !== undefined);
      const values = names.map((label) => {
        const value = sample.labels[label]!;
        return (label === 'le' || label === 'quantile') && typeof value === 'number' ? formatCanonical(value) : String(value);
      });
      const pairs = labelPairs(names, values);
      text += `${name}${pairs === '' ? '' : `{${pairs}}`} ${formatValue(sample.value)}\n`;
    }
  }
  return text;
}
