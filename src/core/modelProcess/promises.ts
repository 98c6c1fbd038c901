/**
 * The promise plumbing the model process client waits with: a `Deferred` (the "process is back"
 * that many requests wait on at once), `abortable` (stop waiting the moment a request is
 * cancelled, without cancelling what is waited on) and `EventQueue` (one generation's events,
 * pushed as IPC messages arrive and read by the caller's `for await`).
 */
import { raceAbort } from '../abortableSleep';
import { GenerationAbortedError } from '../runtime/types';

/** A promise with its resolve/reject, for "the process is back" that many requests wait on. */
export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting when it fails; each waiter sees the rejection itself.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Rejects at once with a GenerationAbortedError when `signal` aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  return signal ? raceAbort(promise, signal, () => new GenerationAbortedError('The request was cancelled.')) : promise;
}

/** An async queue feeding one generation's events to its iterator. */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    this.wake?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
