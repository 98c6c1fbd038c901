/**
 * Turns on one shared model, handed out fairly: each client (an API user, else one address)
 * has its own FIFO line and the lines are served round-robin, so one editor sending many requests
 * cannot starve the others. A waiting turn can be given up (its request was cancelled or its
 * client disconnected); `limit` bounds how many may wait. Pure: no timers, no I/O.
 */

export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`the server is busy: ${waiting} requests are already waiting`);
    this.name = 'QueueFullError';
  }
}

interface Waiter {
  readonly key: string;
  readonly grant: (release: () => void) => void;
}

export class FairQueue {
  private readonly lines = new Map<string, Waiter[]>();
  /** Keys in serving order; the next turn goes to the first key with a waiter, which then moves to the back. */
  private readonly order: string[] = [];
  private running = 0;
  private waitingCount = 0;

  constructor(
    /** Turns that may run at once (1: one model, one generation). */
    private readonly concurrency = 1,
    private readonly limit = 64,
  ) {}

  get waiting(): number {
    return this.waitingCount;
  }

  get active(): number {
    return this.running;
  }

  /**
   * Waits for a turn; resolves with the function that ends it (call it exactly once, in a
   * `finally`). Rejects with the signal's abort (the request was given up) or QueueFullError.
   */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.running < this.concurrency && this.waitingCount === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waitingCount >= this.limit) return Promise.reject(new QueueFullError(this.waitingCount));
    return new Promise<() => void>((resolve, reject) => {
      const onAbort = () => {
        if (this.remove(waiter)) reject(abortError());
      };
      const waiter: Waiter = {
        key,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      let line = this.lines.get(key);
      if (!line) {
        line = [];
        this.lines.set(key, line);
        this.order.push(key);
      }
      line.push(waiter);
      this.waitingCount++;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.next();
    };
  }

  private next(): void {
    while (this.running < this.concurrency) {
      const index = this.order.findIndex((key) => (this.lines.get(key)?.length ?? 0) > 0);
      if (index === -1) return;
      const key = this.order[index];
      const line = this.lines.get(key)!;
      const waiter = line.shift()!;
      this.waitingCount--;
      // Round-robin: this client goes to the back of the order.
      this.order.splice(index, 1);
      if (line.length > 0) this.order.push(key);
      else this.lines.delete(key);
      this.running++;
      waiter.grant(this.releaser());
    }
  }

  private remove(waiter: Waiter): boolean {
    const line = this.lines.get(waiter.key);
    const index = line?.indexOf(waiter) ?? -1;
    if (!line || index === -1) return false;
    line.splice(index, 1);
    this.waitingCount--;
    if (line.length === 0) {
      this.lines.delete(waiter.key);
      const at = this.order.indexOf(waiter.key);
      if (at !== -1) this.order.splice(at, 1);
    }
    return true;
  }
}

function abortError(): Error {
  const error = new Error('The request was cancelled while it waited for its turn.');
  error.name = 'AbortError';
  return error;
}
