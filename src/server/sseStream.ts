/**
 * The server-sent events of one streaming answer of `tokenscope serve`, with generated tokens
 * coalesced (core/tokenCoalescer.ts): the first token is written at once; a token that comes
 * within `intervalMs` of the previous token write waits, and what waited goes out as one event
 * (text joined, logprob entries in order, as vLLM's stream_interval does) when the interval is up
 * or the generation ends. A token that ends a line never waits (a completion engine stops reading
 * at a finished line, a chat view renders it). A non-streaming request gets nothing until its JSON answer.
 */
import type { ServerResponse } from 'node:http';
import type { TokenEvent } from '../core/runtime/types';
import { TokenCoalescer } from '../core/tokenCoalescer';
import { monotonicMs, type RequestTrace, type TracedWrite } from './serveTrace';

export interface SseStreamOptions {
  readonly streaming: boolean;
  /** Longest a token waits for others to join it (0: every token is written as it comes). */
  readonly intervalMs: number;
  /** The event body for tokens written together. */
  readonly renderTokens: (tokens: readonly TokenEvent[]) => unknown;
  readonly trace?: RequestTrace;
}

export class SseStream {
  private started = false;
  private readonly tokens: TokenCoalescer<TokenEvent>;

  constructor(
    private readonly res: ServerResponse,
    private readonly options: SseStreamOptions,
  ) {
    this.tokens = new TokenCoalescer(options.intervalMs, (tokens) => this.writeEvent(options.renderTokens(tokens), tokens.length));
    // A client that goes away leaves no timer behind.
    res.once('close', () => this.tokens.dispose());
  }

  /** One event as it is (role, finish, usage chunks); tokens that waited go out before it. */
  event(body: unknown): void {
    this.flush();
    this.writeEvent(body, 0);
  }

  /** A generated token: written now, or with the next ones (see the file comment). */
  token(token: TokenEvent): void {
    if (this.options.streaming) this.tokens.add(token, token.text.includes('\n'));
  }

  /** Writes the tokens that wait, if any. */
  flush(): void {
    this.tokens.flush();
  }

  /** A comment keeps a waiting client's first-byte timer from firing and says why it waits. */
  comment(text: string): void {
    this.begin();
    if (this.options.streaming && !this.res.writableEnded) this.res.write(`: ${text}\n\n`);
  }

  /** `data: [DONE]` and the end of the response. */
  done(): void {
    if (!this.options.streaming) return;
    this.flush();
    this.begin();
    if (this.res.writableEnded) return;
    const trace = this.options.trace;
    if (!trace) {
      this.res.end('data: [DONE]\n\n');
      return;
    }
    const traced: TracedWrite = { at: monotonicMs(), bytes: 14, tokens: 0 };
    trace.writes.push(traced);
    this.res.end('data: [DONE]\n\n', () => (traced.flushedAt = monotonicMs()));
  }

  private begin(): void {
    if (this.started || !this.options.streaming) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  }

  private writeEvent(body: unknown, tokens: number): void {
    this.begin();
    if (!this.options.streaming || this.res.writableEnded || this.res.destroyed) return;
    const text = `data: ${JSON.stringify(body)}\n\n`;
    const trace = this.options.trace;
    if (!trace) {
      this.res.write(text);
      return;
    }
    const traced: TracedWrite = { at: monotonicMs(), bytes: Buffer.byteLength(text), tokens };
    trace.writes.push(traced);
    this.res.write(text, () => (traced.flushedAt = monotonicMs()));
  }
}
