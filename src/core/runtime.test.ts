import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from './registry.js';
import { registerRuntimeMetrics, type RuntimeMetrics } from './runtime.js';

const linux = process.platform === 'linux';

/** The value of the sample line that starts with `series ` (exact name and labels). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no sample ${series} in:\n${text}`);
  const value = line.slice(series.length + 1).split(' ')[0]!;
  return value === '+Inf' ? Infinity : Number(value);
}

function types(openMetrics: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of openMetrics.matchAll(/^# TYPE (\S+) (\S+)$/gm)) found.set(match[1]!, match[2]!);
  return found;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Burns `ms` of CPU time (not wall time: the machine may be shared). */
function burnCpu(ms: number): void {
  const start = process.cpuUsage();
  while (process.cpuUsage(start).user < ms * 1000) block(1);
}

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy on purpose: this is the event-loop stall being measured.
  }
}

let runtime: RuntimeMetrics | undefined;
afterEach(() => {
  runtime?.stop();
  runtime = undefined;
});

function setup(options: Parameters<typeof registerRuntimeMetrics>[1] = {}): Registry {
  const registry = new Registry();
  runtime = registerRuntimeMetrics(registry, options);
  return registry;
}

describe('registerRuntimeMetrics', () => {
  it('registers every family with its type and unit', async () => {
    const text = await setup().metrics('openmetrics');
    const expected: Record<string, string> = {
      process_cpu_user_seconds: 'counter',
      process_cpu_system_seconds: 'counter',
      process_cpu_seconds: 'counter',
      process_start_time_seconds: 'gauge',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_used_bytes: 'gauge',
      nodejs_heap_size_total_bytes: 'gauge',
      nodejs_heap_size_limit_bytes: 'gauge',
      nodejs_external_memory_bytes: 'gauge',
      nodejs_heap_space_size_used_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
      nodejs_eventloop_lag_p99_seconds: 'gauge',
      nodejs_eventloop_lag_max_seconds: 'gauge',
      nodejs_eventloop_utilization_ratio: 'gauge',
      nodejs_gc_duration_seconds: 'histogram',
      nodejs_active_handles: 'gauge',
      nodejs_active_resources: 'gauge',
      nodejs_version: 'info',
      ...(linux ? { process_virtual_memory_bytes: 'gauge', process_open_fds: 'gauge', process_max_fds: 'gauge' } : {}),
    };
    const found = types(text);
    for (const [name, type] of Object.entries(expected)) expect(found.get(name), name).toBe(type);
    expect(text).toContain('# UNIT process_cpu_seconds seconds\n');
    expect(text).toContain('# UNIT nodejs_eventloop_utilization_ratio ratio\n');
    expect(text).toContain('# UNIT nodejs_gc_duration_seconds seconds\n');
    // Counters keep `_total` on the sample line.
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('reports CPU, memory, start time and version with plausible values', async () => {
    const registry = setup();
    block(30);
    const text = await registry.metrics();
    const user = sample(text, 'process_cpu_user_seconds_total');
    const system = sample(text, 'process_cpu_system_seconds_total');
    expect(user).toBeGreaterThan(0);
    expect(sample(text, 'process_cpu_seconds_total')).toBeCloseTo(user + system, 6);
    const startedAgo = Date.now() / 1000 - sample(text, 'process_start_time_seconds');
    expect(Math.abs(startedAgo - process.uptime())).toBeLessThan(2);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    const used = sample(text, 'nodejs_heap_size_used_bytes');
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(sample(text, 'nodejs_heap_size_total_bytes'));
    expect(sample(text, 'nodejs_heap_size_limit_bytes')).toBe(getHeapStatistics().heap_size_limit);
    expect(sample(text, 'nodejs_heap_size_limit_bytes')).toBeGreaterThan(sample(text, 'nodejs_heap_size_total_bytes'));
    expect(sample(text, 'nodejs_external_memory_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'nodejs_heap_space_size_used_bytes{space="old"}')).toBeGreaterThan(0);
    expect(text).not.toContain('space="old_space"');
    const [major, minor, patch] = process.versions.node.split('.');
    expect(sample(text, `nodejs_version_info{version="${process.version}",major="${major}",minor="${minor}",patch="${patch}"}`)).toBe(1);

    burnCpu(50);
    const later = await registry.metrics();
    expect(sample(later, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(user + 0.05);
    expect(sample(later, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(user + system + 0.05);
  });

  it.runIf(linux)('reads virtual memory and file descriptors from /proc', async () => {
    const registry = setup();
    const before = await registry.metrics();
    expect(sample(before, 'process_virtual_memory_bytes')).toBeGreaterThan(sample(before, 'process_resident_memory_bytes'));
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
    expect(sample(before, 'process_max_fds')).toBe(Number(limit));
    const fds = Array.from({ length: 5 }, () => openSync('/proc/self/stat', 'r'));
    try {
      const during = await registry.metrics();
      expect(sample(during, 'process_open_fds') - sample(before, 'process_open_fds')).toBe(5);
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });

  it('skips the /proc metrics when /proc cannot be read', async () => {
    const text = await setup({ procDirectory: '/nonexistent/lookout-proc' }).metrics();
    expect(text).not.toContain('process_virtual_memory_bytes');
    expect(text).not.toContain('process_open_fds');
    expect(text).not.toContain('process_max_fds');
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it.runIf(linux)('reads the lowest cgroup memory limit along the path once, and the machine\'s memory when unlimited or unreadable', async () => {
    const root = mkdtempSync(join(tmpdir(), 'lookout-cgroup-'));
    const write = (path: string, text: string): void => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    try {
      // cgroup v2: the process's own cgroup unlimited, its parent (the container) at 512 MiB.
      write('proc-v2/cgroup', '0::/kubepods/pod1/app\n');
      write('fs-v2/kubepods/pod1/app/memory.max', 'max\n');
      write('fs-v2/kubepods/pod1/memory.max', `${512 * 1024 * 1024}\n`);
      write('fs-v2/kubepods/memory.max', `${2 * 1024 * 1024 * 1024}\n`);
      const registry = setup({ procDirectory: join(root, 'proc-v2'), cgroupDirectory: join(root, 'fs-v2') });
      expect(sample(await registry.metrics(), 'process_memory_limit_bytes')).toBe(512 * 1024 * 1024);
      // Read once: a later change is not followed (a limit changes only with a new container).
      write('fs-v2/kubepods/pod1/memory.max', 'max\n');
      expect(sample(await registry.metrics(), 'process_memory_limit_bytes')).toBe(512 * 1024 * 1024);
      runtime!.stop();

      // cgroup v1: the memory controller's line, 256 MiB at the leaf.
      write('proc-v1/cgroup', '5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n');
      write('fs-v1/memory/docker/abc/memory.limit_in_bytes', `${256 * 1024 * 1024}\n`);
      write('fs-v1/memory/memory.limit_in_bytes', '9223372036854771712\n');
      expect(sample(await setup({ procDirectory: join(root, 'proc-v1'), cgroupDirectory: join(root, 'fs-v1') }).metrics(), 'process_memory_limit_bytes')).toBe(256 * 1024 * 1024);
      runtime!.stop();

      // v1 "unlimited" everywhere, a limit above the machine's memory, nothing readable: the machine's memory, no error.
      write('proc-unlimited/cgroup', '4:memory:/docker/abc\n');
      write('fs-unlimited/memory/docker/abc/memory.limit_in_bytes', '9223372036854771712\n');
      write('fs-unlimited/memory/memory.limit_in_bytes', `${totalmem() * 2}\n`);
      for (const [proc, fs] of [['proc-unlimited', 'fs-unlimited'], ['proc-v2', 'nonexistent'], ['nonexistent', 'nonexistent']] as const) {
        const text = await setup({ procDirectory: join(root, proc), cgroupDirectory: join(root, fs) }).metrics();
        expect(sample(text, 'process_memory_limit_bytes'), `${proc} ${fs}`).toBe(totalmem());
        expect(text).toContain('nodejs_heap_size_limit_bytes');
        runtime!.stop();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('parses a command name with spaces and parentheses in stat', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'lookout-proc-'));
    try {
      // Fields 3.. of a real stat line; vsize (field 23) is 123456789.
      const tail = ['S', ...Array.from({ length: 19 }, (_, index) => String(index + 4)), '123456789', '2048'].join(' ');
      writeFileSync(join(directory, 'stat'), `42 (my (odd) app) ${tail}\n`);
      writeFileSync(join(directory, 'limits'), 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            4096                 8192                 files\n');
      const text = await setup({ procDirectory: directory }).metrics();
      if (linux) {
        expect(sample(text, 'process_virtual_memory_bytes')).toBe(123456789);
        expect(sample(text, 'process_max_fds')).toBe(4096);
        // No fd directory in the fake /proc: the gauge keeps its last value rather than failing the scrape.
        expect(sample(text, 'process_open_fds')).toBe(0);
        expect(text).toContain('lookout_collect_errors_total');
        expect(text).not.toMatch(/^lookout_collect_errors_total\{/m);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('measures event-loop lag since the previous scrape and resets it', async () => {
    const registry = setup({ eventLoopResolutionMs: 10 });
    await sleep(40);
    block(200);
    await sleep(40);
    const blocked = await registry.metrics();
    const max = sample(blocked, 'nodejs_eventloop_lag_max_seconds');
    console.log(`event-loop lag after a 200 ms block: max ${max.toFixed(4)} s, p99 ${sample(blocked, 'nodejs_eventloop_lag_p99_seconds').toFixed(4)} s, mean ${sample(blocked, 'nodejs_eventloop_lag_seconds').toFixed(4)} s`);
    // The block minus at most one sampling interval (the histogram records whole intervals).
    expect(max).toBeGreaterThan(0.18);
    expect(max).toBeLessThan(1);
    expect(sample(blocked, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0.18);
    expect(sample(blocked, 'nodejs_eventloop_lag_seconds')).toBeGreaterThan(0);

    await sleep(100);
    const idle = await registry.metrics();
    // The histogram was reset by the first scrape: the 200 ms block is gone
    // (the bounds leave room for a busy shared machine).
    expect(sample(idle, 'nodejs_eventloop_lag_max_seconds')).toBeLessThan(0.15);
    // The sampling interval itself is not lag: an idle loop reads near 0, not near 0.010.
    expect(sample(idle, 'nodejs_eventloop_lag_seconds')).toBeLessThan(0.02);
  });

  it('reports event-loop utilization since the previous scrape', async () => {
    const registry = setup();
    await registry.metrics();
    block(300);
    await sleep(5);
    const busy = sample(await registry.metrics(), 'nodejs_eventloop_utilization_ratio');
    await sleep(200);
    const idle = sample(await registry.metrics(), 'nodejs_eventloop_utilization_ratio');
    console.log(`event-loop utilization: busy ${busy.toFixed(3)}, idle ${idle.toFixed(3)}`);
    expect(busy).toBeGreaterThan(0.6);
    expect(busy).toBeLessThanOrEqual(1);
    expect(idle).toBeLessThan(0.3);
  });

  it('observes garbage collections by kind', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = setup();
    let junk: object[] = [];
    for (let index = 0; index < 300_000; index++) junk.push({ index });
    junk = [];
    gc();
    await sleep(20);
    const text = await registry.metrics();
    expect(junk).toHaveLength(0);
    expect(sample(text, 'nodejs_gc_duration_seconds_count{kind="major"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nodejs_gc_duration_seconds_count{kind="minor"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nodejs_gc_duration_seconds_sum{kind="major"}')).toBeGreaterThan(0);
    // Every kind is bound up front, so dashboards see zeros rather than gaps.
    expect(sample(text, 'nodejs_gc_duration_seconds_bucket{kind="weakcb",le="+Inf"}')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('nodejs_gc_duration_seconds_bucket{kind="major",le="0.001"} ');
  });

  it('counts active resources by type, and a type that went away reads 0', async () => {
    const registry = setup();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const open = await registry.metrics();
    expect(sample(open, 'nodejs_active_resources{type="TCPServerWrap"}')).toBe(1);
    const total = [...open.matchAll(/^nodejs_active_resources\{type="[^"]+"\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    expect(sample(open, 'nodejs_active_handles')).toBe(total);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sleep(20); // libuv releases the closed handle on a later loop turn
    const closed = await registry.metrics();
    expect(sample(closed, 'nodejs_active_resources{type="TCPServerWrap"}')).toBe(0);
  });

  it('stops: no more GC observations and no more refreshes', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const registry = setup();
    const before = await registry.metrics();
    runtime!.stop();
    gc();
    block(30);
    await sleep(20);
    const after = await registry.metrics();
    for (const series of ['nodejs_gc_duration_seconds_count{kind="major"}', 'process_cpu_seconds_total']) {
      expect(sample(after, series), series).toBe(sample(before, series));
    }
    runtime!.stop(); // idempotent
  });

  it('rejects a bad resolution and a second registration with stable codes', () => {
    expect(() => registerRuntimeMetrics(new Registry(), { eventLoopResolutionMs: 0 })).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_INVALID_OPTION' }));
    const registry = setup();
    expect(() => registerRuntimeMetrics(registry)).toThrow(expect.objectContaining({ code: 'LOOKOUT_E_DUPLICATE_METRIC' }));
  });

  it('scrapes cheaply and with a stable series count', async () => {
    const registry = setup();
    await registry.metrics();
    const lines = (await registry.metrics()).split('\n').length;
    const rounds = 200;
    const start = performance.now();
    for (let round = 0; round < rounds; round++) await registry.metrics();
    const perScrape = (performance.now() - start) / rounds;
    console.log(`runtime metrics scrape: ${perScrape.toFixed(3)} ms each (${lines} lines)`);
    expect(perScrape).toBeLessThan(5);
    expect((await registry.metrics()).split('\n').length).toBe(lines);
  });

  it('does not keep the process alive', () => {
    const script = join(mkdtempSync(join(tmpdir(), 'lookout-rt-')), 'exit.mts');
    const source = new URL('./index.ts', new URL('../', import.meta.url)).pathname;
    writeFileSync(script, `import { Registry, registerRuntimeMetrics } from ${JSON.stringify(source)};\nregisterRuntimeMetrics(new Registry());\nconsole.log('registered');\n`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), timeout: 15_000, encoding: 'utf8' });
    rmSync(join(script, '..'), { recursive: true, force: true });
    expect(child.error).toBeUndefined();
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('registered');
    expect(child.status).toBe(0);
  });
});
