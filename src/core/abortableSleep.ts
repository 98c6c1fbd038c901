/**
 * One way to wait that a cancellation ends: `sleep(ms, signal, onAbort)` resolves after `ms`, or
 * rejects with `onAbort()` the moment `signal` aborts (at once if it already has). The retry loops
 * of the Hub download, its lock polling and the server client wait with it; each says in its own
 * words what a cancellation means (a HubError "cancelled", an AbortError).
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
