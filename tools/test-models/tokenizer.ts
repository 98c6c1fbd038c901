/**
 * Builds a tiny byte-level BPE tokenizer in the exact Hugging Face `tokenizer.json` layout of
 * Qwen2.5 (same pre-tokenizer regex, ByteLevel decoder, added tokens), trained on a small fixed
 * corpus so that ordinary words merge into a few tokens. Deterministic: same bytes every run.
 */

/** Qwen2.5/Qwen3 added tokens, in their real order. `special` mirrors the real tokenizer. */
export const QWEN_ADDED_TOKENS: readonly { readonly content: string; readonly special: boolean }[] = [
  { content: '<|endoftext|>', special: true },
  { content: '<|im_start|>', special: true },
  { content: '<|im_end|>', special: true },
  { content: '<|fim_prefix|>', special: false },
  { content: '<|fim_middle|>', special: false },
  { content: '<|fim_suffix|>', special: false },
  { content: '<|fim_pad|>', special: false },
  { content: '<|repo_name|>', special: false },
  { content: '<|file_sep|>', special: false },
  { content: '<think>', special: false },
  { content: '</think>', special: false },
];

/** The ChatML template of Qwen2.5-Instruct, shortened (no tool calling). */
export const CHATML_TEMPLATE =
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
  "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{%- if not (message.role == 'system' and loop.first) %}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const PRETOKENIZE_REGEX =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
/** The same pattern in JavaScript syntax (no inline `(?i:...)` group). */
const PRETOKENIZE_JS = /'s|'t|'re|'ve|'m|'ll|'d|'S|'T|'RE|'VE|'M|'LL|'D|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

const CORPUS = `
def hello_world():
    print("Hello, world!")
    return 42

function add(a, b) {
  return a + b;
}

const result = add(1, 2);
export class Tokenizer {
  constructor(private readonly name: string) {}
  encode(text: string): number[] { return []; }
}

The quick brown fox jumps over the lazy dog. The model reads the text and writes the next token.
import os
import sys
for i in range(10):
    if i % 2 == 0:
        print(i)
    else:
        continue
while true do end; let value = this.value; self.value = value; return self;
hello hello world world the the and and of of to to in in is is it it you you that that
`;

/** GPT-2's reversible byte → printable character map used by ByteLevel tokenizers. */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return map;
}

export interface TokenizerFiles {
  readonly tokenizerJson: string;
  readonly tokenizerConfigJson: string;
  /** Vocabulary size including added tokens. */
  readonly size: number;
  /** Ids of the added tokens by content. */
  readonly added: ReadonlyMap<string, number>;
}

export function buildTokenizer(options: { readonly merges: number; readonly chatTemplate?: string }): TokenizerFiles {
  const byteChars = bytesToUnicode();
  const encoder = new TextEncoder();
  // Word frequencies over the corpus, each word as a list of byte-level symbols.
  const words = new Map<string, number>();
  for (const match of CORPUS.matchAll(PRETOKENIZE_JS)) {
    const symbols = Array.from(encoder.encode(match[0]), (b) => byteChars[b]).join(' ');
    words.set(symbols, (words.get(symbols) ?? 0) + 1);
  }
  let corpusWords = [...words].map(([symbols, count]) => ({ symbols: symbols.split(' '), count }));
  const vocab = new Map<string, number>();
  for (let b = 0; b < 256; b++) vocab.set(byteChars[b], b);
  const merges: [string, string][] = [];
  while (merges.length < options.merges) {
    const pairCounts = new Map<string, number>();
    for (const word of corpusWords) {
      for (let i = 0; i + 1 < word.symbols.length; i++) {
        const key = `${word.symbols[i]} ${word.symbols[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + word.count);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    // Ties broken by the pair's text so the result never depends on Map order quirks.
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (!best) break;
    const [left, right] = best.split(' ');
    merges.push([left, right]);
    if (!vocab.has(left + right)) vocab.set(left + right, vocab.size);
    corpusWords = corpusWords.map((word) => {
      const symbols: string[] = [];
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === left && word.symbols[i + 1] === right) {
          symbols.push(left + right);
          i++;
        } else {
          symbols.push(word.symbols[i]);
        }
      }
      return { symbols, count: word.count };
    });
  }
  const added = new Map<string, number>();
  const addedTokens = QWEN_ADDED_TOKENS.map((token) => {
    const id = vocab.size + added.size;
    added.set(token.content, id);
    return { id, content: token.content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: token.special };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: PRETOKENIZE_REGEX }, behavior: 'Isolated', invert: false }, byteLevel],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab),
      merges,
    },
  };
  const config = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      addedTokens.map(({ id, ...rest }) => [String(id), { content: rest.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: rest.special }]),
    ),
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: options.chatTemplate ?? CHATML_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 32768,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  return {
    tokenizerJson: JSON.stringify(tokenizer),
    tokenizerConfigJson: JSON.stringify(config, null, 2),
    size: vocab.size + added.size,
    added,
  };
}
