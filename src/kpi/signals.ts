/**
 * Options of `createKpi({ handleSignals })`.
 *
 * @example
 * ```ts
 * createKpi({ registry, events, handleSignals: { signals: ['SIGTERM'], deadlineMs: 8000 } });
 * ```
 */
export interface SignalOptions {
  /** Signals that trigger the flush (default SIGTERM and SIGINT). */
  readonly signals?: readonly NodeJS.Signals[];
  /** How long the flush may take before the process goes on exiting (default 5000 ms). */
  readonly deadlineMs?: number;
}

/**
 * On the first of `signals`: closes the recorder (flushing within the
 * deadline), then re-raises the signal so the process ends as it would have
 * without us. When the application has its own listener for that signal, the
 * signal is not re-raised: exiting is then the application's call.
 *
 * @example
 * ```ts
 * const remove = installSignalHandlers(kpi, { deadlineMs: 3000 });
 * remove(); // on close()
 * ```
 */
export function installSignalHandlers(target: { close(options: { deadlineMs: number }): Promise<boolean> }, options: SignalOptions): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const deadlineMs = options.deadlineMs ?? 5000;
  let handled = false;
  const remove = (): void => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (handled) return;
    handled = true;
    void target.close({ deadlineMs }).finally(() => {
      remove();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  for (const signal of signals) process.on(signal, onSignal);
  return remove;
}
