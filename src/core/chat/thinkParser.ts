/**
 * Splits a streamed model answer into its reasoning trace and its final answer.
 *
 * Reasoning models write `<think>…</think>` before the answer. DeepSeek-R1-Distill chat templates
 * end the prompt with `<think>\n`, so their output holds only the closing `</think>`; the parser
 * handles both, and tags split anywhere across chunks. Only a `<think>` at the very start opens a
 * trace and only the first `</think>` closes it: the same strings later in the answer (inside a
 * code fence explaining this very format, say) are plain text.
 */

export type SegmentKind = 'thinking' | 'answer';

/** What one `push` added, in order. `reclassify` moves everything shown as answer so far into the trace. */
export type ThinkDelta = { readonly kind: SegmentKind; readonly text: string } | { readonly kind: 'reclassify' };

export interface ThinkParserOptions {
  /**
   * True when the prompt itself already opened the trace (it ends with `<think>`), so output starts
   * inside it. False when the prompt cannot have opened one: only a leading `<think>` starts a trace.
   * Undefined (unknown): text is shown as answer until a bare `</think>` outside a code fence turns
   * it into a trace (a `reclassify` delta).
   */
  readonly startsInThinking?: boolean;
  /** Clock for the trace duration; injectable so tests are deterministic. */
  readonly now?: () => number;
}

export interface ThinkSnapshot {
  readonly thinking: string;
  readonly answer: string;
  /** True once a trace has been seen (opened or closed). */
  readonly hasThinking: boolean;
  /** False while the trace is still open (or the stream ended inside it). */
  readonly thinkingComplete: boolean;
  readonly thinkingTokens: number;
  readonly answerTokens: number;
  /** From the first trace text to the closing tag (or to now / the end while unterminated). */
  readonly thinkingDurationMs: number;
}

const OPEN = '<think>';
const CLOSE = '</think>';

/** Longest suffix of `text` that is a proper prefix of `tag`: it may be the start of a split tag. */
function partialTagSuffix(text: string, tag: string): number {
  const max = Math.min(text.length, tag.length - 1);
  for (let length = max; length > 0; length--) {
    if (tag.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}

type Mode =
  /** Nothing but whitespace seen: an opening tag may still come. */
  | 'start'
  /** Inside an opened trace. */
  | 'thinking'
  /** Showing text as answer, but a bare `</think>` would turn it into a trace (R1 style). */
  | 'provisional'
  /** The answer proper: every tag is text. */
  | 'answer';

export class ThinkParser {
  private mode: Mode;
  /** Text held back because it may be the start of a tag. */
  private pending = '';
  private thinking = '';
  private answer = '';
  private thinkingTokens = 0;
  private answerTokens = 0;
  private provisionalTokens = 0;
  private sawThinking = false;
  private thinkingClosed = false;
  private thinkingStartedAt: number | undefined;
  private thinkingEndedAt: number | undefined;
  /** Whether the provisional answer is inside a fenced code block, where `</think>` is only text. */
  private inFence = false;
  private fenceMarker = '';
  /** The current, not yet finished line of provisional text (for fence detection). */
  private lineSoFar = '';
  private readonly now: () => number;
  private readonly startsInThinking: boolean | undefined;
  private finished = false;

  constructor(options: ThinkParserOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.startsInThinking = options.startsInThinking;
    if (options.startsInThinking === true) {
      this.mode = 'thinking';
      this.sawThinking = true;
    } else {
      this.mode = 'start';
    }
  }

  /** Feeds one chunk; `tokens` is how many model tokens it holds (for the trace's token count). */
  push(chunk: string, tokens = 1): ThinkDelta[] {
    if (this.finished) throw new Error('ThinkParser.push called after finish(); create a new parser for a new answer.');
    const modeBefore = this.mode;
    const deltas: ThinkDelta[] = [];
    this.pending += chunk;
    this.consume(deltas, false);
    this.countTokens(modeBefore, tokens, deltas);
    return deltas;
  }

  /** Flushes held-back text at the end of the stream. */
  finish(): ThinkDelta[] {
    if (this.finished) return [];
    const deltas: ThinkDelta[] = [];
    this.consume(deltas, true);
    this.finished = true;
    if (this.mode === 'thinking' && this.thinkingEndedAt === undefined) this.thinkingEndedAt = this.now();
    return deltas;
  }

  snapshot(): ThinkSnapshot {
    const end = this.thinkingEndedAt ?? (this.thinkingStartedAt !== undefined ? this.now() : undefined);
    return {
      thinking: this.thinking.replace(/\s+$/, ''),
      answer: this.answer,
      hasThinking: this.sawThinking,
      thinkingComplete: this.thinkingClosed,
      thinkingTokens: this.thinkingTokens,
      answerTokens: this.answerTokens + this.provisionalTokens,
      thinkingDurationMs: this.thinkingStartedAt !== undefined && end !== undefined ? Math.max(0, end - this.thinkingStartedAt) : 0,
    };
  }

  /** A chunk's tokens go to the part that was open when it began, or, at the start, to the part it opened. */
  private countTokens(modeBefore: Mode, tokens: number, deltas: readonly ThinkDelta[]): void {
    const reclassified = deltas.some((delta) => delta.kind === 'reclassify');
    if (reclassified) {
      // The provisional answer was a trace all along, and so was this chunk up to the closing tag.
      this.thinkingTokens += this.provisionalTokens + tokens;
      this.provisionalTokens = 0;
      return;
    }
    const mode = modeBefore === 'start' ? this.mode : modeBefore;
    if (mode === 'thinking') this.thinkingTokens += tokens;
    else if (mode === 'provisional') this.provisionalTokens += tokens;
    else if (mode === 'answer') this.answerTokens += tokens;
    else this.provisionalTokens += tokens; // still only whitespace: count it with whatever follows
  }

  private consume(deltas: ThinkDelta[], atEnd: boolean): void {
    // Each pass either changes mode or empties `pending` as far as it safely can.
    for (;;) {
      switch (this.mode) {
        case 'start': {
          const trimmed = this.pending.replace(/^\s+/, '');
          if (trimmed === '') {
            if (atEnd) this.pending = '';
            return;
          }
          if (trimmed.startsWith(OPEN)) {
            this.pending = trimmed.slice(OPEN.length);
            this.mode = 'thinking';
            this.sawThinking = true;
            continue;
          }
          if (!atEnd && (OPEN.startsWith(trimmed) || CLOSE.startsWith(trimmed))) return; // maybe `<thi` of a split tag
          if (trimmed.startsWith(CLOSE)) {
            // An empty pre-filled trace: `</think>` with nothing before it.
            this.pending = trimmed.slice(CLOSE.length);
            this.sawThinking = true;
            this.closeThinking();
            continue;
          }
          this.pending = trimmed;
          // Told that the prompt did not open a trace: the text is the answer, whatever it holds.
          this.mode = this.startsInThinking === false ? 'answer' : 'provisional';
          continue;
        }
        case 'thinking': {
          const close = this.pending.indexOf(CLOSE);
          if (close >= 0) {
            this.emitThinking(this.pending.slice(0, close), deltas);
            this.pending = this.pending.slice(close + CLOSE.length);
            this.closeThinking();
            continue;
          }
          const hold = atEnd ? 0 : partialTagSuffix(this.pending, CLOSE);
          this.emitThinking(this.pending.slice(0, this.pending.length - hold), deltas);
          this.pending = this.pending.slice(this.pending.length - hold);
          return;
        }
        case 'provisional': {
          const close = this.findCloseOutsideFence();
          if (close >= 0) {
            const before = this.pending.slice(0, close);
            this.pending = this.pending.slice(close + CLOSE.length);
            // Everything shown as answer so far was the trace of a pre-filled `<think>`.
            deltas.push({ kind: 'reclassify' });
            this.thinking = this.answer;
            this.answer = '';
            this.sawThinking = true;
            this.thinkingStartedAt ??= this.now();
            this.emitThinking(before, deltas);
            this.closeThinking();
            continue;
          }
          const hold = atEnd ? 0 : partialTagSuffix(this.pending, CLOSE);
          const text = this.pending.slice(0, this.pending.length - hold);
          this.pending = this.pending.slice(this.pending.length - hold);
          this.trackFences(text);
          this.emitAnswer(text, deltas);
          return;
        }
        case 'answer': {
          this.emitAnswer(this.pending, deltas);
          this.pending = '';
          return;
        }
      }
    }
  }

  /**
   * Index of the first `</think>` in `pending` that can close a pre-filled trace: not inside a code
   * fence and not inside inline code (an odd number of backticks before it on its line).
   */
  private findCloseOutsideFence(): number {
    for (let close = this.pending.indexOf(CLOSE); close >= 0; close = this.pending.indexOf(CLOSE, close + 1)) {
      const probe = new ThinkFenceProbe(this.inFence, this.fenceMarker, this.lineSoFar);
      probe.feed(this.pending.slice(0, close));
      if (probe.inFence) continue; // code until its fence closes
      const backticks = probe.line.match(/`/g)?.length ?? 0;
      if (backticks % 2 === 0) return close;
    }
    return -1;
  }

  private trackFences(text: string): void {
    const probe = new ThinkFenceProbe(this.inFence, this.fenceMarker, this.lineSoFar);
    probe.feed(text);
    this.inFence = probe.inFence;
    this.fenceMarker = probe.marker;
    this.lineSoFar = probe.line;
  }

  private closeThinking(): void {
    this.thinkingClosed = true;
    this.thinkingEndedAt = this.now();
    this.thinkingStartedAt ??= this.thinkingEndedAt;
    this.mode = 'answer';
    // The answer starts after the blank line models put after `</think>`.
    this.pending = this.pending.replace(/^\s+/, '');
    if (this.pending === '') this.skipLeadingAnswerWhitespace = true;
  }

  /** Set when the closing tag ended a chunk: whitespace at the start of the next chunks is dropped. */
  private skipLeadingAnswerWhitespace = false;

  private emitThinking(text: string, deltas: ThinkDelta[]): void {
    if (text === '') return;
    let out = text;
    if (this.thinking === '') out = out.replace(/^\s+/, '');
    if (out === '') return;
    this.thinkingStartedAt ??= this.now();
    this.thinking += out;
    deltas.push({ kind: 'thinking', text: out });
  }

  private emitAnswer(text: string, deltas: ThinkDelta[]): void {
    let out = text;
    if (this.skipLeadingAnswerWhitespace) {
      out = out.replace(/^\s+/, '');
      if (out === '') return;
      this.skipLeadingAnswerWhitespace = false;
    }
    if (out === '') return;
    this.answer += out;
    deltas.push({ kind: 'answer', text: out });
  }
}

/**
 * Follows Markdown fence lines (``` or ~~~, three or more) through streamed text. Only complete
 * lines count: a fence opener is a line of its own, so the newline that ends it has arrived before
 * any `</think>` inside the block can.
 */
class ThinkFenceProbe {
  constructor(
    public inFence: boolean,
    public marker: string,
    public line: string,
  ) {}

  feed(text: string): void {
    for (const char of text) {
      if (char === '\n') {
        this.endLine(this.line);
        this.line = '';
      } else {
        this.line += char;
      }
    }
  }

  private endLine(line: string): void {
    const fence = /^ {0,3}(`{3,}|~{3,})\s*(\S*)/.exec(line);
    if (!fence) return;
    const marker = fence[1] ?? '';
    if (!this.inFence) {
      this.inFence = true;
      this.marker = marker;
    } else if (marker[0] === this.marker[0] && marker.length >= this.marker.length && (fence[2] ?? '') === '') {
      this.inFence = false;
      this.marker = '';
    }
  }
}

/** Parses a whole answer at once (history, fixtures, the trace document). */
export function splitThinking(text: string, options: ThinkParserOptions = {}): ThinkSnapshot {
  const parser = new ThinkParser(options);
  parser.push(text, 0);
  parser.finish();
  return parser.snapshot();
}
