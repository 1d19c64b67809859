import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { LookoutError } from '../core/errors.js';
import type { ProvisionOptions } from './options.js';

/**
 * Reads provisioning options from a YAML or JSON file (JSON is YAML). Unknown top-level keys are an
 * error, so a typo never silently falls back to a default. Values are validated later by
 * `resolveProvisionOptions`.
 *
 * @example
 * ```ts
 * const options = resolveProvisionOptions(await loadProvisionConfig('deploy/lookout.config.yaml'));
 * ```
 */
export async function loadProvisionConfig(path: string): Promise<ProvisionOptions> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LookoutError('LOOKOUT_E_PROVISION_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    throw new LookoutError('LOOKOUT_E_PROVISION_CONFIG', `${path} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new LookoutError('LOOKOUT_E_PROVISION_CONFIG', `${path} must hold a mapping of options`);
  }
  const unknown = Object.keys(value).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw new LookoutError('LOOKOUT_E_PROVISION_CONFIG', `${path}: unknown option(s) ${unknown.join(', ')}; known: ${[...KNOWN_KEYS].join(', ')}`);
  }
  return value as ProvisionOptions;
}

const KNOWN_KEYS = new Set<string>([
  'service',
  'targets',
  'metricsPath',
  'scheme',
  'scrapeInterval',
  'evaluationInterval',
  'bearerTokenFile',
  'durationBuckets',
  'histograms',
  'slo',
  'datasources',
  'remoteWrite',
  'externalLabels',
  'events',
  'alerting',
  'compose',
] satisfies (keyof ProvisionOptions)[]);
