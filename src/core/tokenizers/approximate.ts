/**
 * A stand-in tokenizer for a server's model whose real tokenizer Tokenscope does not have: it
 * counts word-piece-like tokens (chat/backend.ts pseudoTokenPattern, within ~20% of BPE counts on
 * code and English) so prompts can be cut to budget, and knows the control tokens it is given. Its
 * ids mean nothing: prompts built with it are sent as text, never as token ids (`estimate` is true).
 */
import { pseudoTokenPattern } from '../chat/backend';
import type { ModelTokenizer, TokenSpan } from './types';

export class ApproximateTokenizer implements ModelTokenizer {
  readonly estimate = true;
  readonly vocabSize = 1 << 30;
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly bySpecialId: Map<number, string>;

  constructor(
    readonly id: string,
    readonly label: string,
    controlTokens: readonly string[] = [],
  ) {
    this.specialTokens = new Map(controlTokens.map((token, index) => [token, index + 1]));
    this.bySpecialId = new Map(controlTokens.map((token, index) => [index + 1, token]));
  }

  encode(text: string): number[] {
    return this.encodeWithOffsets(text).map((span) => span.id);
  }

  encodeWithSpecialTokens(text: string): number[] {
    return this.encode(text);
  }

  encodeWithOffsets(text: string): TokenSpan[] {
    const spans: TokenSpan[] = [];
    for (const match of text.matchAll(pseudoTokenPattern)) {
      const start = match.index ?? 0;
      // Ids above the control tokens' (their value is never used).
      spans.push({ id: 1000 + (spans.length % 1000), start, end: start + match[0].length });
    }
    return spans;
  }

  count(text: string): number {
    return text.match(pseudoTokenPattern)?.length ?? 0;
  }

  decode(ids: readonly number[]): string {
    return ids.map((id) => this.bySpecialId.get(id) ?? '').join('');
  }

  idToToken(id: number): string | undefined {
    return this.bySpecialId.get(id);
  }

  tokenToId(token: string): number | undefined {
    return this.specialTokens.get(token);
  }
}
