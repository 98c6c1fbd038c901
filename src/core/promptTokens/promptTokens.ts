/**
 * The raw sequence a model read: a prompt as token pieces, control tokens (`<|im_start|>`,
 * `<|fim_prefix|>`, `<think>`) told apart from text. To the model a conversation is one sequence
 * of tokens with special tokens between the turns; this is that sequence, as the model process fed
 * it (chat template applied, cut to fit the context the way the runtime cuts it).
 */
import type { ModelTokenizer } from '../tokenizers/types';
import type { PromptInput } from '../runtime/types';

export interface PromptPiece {
  readonly id: number;
  /**
   * The text the token stands for. A token holding only the first bytes of a multi-byte character
   * is empty; the token that completes the character carries it (as everywhere in Tokenscope).
   */
  readonly text: string;
  /** A control token of the vocabulary (added/special), not text. */
  readonly special: boolean;
}

/** The last prompt the model process fed its model. */
export interface LastPrompt {
  /** How the prompt was given: a chat (template applied: chat turns, explanations), token ids (completions), or plain text. */
  readonly kind: PromptInput['kind'];
  /** The model it was fed to (`mini` or a folder). */
  readonly model: string;
  readonly pieces: readonly PromptPiece[];
  /** Tokens cut from the start to fit the context window (not among the pieces). */
  readonly truncatedTokens: number;
  /** Date.now() when the generation started. */
  readonly at: number;
}

/** Each id as a piece: special tokens by their own string, the rest decoded as UTF-8 in sequence. */
export function promptPieces(tokenizer: Pick<ModelTokenizer, 'specialTokens' | 'decode'> & { tokenBytes?: ModelTokenizer['tokenBytes'] }, ids: readonly number[]): PromptPiece[] {
  const specialById = new Map<number, string>();
  for (const [text, id] of tokenizer.specialTokens) specialById.set(id, text);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  return ids.map((id) => {
    const special = specialById.get(id);
    if (special !== undefined) {
      // A control token ends any character left open before it (broken UTF-8: dropped).
      decoder.decode();
      return { id, text: special, special: true };
    }
    const bytes = tokenizer.tokenBytes?.(id);
    return { id, text: bytes ? decoder.decode(bytes, { stream: true }) : tokenizer.decode([id]), special: false };
  });
}

export interface PromptTokenCounts {
  readonly total: number;
  readonly special: number;
  readonly text: number;
  /** Each control token and how often it occurs, most frequent first. */
  readonly specialTally: readonly { readonly text: string; readonly count: number }[];
}

export function countPromptTokens(pieces: readonly PromptPiece[]): PromptTokenCounts {
  const tally = new Map<string, number>();
  for (const piece of pieces) if (piece.special) tally.set(piece.text, (tally.get(piece.text) ?? 0) + 1);
  const special = [...tally.values()].reduce((sum, count) => sum + count, 0);
  return {
    total: pieces.length,
    special,
    text: pieces.length - special,
    specialTally: [...tally.entries()].map(([text, count]) => ({ text, count })).sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)),
  };
}
