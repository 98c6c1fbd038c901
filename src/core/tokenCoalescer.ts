/**
 * Holds generated tokens so that the ones made within `intervalMs` of the last write go out
 * together: the first token is written at once; a token that comes sooner after a write waits, and
 * what waits goes out as one write when the interval is up, when an urgent token comes (a line's
 * end: readers act on it), or when the caller flushes (the generation ended). No token waits longer
 * than `intervalMs`; while tokens keep coming, the one after the interval carries the others out
 * (no timer wake-up of its own).
 *
 * Why: every write wakes the reader, and a small model makes a token every few milliseconds; on a
 * machine whose cores are busy, those wake-ups take CPU from the model itself. Used for
 * `tokenscope serve`'s SSE events (sseStream.ts) and for the model process's token messages to
 * serve (measured in bench/server.bench.ts).
 */
export class TokenCoalescer<T> {
  private pending: T[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastWriteAt = -Infinity;

  /** `intervalMs` 0: every token is written as it comes. */
  constructor(
    private readonly intervalMs: number,
    private readonly write: (tokens: T[]) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(token: T, urgent = false): void {
    this.pending.push(token);
    if (urgent || this.now() - this.lastWriteAt >= this.intervalMs) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Writes the tokens that wait, if any. */
  flush(): void {
    this.dispose();
    if (this.pending.length === 0) return;
    const tokens = this.pending;
    this.pending = [];
    this.lastWriteAt = this.now();
    this.write(tokens);
  }

  /** Drops the timer (the reader went away); tokens still waiting stay until the next flush. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
