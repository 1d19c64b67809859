import { access } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { loadProvisionConfig } from '../../provision/config-file.js';
import { generateDeployFiles, writeDeployFiles } from '../../provision/generate.js';
import { resolveProvisionOptions } from '../../provision/options.js';
import { parseFlags, usageError, type CliCommand } from '../command.js';

/**
 * Config file looked for in the output folder when `--config` is not given.
 *
 * @example
 * ```ts
 * join('deploy', DEFAULT_CONFIG_NAME); // 'deploy/lookout.config.yaml'
 * ```
 */
export const DEFAULT_CONFIG_NAME = 'lookout.config.yaml';

const usage = `Usage: lookout provision --out <dir> [--config <file>]

Writes Prometheus (prometheus.yml, SLO recording and burn-rate alert rules, promtool tests),
Grafana (datasources, dashboard provider, dashboards), compose.yaml and .env.example into <dir>.

Options:
  --out <dir>       output folder (created if missing; generated files are overwritten)
  --config <file>   options as YAML or JSON (default: <dir>/${DEFAULT_CONFIG_NAME} if it exists,
                    else built-in defaults)
  -h, --help        show this help`;

/**
 * `lookout provision`: generates the deploy folder from options.
 *
 * @example
 * ```ts
 * await provision.run(['--out', 'deploy/'], io);
 * ```
 */
export const provision: CliCommand = {
  name: 'provision',
  summary: 'Generate Prometheus and Grafana provisioning (and compose.yaml) from code.',
  usage,
  async run(argv, io) {
    const { values } = parseFlags(argv, { out: { type: 'string' }, config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, usage);
    if (values.out === undefined || values.out === '') throw usageError('--out <dir> is required', usage);
    const outDir = isAbsolute(values.out) ? values.out : resolve(io.cwd, values.out);
    let configPath = values.config === undefined ? undefined : resolve(io.cwd, values.config);
    if (configPath === undefined && (await exists(join(outDir, DEFAULT_CONFIG_NAME)))) configPath = join(outDir, DEFAULT_CONFIG_NAME);
    const options = resolveProvisionOptions(configPath === undefined ? {} : await loadProvisionConfig(configPath));
    io.out(configPath === undefined ? 'lookout provision: built-in defaults (no config file)' : `lookout provision: options from ${relative(io.cwd, configPath) || configPath}`);
    const written = await writeDeployFiles(outDir, generateDeployFiles(options));
    for (const path of written) io.out(`  wrote ${relative(io.cwd, path)}`);
    io.out(`${written.length} files written to ${relative(io.cwd, outDir) || '.'}`);
    return 0;
  },
};

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
