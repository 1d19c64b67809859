import { describe, expect, it } from 'vitest';
import { installSignalHandlers } from './signals.js';

describe('installSignalHandlers', () => {
  it('closes on the signal, once, and leaves exiting to an application that has its own listener', async () => {
    const deadlines: number[] = [];
    const target = { close: async (options: { deadlineMs: number }) => { deadlines.push(options.deadlineMs); return true; } };
    const own = (): void => undefined;
    process.on('SIGUSR2', own);
    const before = process.listenerCount('SIGUSR2');
    const remove = installSignalHandlers(target, { signals: ['SIGUSR2'], deadlineMs: 1234 });
    expect(process.listenerCount('SIGUSR2')).toBe(before + 1);
    process.emit('SIGUSR2', 'SIGUSR2');
    process.emit('SIGUSR2', 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(deadlines).toEqual([1234]);
    // Our listener is gone; the application's stays and the signal was not re-raised (we are alive).
    expect(process.listenerCount('SIGUSR2')).toBe(before);
    remove();
    process.removeListener('SIGUSR2', own);
  });

  it('removes its listeners when asked', () => {
    const before = process.listenerCount('SIGTERM');
    const remove = installSignalHandlers({ close: async () => true }, {});
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(0);
    remove();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
