/**
 * Stop sequences over a token stream. Text that might be the start of a stop sequence is held
 * back (with its tokens) until it is clear; when a stop sequence completes, the tokens before it
 * are released, the one it starts in cut short, and the rest dropped.
 */

export interface PendingToken<T> {
  readonly token: T;
  readonly text: string;
}

export interface StopResult<T> {
  /** Tokens safe to emit now, with their (possibly cut) text. */
  readonly release: PendingToken<T>[];
  /** The stop sequence that matched, if any: generation ends. */
  readonly stop?: string;
}

export class StopMatcher<T> {
  private pending: PendingToken<T>[] = [];
  private pendingText = '';

  constructor(private readonly stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  push(token: T, text: string): StopResult<T> {
    if (this.stops.length === 0) return { release: [{ token, text }] };
    this.pending.push({ token, text });
    this.pendingText += text;
    // A complete stop sequence: the earliest one wins.
    let stopAt = -1;
    let stop: string | undefined;
    for (const candidate of this.stops) {
      const index = this.pendingText.indexOf(candidate);
      if (index !== -1 && (stopAt === -1 || index < stopAt)) {
        stopAt = index;
        stop = candidate;
      }
    }
    if (stop !== undefined) {
      const release = this.take(stopAt, true);
      this.pending = [];
      this.pendingText = '';
      return { release, stop };
    }
    // Hold back from the earliest position where the remaining text could begin a stop sequence.
    let holdFrom = this.pendingText.length;
    for (let start = 0; start < this.pendingText.length; start++) {
      const tail = this.pendingText.slice(start);
      if (this.stops.some((candidate) => candidate.startsWith(tail))) {
        holdFrom = start;
        break;
      }
    }
    return { release: this.take(holdFrom, false) };
  }

  /** Releases everything held (generation ended for another reason). */
  flush(): PendingToken<T>[] {
    const release = this.pending;
    this.pending = [];
    this.pendingText = '';
    return release;
  }

  /** Takes tokens whose text lies before `end`; with `cut`, also the token straddling it, shortened. */
  private take(end: number, cut: boolean): PendingToken<T>[] {
    const release: PendingToken<T>[] = [];
    let offset = 0;
    let consumed = 0;
    for (const entry of this.pending) {
      const entryEnd = offset + entry.text.length;
      if (entryEnd <= end && !(cut && entry.text.length === 0 && offset === end)) {
        release.push(entry);
        consumed++;
      } else if (cut && offset < end) {
        release.push({ token: entry.token, text: entry.text.slice(0, end - offset) });
        consumed++;
        break;
      } else {
        break;
      }
      offset = entryEnd;
    }
    if (!cut) {
      this.pending = this.pending.slice(consumed);
      this.pendingText = this.pending.map((entry) => entry.text).join('');
    }
    return release;
  }
}
