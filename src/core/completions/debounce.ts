/**
 * Waiting for a pause in typing. The engine calls `settle()` at every new call, so a superseded
 * call settles with false at once instead of hanging until its timer.
 */
export class Debouncer {
  private pending: { readonly settle: () => void } | undefined;

  /** True after `ms` of quiet; false when `settle()` or `signal` ends the wait first. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let done = false;
      const finish = (value: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.pending === entry) this.pending = undefined;
        resolve(value);
      };
      const onAbort = () => finish(false);
      const entry = { settle: () => finish(false) };
      this.pending = entry;
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => finish(true), ms);
    });
  }

  /** Settles the waiting call, if any, with false. */
  settle(): void {
    this.pending?.settle();
    this.pending = undefined;
  }
}
