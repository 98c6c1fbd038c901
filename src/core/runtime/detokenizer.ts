/**
 * Turns a stream of token ids into text increments without ever emitting half a character. A
 * byte-level token may hold the first bytes of a multi-byte UTF-8 character; decoding it alone
 * gives U+FFFD. Like vLLM's incremental detokenizer, we decode a short window and emit only the
 * text that is complete, attributing a split character to the token that completes it.
 */
import type { Tokenizer } from '../tokenizers/types';

/** Prompt tokens decoded as left context: decoders that strip a leading space need some. */
const CONTEXT_TOKENS = 4;

export class IncrementalDetokenizer {
  private readonly ids: number[];
  /** Start of the decode window. */
  private prefixOffset: number;
  /** End of the already-emitted part of the window. */
  private readOffset: number;

  constructor(
    private readonly tokenizer: Pick<Tokenizer, 'decode'>,
    promptIds: readonly number[] = [],
  ) {
    this.ids = promptIds.slice(-CONTEXT_TOKENS);
    this.prefixOffset = 0;
    this.readOffset = this.ids.length;
  }

  /** Adds a token; returns the text it completes ('' while a character is still split). */
  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const fullText = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    // A trailing U+FFFD means the last token ended inside a character: wait for the rest. Give
    // up waiting after 4 tokens (no UTF-8 character is longer), so invalid bytes still come out.
    if (fullText.endsWith('\uFFFD') && this.ids.length - this.readOffset < 4) return '';
    if (fullText.length <= prefixText.length || !fullText.startsWith(prefixText)) {
      // Decoders that rewrite earlier text (rare): emit nothing now, keep the window growing.
      if (!fullText.startsWith(prefixText)) return this.resync(fullText, prefixText);
      return '';
    }
    const delta = fullText.slice(prefixText.length);
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return delta;
  }

  /** Text not emitted yet because it ends inside a character (flushed at the end of generation). */
  flush(): string {
    if (this.readOffset >= this.ids.length) return '';
    const prefixText = this.tokenizer.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    const fullText = this.tokenizer.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return fullText.startsWith(prefixText) ? fullText.slice(prefixText.length) : '';
  }

  private resync(fullText: string, prefixText: string): string {
    let common = 0;
    while (common < prefixText.length && prefixText[common] === fullText[common]) common++;
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    return fullText.slice(common);
  }
}
