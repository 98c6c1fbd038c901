/**
 * One way to wait that a cancellation ends: `sleep(ms, signal, onAbort)` resolves after `ms`, and
 * `raceAbort(promise, signal, onAbort)` when the promise settles; both reject with `onAbort()` the
 * moment `signal` aborts (at once if it already has). The retry loops of the Hub download, its lock
 * polling and the server client sleep with it, the model process client's waits and the server
 * client's body reads race with it; each says in its own words what a cancellation means (a
 * HubError "cancelled", an AbortError, the signal's own reason).
 */
export function sleep(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(onAbort());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    const abort = () => {
      clearTimeout(timer);
      reject(onAbort());
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}

/** `promise`, unless `signal` aborts first (what is waited on goes on; only the waiting stops). */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => unknown): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
