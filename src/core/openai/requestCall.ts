/**
 * One HTTP request's life on the server client: the fetch types it uses, its timeouts (connect,
 * first byte, a stream that stalls) and `RequestCall`, which joins the caller's signal with an
 * abort of its own for a timeout, reads the body while re-arming the stall timer at every chunk,
 * and turns whatever failed into a `ServerError` that says which timeout fired or what the socket
 * said (or rethrows the caller's own cancellation).
 */
import { raceAbort } from '../abortableSleep';
import { abortError, networkError, ServerError, timeoutError, type RequestPhase, type ServerIdentity } from './serverError';

export interface ServerTimeouts {
  /** Establishing the TCP/TLS connection (default 10 s). */
  readonly connectMs: number;
  /** From sending the request to the first byte of the answer's body (default 60 s: a big model's prefill). */
  readonly firstByteMs: number;
  /** Longest silence between two pieces of a stream once it has started (default 30 s). */
  readonly stallMs: number;
}

export const defaultTimeouts: ServerTimeouts = { connectMs: 10_000, firstByteMs: 60_000, stallMs: 30_000 };

/** The subset of fetch this client uses (tests and the CLI may pass another implementation). */
export type FetchFunction = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<FetchResponse>;

export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: AsyncIterable<Uint8Array> | null;
  text(): Promise<string>;
}

/**
 * One request's signal and timers: the caller's signal, plus our own abort for a timeout. The
 * timeout that fired is remembered, so the error can say which one it was.
 */
export class RequestCall {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal;
  private timer: NodeJS.Timeout | undefined;
  private armed: { readonly what: string; readonly ms: number } | undefined;
  private firedTimeout: { what: 'first-byte' | 'stall'; ms: number } | undefined;
  private readonly outer: AbortSignal | undefined;
  private readonly onOuterAbort = () => this.controller.abort(abortError());

  constructor(
    private readonly timeouts: ServerTimeouts,
    outer: AbortSignal | undefined,
  ) {
    this.outer = outer;
    this.signal = this.controller.signal;
    if (outer?.aborted) this.controller.abort(abortError());
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  waitForFirstByte(): void {
    this.arm(this.timeouts.firstByteMs, 'first-byte');
  }

  /** No timer while waiting to retry (the wait has its own length). */
  pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Reads a body, resetting the stall timer at every chunk. Each read races this request's signal:
   * undici's body iterator can miss an abort that lands while no read is pending (the caller
   * aborted while handling the previous chunk) and then waits forever on a socket it has closed
   * (seen in serve.test.ts's cancelled chat, 1 run in 4-6); a cancel or a timeout must end the read
   * at once whatever the body does.
   */
  async *read(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const chunks = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await raceAbort(chunks.next(), this.signal, () => this.signal.reason);
        if (next.done) return;
        this.arm(this.timeouts.stallMs, 'stall');
        yield next.value;
      }
    } finally {
      // Releases the body (and its connection) when reading stopped early; its own error is not ours.
      void Promise.resolve(chunks.return?.()).catch(() => undefined);
    }
  }

  async readText(response: FetchResponse): Promise<string> {
    if (!response.body) return '';
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of this.read(response.body)) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 4_000_000) throw new ServerError('protocol', 'The server sent more than 4 MB for a JSON answer; check the server URL.');
    }
    return text + decoder.decode();
  }

  abort(): void {
    this.pause();
    if (!this.controller.signal.aborted) this.controller.abort(abortError());
  }

  /** Turns a fetch/stream failure into a ServerError (or rethrows the caller's cancellation). */
  translate(error: unknown, server: ServerIdentity, phase: RequestPhase): Error {
    if (this.outer?.aborted) return abortError();
    if (this.firedTimeout) return timeoutError(server, this.firedTimeout);
    if (error instanceof ServerError) return error;
    return networkError(error, server, this.timeouts.connectMs, phase);
  }

  dispose(): void {
    this.pause();
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    // Whatever is still open (a consumer that stopped early) is closed: the server stops generating.
    if (!this.controller.signal.aborted) this.controller.abort(abortError());
  }

  private arm(ms: number, what: 'first-byte' | 'stall'): void {
    // Every chunk of a stream re-arms the stall timer: restarting the running one is cheaper than a new one.
    if (this.timer && this.armed?.what === what && this.armed.ms === ms) {
      this.timer.refresh();
      return;
    }
    this.pause();
    this.armed = { what, ms };
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.firedTimeout = { what, ms };
      const reason = new Error(`timed out (${what})`);
      reason.name = 'TimeoutError';
      this.controller.abort(reason);
    }, ms);
  }
}

