const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  readonly done: () => boolean;
  readonly resolve: (reached: boolean) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Promises that resolve true when a condition holds (checked on `notify`), or
 * false at their deadline. The deadline timer is referenced: a process
 * waiting for its flush stays alive until the flush ends or the deadline passes.
 *
 * @example
 * ```ts
 * const waiters = new Waiters();
 * const flushed = waiters.wait(() => written >= target, 5000);
 * written += 10; waiters.notify();
 * ```
 */
export class Waiters {
  private entries: Entry[] = [];

  wait(done: () => boolean, deadlineMs: number): Promise<boolean> {
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.entries = this.entries.filter((entry) => entry.timer !== timer);
        resolve(false);
      }, Math.max(0, Math.min(deadlineMs, MAX_TIMER_MS)));
      this.entries.push({ done, resolve, timer });
    });
  }

  /** Re-checks every condition; cheap when nobody waits. */
  notify(): void {
    if (this.entries.length === 0) return;
    this.entries = this.entries.filter((entry) => {
      if (!entry.done()) return true;
      clearTimeout(entry.timer);
      entry.resolve(true);
      return false;
    });
  }
}
