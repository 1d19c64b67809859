/**
 * A queue of messages that one consumer awaits, each wait bounded by a timeout.
 *
 * @example
 * ```ts
 * const inbox = new Inbox<string>();
 * setTimeout(() => inbox.push('hi'), 10);
 * await inbox.next(1000, () => new Error('timeout')); // 'hi'
 * ```
 */
export class Inbox<T> {
  private readonly queue: T[] = [];
  private waiter: { resolve: (value: T) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  /** Delivers a message to the waiting consumer, or queues it. */
  push(message: T): void {
    if (this.waiter !== undefined) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(message);
    } else {
      this.queue.push(message);
    }
  }

  /** Fails the current and every later wait. */
  fail(error: Error): void {
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }

  /** The next message; rejects with `timeoutError()` after `timeoutMs`. */
  next(timeoutMs: number, timeoutError: () => Error): Promise<T> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift()!);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(timeoutError());
      }, timeoutMs);
      timer.unref();
      this.waiter = {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }
}
