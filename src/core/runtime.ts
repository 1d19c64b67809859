/**
 * lookout's own `process_*` and `nodejs_*` metrics. Every value is read at
 * scrape time by one registry collector; only perf_hooks (event-loop delay
 * sampling, GC observer) runs in between, and neither keeps the process alive.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { PerformanceObserver, constants, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { LookoutError } from './errors.js';
import type { GaugeSeries } from './gauge.js';
import type { HistogramSeries } from './histogram.js';
import type { Registry } from './registry.js';

/**
 * Options of {@link registerRuntimeMetrics}.
 *
 * @example
 * ```ts
 * const options: RuntimeMetricsOptions = { eventLoopResolutionMs: 20 };
 * ```
 */
export interface RuntimeMetricsOptions {
  /** Sampling interval of the event-loop delay monitor, in ms (integer, default 10). */
  readonly eventLoopResolutionMs?: number;
  /** Buckets of `nodejs_gc_duration_seconds` (default 0.001, 0.01, 0.1, 1, 2, 5). */
  readonly gcBuckets?: readonly number[];
  /** Directory read for the Linux-only metrics (default `/proc/self`); they are skipped when it cannot be read. */
  readonly procDirectory?: string;
  /**
   * Mount point of the cgroup file system (default `/sys/fs/cgroup`), read once at registration for
   * `process_memory_limit_bytes` (Linux only).
   */
  readonly cgroupDirectory?: string;
}

/**
 * What {@link registerRuntimeMetrics} returns.
 *
 * @example
 * ```ts
 * const runtime = registerRuntimeMetrics(registry);
 * process.once('SIGTERM', () => runtime.stop());
 * ```
 */
export interface RuntimeMetrics {
  /** Disconnects the GC observer, disables the delay monitor and stops refreshing; the metrics stay registered with their last values. */
  stop(): void;
}

const GC_BUCKETS: readonly number[] = [0.001, 0.01, 0.1, 1, 2, 5];
const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * Registers the process and Node.js runtime metrics on `registry`.
 * Throws `LOOKOUT_E_DUPLICATE_METRIC` when they are already registered there.
 *
 * Besides prom-client's names (`process_resident_memory_bytes`, `nodejs_heap_size_used_bytes`, ...)
 * two limits let an alert compare memory with where the process dies, not only with itself:
 * - `nodejs_heap_size_limit_bytes`: V8's heap limit (`v8.getHeapStatistics().heap_size_limit`, set by
 *   `--max-old-space-size` or derived from the machine's or container's memory); the heap used
 *   reaching it ends the process with "JavaScript heap out of memory".
 * - `process_memory_limit_bytes`: the most memory the process can have, read once at registration:
 *   on Linux its cgroup's limit (a container's: cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`,
 *   the lowest along the cgroup path) when one is set below the machine's memory, else the
 *   machine's memory (`os.totalmem()`). Reaching it ends the process with an out-of-memory kill.
 *   Always present, so a panel or alert dividing by it works on every host.
 *
 * Event-loop lag is what `monitorEventLoopDelay` records minus its sampling
 * interval (the histogram records the whole time between two samples), over
 * the time since the previous scrape.
 *
 * @example
 * ```ts
 * const registry = new Registry();
 * const runtime = registerRuntimeMetrics(registry);
 * // ... later, on shutdown:
 * runtime.stop();
 * ```
 */
export function registerRuntimeMetrics(registry: Registry, options: RuntimeMetricsOptions = {}): RuntimeMetrics {
  const resolutionMs = options.eventLoopResolutionMs ?? 10;
  if (!Number.isInteger(resolutionMs) || resolutionMs < 1) {
    throw new LookoutError('LOOKOUT_E_INVALID_OPTION', 'eventLoopResolutionMs must be a positive integer');
  }
  if (registry.get('process_cpu_seconds_total') !== undefined) {
    throw new LookoutError('LOOKOUT_E_DUPLICATE_METRIC', 'runtime metrics are already registered on this registry');
  }
  const refreshProcess = registerProcessMetrics(registry, options.procDirectory ?? '/proc/self');
  const refreshMemory = registerMemoryMetrics(registry);
  const cgroupLimit = process.platform === 'linux' ? cgroupMemoryLimit(options.procDirectory ?? '/proc/self', options.cgroupDirectory ?? '/sys/fs/cgroup') : undefined;
  registry
    .gauge({ name: 'process_memory_limit_bytes', help: 'Most memory the process can have, in bytes: its cgroup (container) limit, or the machine\'s memory when none is lower.', unit: 'bytes' })
    .set(cgroupLimit ?? totalmem());
  const eventLoop = registerEventLoopMetrics(registry, resolutionMs);
  const gc = registerGcMetrics(registry, options.gcBuckets ?? GC_BUCKETS);
  const refreshResources = registerResourceMetrics(registry);
  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  registry
    .info({ name: 'nodejs_version_info', help: 'Node.js version.', labelNames: ['version', 'major', 'minor', 'patch'] })
    .set({ version: process.version, major, minor, patch });

  let stopped = false;
  registry.addCollector(() => {
    if (stopped) return;
    refreshProcess();
    refreshMemory();
    eventLoop.refresh();
    refreshResources();
  });
  return {
    stop() {
      stopped = true;
      gc.disconnect();
      eventLoop.disable();
    },
  };
}

function registerProcessMetrics(registry: Registry, procDirectory: string): () => void {
  const cpuUser = registry.counter({ name: 'process_cpu_user_seconds_total', help: 'User CPU time spent by the process, in seconds.', unit: 'seconds' });
  const cpuSystem = registry.counter({ name: 'process_cpu_system_seconds_total', help: 'System CPU time spent by the process, in seconds.', unit: 'seconds' });
  const cpuTotal = registry.counter({ name: 'process_cpu_seconds_total', help: 'User and system CPU time spent by the process, in seconds.', unit: 'seconds' });
  registry
    .gauge({ name: 'process_start_time_seconds', help: 'Start time of the process since the Unix epoch, in seconds.', unit: 'seconds' })
    .set(Math.round(performance.timeOrigin) / 1000);
  const resident = registry.gauge({ name: 'process_resident_memory_bytes', help: 'Resident memory size of the process, in bytes.', unit: 'bytes' });

  const linux = process.platform === 'linux' && readProc(procDirectory, 'stat') !== undefined;
  const virtual = linux ? registry.gauge({ name: 'process_virtual_memory_bytes', help: 'Virtual memory size of the process, in bytes.', unit: 'bytes' }) : undefined;
  const openFds = linux ? registry.gauge({ name: 'process_open_fds', help: 'Open file descriptors of the process.' }) : undefined;
  const maxFds = linux ? readMaxFds(procDirectory) : undefined;
  if (maxFds !== undefined) registry.gauge({ name: 'process_max_fds', help: 'Maximum number of open file descriptors (soft limit).' }).set(maxFds);

  return () => {
    const cpu = process.cpuUsage();
    cpuUser.labels({}).setTotal(cpu.user / 1e6);
    cpuSystem.labels({}).setTotal(cpu.system / 1e6);
    cpuTotal.labels({}).setTotal((cpu.user + cpu.system) / 1e6);
    resident.set(process.memoryUsage.rss());
    if (virtual !== undefined) {
      const bytes = virtualMemoryBytes(readProc(procDirectory, 'stat'));
      if (bytes !== undefined) virtual.set(bytes);
    }
    if (openFds !== undefined) {
      const count = countOpenFds(procDirectory);
      if (count !== undefined) openFds.set(count);
    }
  };
}

function registerMemoryMetrics(registry: Registry): () => void {
  const heapUsed = registry.gauge({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use, in bytes.', unit: 'bytes' });
  const heapTotal = registry.gauge({ name: 'nodejs_heap_size_total_bytes', help: 'V8 heap allocated, in bytes.', unit: 'bytes' });
  const heapLimit = registry.gauge({ name: 'nodejs_heap_size_limit_bytes', help: 'V8 heap limit (heap_size_limit), in bytes: the heap used reaching it ends the process.', unit: 'bytes' });
  const external = registry.gauge({ name: 'nodejs_external_memory_bytes', help: 'Memory of C++ objects bound to JavaScript objects, in bytes.', unit: 'bytes' });
  const spaceUsed = registry.gauge({
    name: 'nodejs_heap_space_size_used_bytes',
    help: 'V8 heap space in use, in bytes, by space.',
    unit: 'bytes',
    labelNames: ['space'],
    maxSeries: 64,
  });
  const bySpace = new Map<string, GaugeSeries>();
  return () => {
    const memory = process.memoryUsage();
    heapUsed.set(memory.heapUsed);
    heapTotal.set(memory.heapTotal);
    heapLimit.set(getHeapStatistics().heap_size_limit);
    external.set(memory.external);
    for (const space of getHeapSpaceStatistics()) {
      let series = bySpace.get(space.space_name);
      if (series === undefined) {
        // `old_space` -> `old`, as prom-client names it (dashboards rely on it).
        series = spaceUsed.labels({ space: space.space_name.replace(/_space$/, '') });
        bySpace.set(space.space_name, series);
      }
      series.set(space.space_used_size);
    }
  };
}

function registerEventLoopMetrics(registry: Registry, resolutionMs: number): { refresh(): void; disable(): void } {
  const lag = registry.gauge({ name: 'nodejs_eventloop_lag_seconds', help: 'Mean event-loop lag since the previous scrape, in seconds.', unit: 'seconds' });
  const lagP99 = registry.gauge({ name: 'nodejs_eventloop_lag_p99_seconds', help: '99th percentile of event-loop lag since the previous scrape, in seconds.', unit: 'seconds' });
  const lagMax = registry.gauge({ name: 'nodejs_eventloop_lag_max_seconds', help: 'Longest event-loop lag since the previous scrape, in seconds.', unit: 'seconds' });
  const utilization = registry.gauge({ name: 'nodejs_eventloop_utilization_ratio', help: 'Share of time the event loop was busy since the previous scrape.', unit: 'ratio' });
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const resolutionNs = resolutionMs * 1e6;
  const lagSeconds = (nanoseconds: number): number => Math.max(0, nanoseconds - resolutionNs) / 1e9;
  let lastUtilization = performance.eventLoopUtilization();
  return {
    refresh() {
      if (delay.count > 0) {
        lag.set(lagSeconds(delay.mean));
        lagP99.set(lagSeconds(delay.percentile(99)));
        lagMax.set(lagSeconds(delay.max));
      } else {
        lag.set(0);
        lagP99.set(0);
        lagMax.set(0);
      }
      delay.reset();
      const now = performance.eventLoopUtilization();
      const ratio = performance.eventLoopUtilization(now, lastUtilization).utilization;
      lastUtilization = now;
      utilization.set(Number.isFinite(ratio) ? ratio : 0);
    },
    disable() {
      delay.disable();
    },
  };
}

function registerGcMetrics(registry: Registry, buckets: readonly number[]): PerformanceObserver {
  const duration = registry.histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection pauses, in seconds, by kind.',
    unit: 'seconds',
    labelNames: ['kind'],
    buckets,
  });
  const byKind = new Map<number, HistogramSeries>();
  for (const [kind, label] of GC_KINDS) byKind.set(kind, duration.labels({ kind: label }));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // GC entries carry `detail.kind` (Node >= 16); the typings leave it off PerformanceEntry.
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
      const series = kind === undefined ? undefined : byKind.get(kind);
      series?.observe(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return observer;
}

function registerResourceMetrics(registry: Registry): () => void {
  const handles = registry.gauge({ name: 'nodejs_active_handles', help: 'Active libuv handles and requests keeping the event loop alive.' });
  const resources = registry.gauge({
    name: 'nodejs_active_resources',
    help: 'Active resources keeping the event loop alive, by type.',
    labelNames: ['type'],
    maxSeries: 100,
  });
  const byType = new Map<string, GaugeSeries>();
  return () => {
    const active = process.getActiveResourcesInfo();
    handles.set(active.length);
    // Types that went away report 0 rather than vanishing between scrapes.
    for (const series of byType.values()) series.set(0);
    for (const type of active) {
      let series = byType.get(type);
      if (series === undefined) {
        series = resources.labels({ type });
        byType.set(type, series);
      }
      series.inc();
    }
  };
}

function readProc(procDirectory: string, file: string): string | undefined {
  try {
    return readFileSync(`${procDirectory}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 23 (vsize, bytes) of /proc/self/stat; the command name may hold spaces, so count after its `)`. */
function virtualMemoryBytes(stat: string | undefined): number | undefined {
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const bytes = Number(fields[20]);
  return Number.isFinite(bytes) ? bytes : undefined;
}

function countOpenFds(procDirectory: string): number | undefined {
  try {
    // The directory handle readdir opens is itself listed.
    return readdirSync(`${procDirectory}/fd`).length - 1;
  } catch {
    return undefined;
  }
}

function readMaxFds(procDirectory: string): number | undefined {
  const match = /^Max open files\s+(\d+)/m.exec(readProc(procDirectory, 'limits') ?? '');
  return match === null ? undefined : Number(match[1]);
}

/** cgroup v1 writes "no limit" as the largest page-aligned 63-bit number; anything this large is none. */
const UNLIMITED_BYTES = 2 ** 62;

/**
 * The lowest memory limit along the process's cgroup path (its own and its ancestors'), from
 * `<proc>/cgroup` and the cgroup v2 (`memory.max`) or v1 (`memory/memory.limit_in_bytes`) files;
 * undefined when none is set, when it exceeds the machine's memory, or when nothing can be read.
 */
function cgroupMemoryLimit(procDirectory: string, cgroupDirectory: string): number | undefined {
  const membership = readProc(procDirectory, 'cgroup') ?? '';
  const candidates: string[] = [];
  for (const line of membership.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (match === null) continue;
    const [, id, controllers, path] = match as unknown as [string, string, string, string];
    const ancestors = cgroupAncestors(path);
    if (id === '0' && controllers === '') candidates.push(...ancestors.map((prefix) => `${cgroupDirectory}${prefix}/memory.max`));
    else if (controllers.split(',').includes('memory')) candidates.push(...ancestors.map((prefix) => `${cgroupDirectory}/memory${prefix}/memory.limit_in_bytes`));
  }
  // No /proc/self/cgroup: a container's own cgroup is usually mounted at the root.
  if (candidates.length === 0) candidates.push(`${cgroupDirectory}/memory.max`, `${cgroupDirectory}/memory/memory.limit_in_bytes`);
  let lowest: number | undefined;
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    const bytes = Number(text);
    if (text === '' || !Number.isFinite(bytes) || bytes <= 0 || bytes >= UNLIMITED_BYTES) continue;
    if (lowest === undefined || bytes < lowest) lowest = bytes;
  }
  return lowest !== undefined && lowest < totalmem() ? lowest : undefined;
}

/** `/a/b` -> `['/a/b', '/a', '']`; `/` -> `['']`. */
function cgroupAncestors(path: string): string[] {
  const parts = path.split('/').filter((part) => part !== '');
  return Array.from({ length: parts.length + 1 }, (_, index) => (index === parts.length ? '' : `/${parts.slice(0, parts.length - index).join('/')}`));
}
