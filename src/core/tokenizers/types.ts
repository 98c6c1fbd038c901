/**
 * What every tokenizer in Tokenscope offers, whether it backs a local model or only counts tokens
 * for a commercial API. Offsets are UTF-16 code-unit offsets into the encoded string, as VS Code
 * positions are.
 */
export interface TokenSpan {
  /** Vocabulary id. */
  readonly id: number;
  /** UTF-16 offset of the first code unit this token covers. */
  readonly start: number;
  /**
   * UTF-16 offset just past the last code unit this token covers. A token that holds only the
   * leading bytes of a multi-byte character that the next token finishes has start === end: the
   * character is attributed to the token that completes it.
   */
  readonly end: number;
}

export interface TokenizerInfo {
  /** Stable id used in settings and the CLI (`mini`, `qwen2.5`, `o200k_base`, ...). */
  readonly id: string;
  /** Human label for pickers. */
  readonly label: string;
  /** True where counts only approximate the real tokenizer (e.g. the legacy Claude tokenizer). */
  readonly estimate: boolean;
}

export interface Tokenizer extends TokenizerInfo {
  /**
   * Encodes text as the model would see it when the text is user content: special-token strings
   * such as `<|im_end|>` are treated as plain text and can never become control tokens.
   */
  encode(text: string): number[];
  /** Same as {@link encode}, with UTF-16 offsets per token. */
  encodeWithOffsets(text: string): TokenSpan[];
  /** Number of tokens {@link encode} would return; may be faster than encoding. */
  count(text: string): number;
  /** Decodes ids back to text (byte-level tokens joined before UTF-8 decoding). */
  decode(ids: readonly number[]): string;
  /** The vocabulary string of one token (byte-level form, e.g. `Ġfoo`), if the id exists. */
  idToToken(id: number): string | undefined;
  /** The id of a vocabulary string or special token, if it exists. */
  tokenToId(token: string): number | undefined;
  /**
   * The UTF-8 bytes one token stands for (a special token: its text), if the id exists. Optional:
   * callers fall back to `decode([id])`, which cannot show a partial multi-byte character.
   */
  tokenBytes?(id: number): Uint8Array | undefined;
  /** Size of the vocabulary including added tokens. */
  readonly vocabSize: number;
}

/**
 * The tokenizer of a local model. Prompts mix control tokens (`<|fim_prefix|>`, `<|im_start|>`) with
 * user text; only the prompt builder may produce control tokens, through these methods.
 */
export interface ModelTokenizer extends Tokenizer {
  /** Added/special tokens of the vocabulary by their string (e.g. `<|im_end|>` → 151645). */
  readonly specialTokens: ReadonlyMap<string, number>;
  /**
   * Encodes trusted template text in which special-token strings DO become control tokens. Never
   * call this on user content: use {@link Tokenizer.encode}.
   */
  encodeWithSpecialTokens(text: string): number[];
}
