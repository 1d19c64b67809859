/**
 * Helpers of the consumer test (test/consumer.e2e.test.ts): build and pack the
 * package as `npm publish` would, and install the tarball in fresh projects
 * outside the repository, as a user does.
 *
 * @example
 * ```ts
 * const packed = await packPackage(REPO, work);
 * const project = await createProject(work, 'metrics', [packed.tarball, 'fastify']);
 * ```
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a finished command printed, and its exit code. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a user's shell: without the `npm_*` variables of the
 * `npm test` that runs us (an inherited `npm_config_*` would change what the
 * child npm does), nor vitest's own.
 *
 * @example
 * ```ts
 * run('npm', ['install'], { cwd, env: userEnv({ PORT: '8080' }) });
 * ```
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('npm_') || name.startsWith('VITEST') || name === 'INIT_CWD' || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to its end (never throws for a non-zero exit: the caller asserts).
 *
 * @example
 * ```ts
 * const { code, stdout } = await run('npm', ['view', 'fastify', 'version'], { cwd: tmpdir() });
 * ```
 */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; nice?: boolean }): Promise<RunResult> {
  // The heavy steps (build, installs, type checks) run at a lower priority: the suite's
  // timing-bound tests share the machine's cores with this one.
  const [file, argv] = options.nice === true ? ['nice', ['-n', '10', command, ...args]] : [command, args];
  return new Promise((resolve) => {
    execFile(file, argv, { cwd: options.cwd, env: options.env ?? userEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: error !== null && typeof error.code !== 'number' ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

/**
 * Fails with the command's output when it did not exit 0.
 *
 * @example
 * ```ts
 * ok(await run('npm', ['run', 'build'], { cwd }), 'npm run build');
 * ```
 */
export function ok(result: RunResult, what: string): RunResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}\n--- stdout\n${result.stdout.slice(-4000)}\n--- stderr\n${result.stderr.slice(-4000)}`);
  return result;
}

/** One file of `npm pack --json`. */
export interface PackedFile {
  readonly path: string;
  readonly size: number;
}

/** The packed package: tarball path, sizes, files, and the folder it was built in. */
export interface Packed {
  readonly tarball: string;
  readonly size: number;
  readonly unpackedSize: number;
  readonly files: readonly PackedFile[];
  readonly stage: string;
  readonly manifest: PackageManifest;
}

/** The fields of package.json the test reads. */
export interface PackageManifest {
  readonly name: string;
  readonly exports: Record<string, Record<string, string>>;
  readonly bin: Record<string, string>;
  readonly files: readonly string[];
  readonly engines: { readonly node: string };
  readonly peerDependencies: Record<string, string>;
}

/**
 * `npm run build` and `npm pack` in a copy of the package's sources (so a stale
 * file of the repository's own dist/ cannot slip into the tarball, and the
 * repository's dist/, which other test files run, is never rewritten under them).
 *
 * @example
 * ```ts
 * const { tarball, files } = await packPackage(REPO, work);
 * ```
 */
export async function packPackage(repo: string, work: string): Promise<Packed> {
  const stage = join(work, 'stage');
  mkdirSync(stage, { recursive: true });
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'src', 'bin']) {
    cpSync(join(repo, entry), join(stage, entry), { recursive: true });
  }
  symlinkSync(join(repo, 'node_modules'), join(stage, 'node_modules'), 'dir');
  ok(await run('npm', ['run', 'build'], { cwd: stage, timeoutMs: 180_000, nice: true }), 'npm run build');
  // The build ran just above; `prepare` would only run it again.
  const pack = ok(await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: stage }), 'npm pack');
  const [info] = JSON.parse(pack.stdout) as [{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }];
  return {
    tarball: join(work, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files,
    stage,
    manifest: JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as PackageManifest,
  };
}

/** A fresh project with `packages` installed: its folder and the `du -sk node_modules` figure. */
export interface Project {
  readonly dir: string;
  readonly footprintKiB: number;
}

/**
 * `npm install` (from the cache when it can) in a new folder under `work`, then the footprint.
 *
 * @example
 * ```ts
 * const { dir, footprintKiB } = await createProject(work, 'metrics', [tarball, 'fastify']);
 * ```
 */
export async function createProject(work: string, name: string, packages: readonly string[]): Promise<Project> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true }, null, 2)}\n`);
  ok(await run('npm', ['install', ...packages, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeoutMs: 170_000, nice: true }), `npm install in ${name}`);
  return { dir, footprintKiB: await footprint(dir) };
}

/**
 * Disk usage of a project's node_modules in KiB (`du -sk`, what a container layer holds).
 *
 * @example
 * ```ts
 * await footprint(dir); // 17100
 * ```
 */
export async function footprint(dir: string): Promise<number> {
  const du = ok(await run('du', ['-sk', 'node_modules'], { cwd: dir }), 'du');
  return Number(du.stdout.split('\t')[0]);
}

/**
 * A port nobody listens on now (the app under test binds it a moment later).
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `node <file>` in a project with `PORT` set, waits until it answers
 * `path`, and returns the answers of `paths` in order; the app is always stopped.
 *
 * @example
 * ```ts
 * const [metrics] = await runApp({ cwd: dir, file: 'app.mjs', paths: ['/metrics'] });
 * ```
 */
export async function runApp(options: { node?: string; cwd: string; file: string; paths: readonly string[] }): Promise<string[]> {
  const port = await freePort();
  const child: ChildProcess = spawn(options.node ?? process.execPath, [options.file], { cwd: options.cwd, env: userEnv({ PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${options.file} exited ${child.exitCode} before answering:\n${output}`);
      try {
        await fetch(`http://127.0.0.1:${port}/metrics`);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${options.file} did not answer on port ${port} within 20 s:\n${output}`, { cause: error });
        await sleep(100);
      }
    }
    const answers: string[] = [];
    for (const path of options.paths) answers.push(await (await fetch(`http://127.0.0.1:${port}${path}`)).text());
    return answers;
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * The fenced code block after each `<!-- consumer-test: <name> -->` marker of a
 * README, by name, verbatim.
 *
 * @example
 * ```ts
 * readmeBlocks(readFileSync('README.md', 'utf8')).get('app.mjs');
 * ```
 */
export function readmeBlocks(readme: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- consumer-test: (\S+) -->\n```\w*\n([\s\S]*?)\n```/g)) blocks.set(match[1]!, `${match[2]!}\n`);
  return blocks;
}

/**
 * Relative imports of the shipped JavaScript that point at a file the tarball
 * does not hold (a module the package needs but does not ship).
 *
 * @example
 * ```ts
 * expect(unresolvedImports(stage, files)).toEqual([]);
 * ```
 */
export function unresolvedImports(stage: string, files: readonly PackedFile[]): string[] {
  const shipped = new Set(files.map((file) => file.path));
  const missing: string[] = [];
  for (const file of shipped) {
    if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
    const source = readFileSync(join(stage, file), 'utf8');
    for (const match of source.matchAll(/(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = join(file, '..', match[1]!);
      const candidates = file.endsWith('.d.ts') ? [target.replace(/\.js$/, '.d.ts')] : [target];
      if (!candidates.some((candidate) => shipped.has(candidate))) missing.push(`${file} -> ${match[1]!}`);
    }
  }
  return missing;
}
