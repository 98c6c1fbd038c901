/**
 * tiktoken-format tokenizers (a rank per byte string, a split regex) on our fast BPE engine: OpenAI's
 * o200k_base and cl100k_base (ranks from `gpt-tokenizer`'s bundled tables) and the legacy Claude
 * tokenizer (`@anthropic-ai/tokenizer`'s claude.json). Ids equal tiktoken itself (OpenAI's Rust
 * core, tested through the `tiktoken` WASM package). `gpt-tokenizer`'s own encoder does not quite:
 * it splits with JavaScript's `\s`, which wrongly includes U+FEFF and lacks U+0085; we translate
 * the original patterns with Rust's meaning instead.
 *
 * tiktoken merges the adjacent pair whose concatenated bytes have the lowest rank, leftmost first,
 * after taking a piece whole when it is itself a token. Our engine does the same with pair ranks
 * looked up lazily ({@link LazyPairRanks}): the rank of a pair is the rank of its concatenation.
 */
import { BYTE_TO_CHAR, bytesToByteLevel } from './byteLevel';
import { LazyPairRanks, NO_MERGE } from './bpe';
import { BytePairTokenizer, type AddedToken } from './bytePairTokenizer';
import { compileOnigurumaRegex } from './onigurumaRegex';
import type { NormalizationForm } from './normalization';

export interface TiktokenDefinition {
  readonly id: string;
  readonly label: string;
  readonly estimate: boolean;
  /** `ranks[rank]` is the token's bytes; the rank is the token id. Gaps are allowed (undefined). */
  readonly ranks: readonly (Uint8Array | undefined)[];
  /** The split pattern (Rust regex syntax, as tiktoken takes it). */
  readonly pattern: string;
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly normalization?: readonly NormalizationForm[];
}

export function loadTiktokenTokenizer(definition: TiktokenDefinition): BytePairTokenizer {
  const vocab = new Map<string, number>();
  definition.ranks.forEach((bytes, rank) => {
    if (bytes) vocab.set(bytesToByteLevel(bytes), rank);
  });
  const byteToId = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const id = vocab.get(BYTE_TO_CHAR[byte]);
    if (id === undefined) throw new Error(`${definition.id}: the ranks lack the single byte 0x${byte.toString(16)}; the tokenizer data is incomplete`);
    byteToId[byte] = id;
  }
  // A pair merges when its concatenation is a token, ranked by that token (whose id is its rank).
  const byteLevel: string[] = [];
  for (const [token, rank] of vocab) byteLevel[rank] = token;
  const identity = new Int32Array(definition.ranks.length);
  for (let rank = 0; rank < identity.length; rank++) identity[rank] = rank;
  const merges = new LazyPairRanks((a, b) => vocab.get(byteLevel[a] + byteLevel[b]) ?? NO_MERGE, identity);
  const addedTokens: AddedToken[] = Object.entries(definition.specialTokens).map(([content, id]) => ({ id, content, special: true, lstrip: false, rstrip: false }));
  return new BytePairTokenizer({
    id: definition.id,
    label: definition.label,
    estimate: definition.estimate,
    vocab,
    merges,
    byteToId,
    splitRegexes: [compileOnigurumaRegex(definition.pattern, { unicodeCaseFold: true })],
    normalization: definition.normalization ?? [],
    wholePieceLookup: true,
    addedTokens,
  });
}

/**
 * Parses the compact rank format of claude.json / js-tiktoken: lines of
 * `<prefix> <first rank> <base64 token> <base64 token> ...`, ranks counting up along the line.
 */
export function parseCompactRanks(text: string): Uint8Array[] {
  const ranks: Uint8Array[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1], 10);
    if (!Number.isInteger(first) || first < 0) throw new Error(`bad rank line "${line.slice(0, 40)}": expected "<prefix> <rank> <base64>..."`);
    for (let index = 2; index < fields.length; index++) ranks[first + index - 2] = new Uint8Array(Buffer.from(fields[index], 'base64'));
  }
  return ranks;
}

/** tiktoken's split patterns (from the `tiktoken` package's encoder definitions) and special tokens. */
export const OPENAI_ENCODINGS = {
  cl100k_base: {
    pattern: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    specialTokens: { '<|endoftext|>': 100257, '<|fim_prefix|>': 100258, '<|fim_middle|>': 100259, '<|fim_suffix|>': 100260, '<|endofprompt|>': 100276 },
  },
  o200k_base: {
    pattern:
      "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
    specialTokens: { '<|endoftext|>': 199999, '<|endofprompt|>': 200018 },
  },
} as const;

/** `gpt-tokenizer`'s rank tables: a token's text where it is valid UTF-8, else its bytes. */
export type GptTokenizerRanks = readonly (string | readonly number[])[];

export function loadOpenAiTokenizer(encoding: keyof typeof OPENAI_ENCODINGS, label: string, gptTokenizerRanks: GptTokenizerRanks): BytePairTokenizer {
  const encoder = new TextEncoder();
  const ranks = gptTokenizerRanks.map((token) => (typeof token !== 'string' ? Uint8Array.from(token) : isAscii(token) ? asciiBytes(token) : encoder.encode(token)));
  const { pattern, specialTokens } = OPENAI_ENCODINGS[encoding];
  return loadTiktokenTokenizer({ id: encoding, label, estimate: false, ranks, pattern, specialTokens });
}

function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

function asciiBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}
