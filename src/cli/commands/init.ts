import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { LookoutError } from '../../core/errors.js';
import { loadProvisionConfig } from '../../provision/config-file.js';
import { generateDeployFiles, writeDeployFiles } from '../../provision/generate.js';
import { resolveProvisionOptions, type ProvisionOptions } from '../../provision/options.js';
import { parseFlags, usageError, type CliCommand } from '../command.js';
import { DEFAULT_CONFIG_NAME } from './provision.js';

/**
 * Frameworks `lookout init` knows the three lines for.
 *
 * @example
 * ```ts
 * const framework: Framework = 'fastify';
 * ```
 */
export type Framework = 'fastify' | 'express' | 'hono' | 'node';
const FRAMEWORKS: readonly Framework[] = ['fastify', 'express', 'hono', 'node'];

const usage = `Usage: lookout init --dir <project> [options]

Adds lookout to an existing project: writes <project>/deploy/${DEFAULT_CONFIG_NAME} (kept when it
exists, unless --force), generates the provisioning beside it (Prometheus config and rules,
Grafana datasources and dashboards, compose.yaml), and prints the three lines to add to the app.

Options:
  --dir <project>        the project folder (must exist)
  --service <name>       Prometheus job and dashboard folder (default: package.json name, else the folder name)
  --port <n>             port the app listens on (default 3000)
  --framework <name>     fastify | express | hono | node (default: from package.json dependencies)
  --force                overwrite an existing deploy/${DEFAULT_CONFIG_NAME}
  -h, --help             show this help`;

const FLAGS = {
  dir: { type: 'string' },
  service: { type: 'string' },
  port: { type: 'string' },
  framework: { type: 'string' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `lookout init`: config, provisioning and the lines to add, for an existing project.
 *
 * @example
 * ```ts
 * await init.run(['--dir', '../my-api'], io);
 * ```
 */
export const init: CliCommand = {
  name: 'init',
  summary: 'Add lookout to an existing project: config, provisioning, and the three lines for the app.',
  usage,
  async run(argv, io) {
    const { values } = parseFlags(argv, FLAGS, usage);
    if (values.dir === undefined || values.dir === '') throw usageError('--dir <project> is required', usage);
    const dir = resolve(io.cwd, values.dir);
    if (!(await isDirectory(dir))) throw usageError(`--dir ${values.dir}: no such folder (init adds lookout to an existing project)`, usage);
    const port = values.port === undefined ? 3000 : Number(values.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`--port must be a TCP port (1-65535), got ${JSON.stringify(values.port)}`, usage);
    if (values.framework !== undefined && !FRAMEWORKS.includes(values.framework as Framework)) {
      throw usageError(`--framework must be one of ${FRAMEWORKS.join(', ')}, got ${JSON.stringify(values.framework)}`, usage);
    }
    const project = await readPackage(dir);
    const service = values.service ?? serviceName(project.name, basename(dir));
    const framework = (values.framework as Framework | undefined) ?? detectFramework(project.dependencies);
    const configText = configYaml(service, port, project.hasStart);
    try {
      // Validates the flags' values exactly as `lookout provision` will read them.
      resolveProvisionOptions(parse(configText) as ProvisionOptions);
    } catch (error) {
      if (error instanceof LookoutError && error.code === 'LOOKOUT_E_PROVISION_OPTION') throw usageError(error.message.replace('LOOKOUT_E_PROVISION_OPTION: ', ''), usage);
      throw error;
    }

    const deploy = join(dir, 'deploy');
    const configPath = join(deploy, DEFAULT_CONFIG_NAME);
    const shown = (path: string) => relative(io.cwd, path) || '.';
    const exists = await isFile(configPath);
    if (exists && values.force !== true) {
      io.out(`lookout init: kept ${shown(configPath)} (it exists; --force overwrites it)`);
    } else {
      await mkdir(deploy, { recursive: true });
      await writeFile(configPath, configText);
      io.out(`lookout init: wrote ${shown(configPath)} (service ${service}, target api:${port})`);
    }
    const written = await writeDeployFiles(deploy, generateDeployFiles(resolveProvisionOptions(await loadProvisionConfig(configPath))));
    io.out(`lookout init: generated ${written.length} files in ${shown(deploy)} (regenerate with: npx lookout provision --out ${shown(deploy)})`);
    io.out('');
    io.out(`Add these three lines to your ${framework === 'node' ? 'node:http' : framework} app${framework === 'fastify' ? ' (before your routes)' : ''}:`);
    io.out('');
    for (const line of appLines(framework)) io.out(`  ${line}`);
    io.out('');
    io.out(`Then: npm install lookout, start the app, and curl http://127.0.0.1:${port}/metrics`);
    io.out(`Production: cd ${shown(deploy)} && cp .env.example .env && docker compose up -d (see ${shown(join(deploy, 'README.md'))})`);
    return 0;
  },
};

/**
 * The three lines that instrument an app of `framework`, serving `/metrics` on the app.
 *
 * @example
 * ```ts
 * appLines('express')[2]; // 'app.use(metrics({ registry: new Registry() }));   // first middleware; serves GET /metrics'
 * ```
 */
export function appLines(framework: Framework): readonly [string, string, string] {
  const registry = `import { Registry } from 'lookout';`;
  switch (framework) {
    case 'fastify':
      return [registry, `import lookout from 'lookout/fastify';`, `await app.register(lookout, { registry: new Registry() });   // serves GET /metrics`];
    case 'express':
      return [registry, `import { metrics } from 'lookout/express';`, `app.use(metrics({ registry: new Registry() }));   // first middleware; serves GET /metrics`];
    case 'hono':
      return [registry, `import { metrics } from 'lookout/hono';`, `app.use('*', metrics({ registry: new Registry() }));   // serves GET /metrics`];
    case 'node':
      return [registry, `import { instrument } from 'lookout/node';`, `http.createServer(instrument(listener, { registry: new Registry(), routes: ['/users/:id'] }));   // name your route templates`];
  }
}

/**
 * The framework a project uses, from its package.json dependencies (`node` when none is known).
 *
 * @example
 * ```ts
 * detectFramework({ express: '^5.0.0' }); // 'express'
 * ```
 */
export function detectFramework(dependencies: Readonly<Record<string, unknown>>): Framework {
  return FRAMEWORKS.find((name) => name !== 'node' && name in dependencies) ?? 'node';
}

/**
 * A Prometheus job name from a package name (`@acme/shop-api` → `shop-api`) or, failing that, the folder name.
 *
 * @example
 * ```ts
 * serviceName('@acme/shop-api', 'x'); // 'shop-api'
 * ```
 */
export function serviceName(packageName: string | undefined, folder: string): string {
  for (const candidate of [packageName?.replace(/^@[^/]+\//, ''), folder]) {
    const cleaned = (candidate ?? '').replace(/[^a-zA-Z0-9_-]+/g, '-').replace(/^[^a-zA-Z]+/, '').replace(/-+$/, '');
    if (cleaned !== '') return cleaned.slice(0, 60);
  }
  return 'api';
}

function configYaml(service: string, port: number, hasStart: boolean): string {
  return `# Input of the generated files in this folder (written by \`lookout init\`). Regenerate after any change:
#   npx lookout provision --out deploy/
service: ${service}
# host:port of every instance Prometheus scrapes (in compose, the api service)
targets:
  - api:${port}
# Production intervals; deploy/README.md (generated) states what each costs.
scrapeInterval: 15s
evaluationInterval: 1m
# To require a bearer token on /metrics: uncomment, and pass the token of the file named by
# LOOKOUT_METRICS_TOKEN_FILE (compose sets it) as the adapter's \`token\` option.
# bearerTokenFile: /run/secrets/metrics_token
# Histogram series the rules and dashboards read: classic (default), native (set the adapter's
# \`nativeHistograms: true\`; Prometheus runs with --enable-feature=native-histograms) or both.
# histograms: native
slo:
  period: 30d
  availability:
    objective: 0.999
  latency:
    objective: 0.99
    thresholdSeconds: 1
compose:
  # how the api service starts your app (the project folder is mounted at /app)
  apiCommand: ${hasStart ? '[npm, start]' : '[node, index.js]'}
  apiPort: ${port}
`;
}

async function readPackage(dir: string): Promise<{ name: string | undefined; dependencies: Record<string, unknown>; hasStart: boolean }> {
  let json: { name?: unknown; dependencies?: unknown; devDependencies?: unknown; scripts?: { start?: unknown } };
  try {
    json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as typeof json;
  } catch {
    return { name: undefined, dependencies: {}, hasStart: false };
  }
  const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  return {
    name: typeof json.name === 'string' ? json.name : undefined,
    dependencies: { ...record(json.devDependencies), ...record(json.dependencies) },
    hasStart: typeof json.scripts?.start === 'string',
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}
