/**
 * Tokenscope's own byte-level BPE for Hugging Face `tokenizer.json` files (GPT-2, Qwen2/2.5/3,
 * Llama 3, DeepSeek-V3, SmolLM2 style). Ids equal `@huggingface/tokenizers` (tested), and it is
 * several times faster because:
 * - pre-tokenised pieces (words, runs of spaces) are cached: source code repeats them constantly;
 * - merges run on integer ids with an open-addressing hash table instead of string pair keys;
 * - offsets come from per-token byte lengths, without re-encoding.
 *
 * Special tokens: {@link HuggingFaceTokenizer.encode} never produces an added token, even when the
 * text contains `<|im_end|>` or `<|fim_middle|>` (user content cannot inject control tokens); only
 * {@link HuggingFaceTokenizer.encodeWithSpecialTokens}, for trusted template text, splits on them.
 * Neither adds a BOS/EOS: the post-processor is not applied, callers (prompt builders) add the
 * control tokens they need. (For the Qwen, Llama 3 and DeepSeek-V3 files the reference adds none
 * either: their post-processor is a plain ByteLevel.)
 *
 * Offsets are UTF-16 and tile the input: token i starts where token i-1 ends. A token holding only
 * the leading bytes of a multi-byte character (an emoji, a CJK character split by BPE) has
 * start === end; the character belongs to the token that completes it. Where the normalizer (NFC)
 * changes the text, offsets of tokens inside a changed run map to the run's end.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelTokenizer, TokenSpan } from './types';
import { BYTE_TO_CHAR, byteLevelToBytes } from './byteLevel';
import { MergeTable, bpeMerge } from './bpe';
import { compileOnigurumaRegex, UnsupportedRegexError } from './onigurumaRegex';
import { normalizeWithOffsets, type NormalizationForm, type OffsetMap } from './normalization';

export class TokenizerLoadError extends Error {}

export interface HuggingFaceTokenizerInfo {
  readonly id: string;
  readonly label: string;
  /** Names the tokenizer file in error messages (defaults to `tokenizer.json`). */
  readonly source?: string;
}

/** GPT-2's split regex, used by a ByteLevel pre-tokenizer with `use_regex: true`; written as the reference writes it (JS `\s`). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Pieces longer than this are not cached: they rarely repeat and would bloat the cache. */
const MAX_CACHED_PIECE_LENGTH = 256;
/** The piece cache is dropped wholesale past this many entries (cheap, and bounded memory). */
const MAX_CACHE_ENTRIES = 300_000;

const REPLACEMENT_BYTES = new Uint8Array([0xef, 0xbf, 0xbd]);

interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
}

/** Where encoding writes: ids and/or token end offsets, or only a count. */
interface Sink {
  ids: number[] | null;
  /** Token end offsets in the (normalized) text being encoded. */
  ends: number[] | null;
  count: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class HuggingFaceTokenizer implements ModelTokenizer {
  readonly id: string;
  readonly label: string;
  readonly estimate = false;
  readonly vocabSize: number;
  readonly specialTokens: ReadonlyMap<string, number>;
  /** The parsed tokenizer_config.json (chat template, bos/eos names), `{}` when none was given. */
  readonly tokenizerConfig: Readonly<JsonObject>;

  private readonly vocab: Map<string, number>;
  private readonly idToString: (string | undefined)[];
  private readonly merges: MergeTable;
  private readonly byteToId: Int32Array;
  /** UTF-8 byte length of each id's text, for offsets. */
  private readonly tokenByteLength: Uint16Array;
  private readonly splitRegexes: readonly RegExp[];
  private readonly normalization: readonly NormalizationForm[];
  private readonly ignoreMerges: boolean;
  private readonly addedTokens: readonly AddedToken[];
  private readonly addedTokenRegex: RegExp | null;
  private readonly cache = new Map<string, number | number[]>();
  private tokenBytes: (Uint8Array | undefined)[] | undefined;
  private readonly scratchIds: number[] = [];

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, info: HuggingFaceTokenizerInfo) {
    const source = info.source ?? 'tokenizer.json';
    const fail = (message: string): never => {
      throw new TokenizerLoadError(`${source}: ${message}`);
    };
    const unsupported = (what: string): never =>
      fail(`unsupported tokenizer: ${what}. Tokenscope reads byte-level BPE tokenizers (GPT-2, Qwen2/2.5/3, Llama 3, DeepSeek-V3, SmolLM2 style); choose a model with one of those.`);
    this.id = info.id;
    this.label = info.label;
    if (!isObject(tokenizerJson)) fail('not a tokenizer.json object; re-download the file');
    const json = tokenizerJson as JsonObject;
    if (tokenizerConfig !== undefined && tokenizerConfig !== null && !isObject(tokenizerConfig)) {
      throw new TokenizerLoadError('tokenizer_config.json: not a JSON object; re-download the file');
    }
    this.tokenizerConfig = (tokenizerConfig as JsonObject | null | undefined) ?? {};

    // Model: BPE with vocab and merges.
    const model = json.model;
    if (!isObject(model)) fail('missing "model" section; re-download the file');
    const modelObject = model as JsonObject;
    if (modelObject.type !== undefined && modelObject.type !== 'BPE') unsupported(`model.type "${String(modelObject.type)}"`);
    if (!isObject(modelObject.vocab)) fail('"model.vocab" is missing or not an object; re-download the file');
    if (!Array.isArray(modelObject.merges)) fail('"model.merges" is missing or not an array; re-download the file');
    if (typeof modelObject.continuing_subword_prefix === 'string' && modelObject.continuing_subword_prefix !== '') unsupported('model.continuing_subword_prefix');
    if (typeof modelObject.end_of_word_suffix === 'string' && modelObject.end_of_word_suffix !== '') unsupported('model.end_of_word_suffix');
    this.ignoreMerges = modelObject.ignore_merges === true;

    this.vocab = new Map();
    let maxId = -1;
    const vocabObject = modelObject.vocab as JsonObject;
    for (const token in vocabObject) {
      const id = vocabObject[token];
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) fail(`vocabulary entry ${JSON.stringify(token)} has a bad id ${JSON.stringify(id)}; re-download the file`);
      this.vocab.set(token, id as number);
      if ((id as number) > maxId) maxId = id as number;
    }

    // Added tokens (special or not): matched only by encodeWithSpecialTokens.
    const addedTokens: AddedToken[] = [];
    const rawAdded = json.added_tokens ?? [];
    if (!Array.isArray(rawAdded)) fail('"added_tokens" is not an array; re-download the file');
    for (const entry of rawAdded as unknown[]) {
      if (!isObject(entry) || typeof entry.content !== 'string' || typeof entry.id !== 'number' || !Number.isInteger(entry.id) || entry.id < 0) {
        fail(`bad entry in "added_tokens": ${JSON.stringify(entry)}; re-download the file`);
      }
      const token = entry as JsonObject;
      addedTokens.push({
        id: token.id as number,
        content: token.content as string,
        special: token.special === true,
        lstrip: token.lstrip === true,
        rstrip: token.rstrip === true,
      });
      if ((token.id as number) > maxId) maxId = token.id as number;
    }
    this.addedTokens = addedTokens;
    this.specialTokens = new Map(addedTokens.map((token) => [token.content, token.id]));
    this.addedTokenRegex =
      addedTokens.length === 0
        ? null
        : new RegExp(
            [...addedTokens]
              .map((token) => token.content)
              .filter((content) => content.length > 0)
              .sort((a, b) => b.length - a.length)
              .map((content) => content.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
              .join('|'),
            'gu',
          );

    this.idToString = new Array<string | undefined>(maxId + 1);
    for (const [token, id] of this.vocab) this.idToString[id] = token;
    for (const token of addedTokens) this.idToString[token.id] = token.content;
    const distinct = new Set<number>(this.vocab.values());
    for (const token of addedTokens) distinct.add(token.id);
    this.vocabSize = distinct.size;

    // Byte lengths per id (for offsets).
    this.tokenByteLength = new Uint16Array(maxId + 1);
    const encoder = new TextEncoder();
    for (let id = 0; id <= maxId; id++) {
      const text = this.idToString[id];
      if (text === undefined) continue;
      const bytes = byteLevelToBytes(text);
      this.tokenByteLength[id] = Math.min(0xffff, bytes ? bytes.length : encoder.encode(text).length);
    }

    // Pre-tokenizer: Split / Digits / ByteLevel, possibly in a Sequence.
    const regexes: RegExp[] = [];
    let byteLevel = false;
    const addPreTokenizer = (pre: unknown, path: string): void => {
      if (pre === null || pre === undefined) return;
      if (!isObject(pre)) fail(`${path} is not an object`);
      const step = pre as JsonObject;
      if (byteLevel) unsupported(`${path} (${String(step.type)}) after the ByteLevel pre-tokenizer`);
      switch (step.type) {
        case 'Sequence': {
          const list = step.pretokenizers;
          if (!Array.isArray(list)) fail(`${path}.pretokenizers is not an array`);
          (list as unknown[]).forEach((child, index) => addPreTokenizer(child, `${path}.pretokenizers[${index}]`));
          return;
        }
        case 'Split': {
          const pattern = step.pattern;
          if (step.invert === true) unsupported(`${path}: Split with invert: true`);
          const behavior = typeof step.behavior === 'string' ? step.behavior.toLowerCase() : 'isolated';
          if (behavior !== 'isolated') unsupported(`${path}: Split behavior "${String(step.behavior)}"`);
          if (!isObject(pattern)) fail(`${path}.pattern is missing`);
          const patternObject = pattern as JsonObject;
          if (typeof patternObject.Regex === 'string') {
            try {
              regexes.push(compileOnigurumaRegex(patternObject.Regex));
            } catch (error) {
              if (error instanceof UnsupportedRegexError) unsupported(`${path}: ${error.message}`);
              throw error;
            }
          } else if (typeof patternObject.String === 'string') {
            regexes.push(new RegExp(patternObject.String.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'), 'gu'));
          } else {
            fail(`${path}.pattern needs "Regex" or "String"`);
          }
          return;
        }
        case 'Digits':
          regexes.push(step.individual_digits === true ? /[^\d]+|\d/gu : /[^\d]+|\d+/gu);
          return;
        case 'ByteLevel':
          if (step.add_prefix_space === true) unsupported(`${path}: ByteLevel with add_prefix_space: true`);
          if (step.use_regex !== false) regexes.push(new RegExp(GPT2_SPLIT.source, 'gu'));
          byteLevel = true;
          return;
        default:
          unsupported(`${path}.type "${String(step.type)}"`);
      }
    };
    addPreTokenizer(json.pre_tokenizer, 'pre_tokenizer');
    if (!byteLevel) unsupported('no ByteLevel pre-tokenizer (this is not a byte-level BPE; e.g. a SentencePiece/Metaspace model)');
    this.splitRegexes = regexes;

    // Normalizer: Unicode normalization forms only (possibly none, in a Sequence).
    const forms: NormalizationForm[] = [];
    const addNormalizer = (normalizer: unknown, path: string): void => {
      if (normalizer === null || normalizer === undefined) return;
      if (!isObject(normalizer)) fail(`${path} is not an object`);
      const step = normalizer as JsonObject;
      if (step.type === 'Sequence') {
        if (!Array.isArray(step.normalizers)) fail(`${path}.normalizers is not an array`);
        (step.normalizers as unknown[]).forEach((child, index) => addNormalizer(child, `${path}.normalizers[${index}]`));
      } else if (step.type === 'NFC' || step.type === 'NFD' || step.type === 'NFKC' || step.type === 'NFKD') {
        forms.push(step.type);
      } else {
        unsupported(`${path}.type "${String(step.type)}"`);
      }
    };
    addNormalizer(json.normalizer, 'normalizer');
    this.normalization = forms;

    // The 256 single-byte tokens every byte-level vocabulary has.
    this.byteToId = new Int32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const id = this.vocab.get(BYTE_TO_CHAR[byte]);
      if (id === undefined) unsupported(`the vocabulary lacks the byte-level token for byte 0x${byte.toString(16)}`);
      this.byteToId[byte] = id as number;
    }

    // Merges, as "a b" strings or [a, b] pairs.
    const merges = modelObject.merges as unknown[];
    this.merges = new MergeTable(merges.length);
    merges.forEach((merge, rank) => {
      let left: string;
      let right: string;
      if (typeof merge === 'string') {
        const space = merge.indexOf(' ');
        if (space < 0) fail(`merge ${rank} ${JSON.stringify(merge)} is not "a b"; re-download the file`);
        left = merge.slice(0, space);
        right = merge.slice(space + 1);
      } else if (Array.isArray(merge) && merge.length === 2 && typeof merge[0] === 'string' && typeof merge[1] === 'string') {
        [left, right] = merge as [string, string];
      } else {
        return fail(`merge ${rank} ${JSON.stringify(merge)} is neither "a b" nor ["a", "b"]; re-download the file`);
      }
      const leftId = this.vocab.get(left);
      const rightId = this.vocab.get(right);
      const mergedId = this.vocab.get(left + right);
      // A merge whose parts or result are not in the vocabulary can never produce a known token.
      if (leftId === undefined || rightId === undefined || mergedId === undefined) return;
      this.merges.set(leftId, rightId, rank, mergedId);
    });
  }

  encode(text: string): number[] {
    const sink: Sink = { ids: [], ends: null, count: 0 };
    this.encodeText(text, sink);
    return sink.ids as number[];
  }

  count(text: string): number {
    const sink: Sink = { ids: null, ends: null, count: 0 };
    this.encodeText(text, sink);
    return sink.count;
  }

  encodeWithOffsets(text: string): TokenSpan[] {
    const sink: Sink = { ids: [], ends: [], count: 0 };
    const map = this.encodeText(text, sink);
    const ids = sink.ids as number[];
    const ends = sink.ends as number[];
    const spans = new Array<TokenSpan>(ids.length);
    let start = 0;
    for (let index = 0; index < ids.length; index++) {
      const end = map ? map.toOriginal(ends[index]) : ends[index];
      spans[index] = { id: ids[index], start, end };
      start = end;
    }
    return spans;
  }

  encodeWithSpecialTokens(text: string): number[] {
    const regex = this.addedTokenRegex;
    if (!regex) return this.encode(text);
    // Sections between added tokens, with lstrip/rstrip applied as Hugging Face does.
    const parts: (string | AddedToken)[] = [];
    let last = 0;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      if (match.index > last) parts.push(text.slice(last, match.index));
      parts.push(this.addedTokens.find((token) => token.content === match[0]) as AddedToken);
      last = match.index + match[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    const ids: number[] = [];
    parts.forEach((part, index) => {
      if (typeof part !== 'string') {
        ids.push(part.id);
        return;
      }
      let section = part;
      const before = parts[index - 1];
      const after = parts[index + 1];
      if (typeof before === 'object' && before.rstrip) section = section.trimStart();
      if (typeof after === 'object' && after.lstrip) section = section.trimEnd();
      const sink: Sink = { ids, ends: null, count: 0 };
      this.encodeText(section, sink);
    });
    return ids;
  }

  decode(ids: readonly number[]): string {
    const table = (this.tokenBytes ??= new Array<Uint8Array | undefined>(this.idToString.length));
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      let bytes = table[id];
      if (bytes === undefined) {
        const text = Number.isInteger(id) && id >= 0 ? this.idToString[id] : undefined;
        const isAdded = text !== undefined && this.specialTokens.get(text) === id;
        // Unknown ids (e.g. the padding rows of a model's embedding) decode to U+FFFD, visibly.
        bytes = text === undefined ? REPLACEMENT_BYTES : ((isAdded ? undefined : byteLevelToBytes(text)) ?? new TextEncoder().encode(text));
        if (text !== undefined) table[id] = bytes;
      }
      parts.push(bytes);
      total += bytes.length;
    }
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    // ignoreBOM keeps a leading U+FEFF that the text really contained.
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(joined);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) && id >= 0 ? this.idToString[id] : undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.specialTokens.get(token) ?? this.vocab.get(token);
  }

  /** Normalizes, pre-tokenizes and encodes `text` into `sink`; returns the offset map when normalization changed the text. */
  private encodeText(text: string, sink: Sink): OffsetMap | null {
    if (text.length === 0) return null;
    const normalized = normalizeWithOffsets(text, this.normalization);
    const regexes = this.splitRegexes;
    if (regexes.length === 0) this.encodePiece(normalized.text, 0, sink);
    else this.split(normalized.text, 0, 0, sink);
    return normalized.map;
  }

  /** Applies split regex `level` (Isolated: matches and the gaps between them are pieces), then the next. */
  private split(text: string, base: number, level: number, sink: Sink): void {
    const regex = this.splitRegexes[level];
    const last = level === this.splitRegexes.length - 1;
    let previous = 0;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null; match = regex.exec(text)) {
      const start = match.index;
      const piece = match[0];
      if (piece.length === 0) {
        // An empty match: step over one code point, as String.prototype.matchAll does.
        const code = text.charCodeAt(start);
        regex.lastIndex = start + (code >= 0xd800 && code <= 0xdbff && start + 1 < text.length ? 2 : 1);
        continue;
      }
      if (previous < start) this.emit(text.slice(previous, start), base + previous, level, last, sink);
      // Deeper levels reuse their own regex, so our lastIndex survives the recursion.
      const resumeAt = regex.lastIndex;
      this.emit(piece, base + start, level, last, sink);
      regex.lastIndex = resumeAt;
      previous = start + piece.length;
    }
    if (previous < text.length) this.emit(previous === 0 ? text : text.slice(previous), base + previous, level, last, sink);
  }

  private emit(piece: string, start: number, level: number, last: boolean, sink: Sink): void {
    if (last) this.encodePiece(piece, start, sink);
    else this.split(piece, start, level + 1, sink);
  }

  /** Encodes one pre-tokenised piece starting at `start` (UTF-16, in the normalized text). */
  private encodePiece(piece: string, start: number, sink: Sink): void {
    let tokens = this.cache.get(piece);
    if (tokens === undefined) {
      tokens = this.bpePiece(piece);
      if (piece.length <= MAX_CACHED_PIECE_LENGTH) {
        if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
        this.cache.set(piece, tokens);
      }
    }
    if (typeof tokens === 'number') {
      sink.count++;
      sink.ids?.push(tokens);
      sink.ends?.push(start + piece.length);
      return;
    }
    sink.count += tokens.length;
    const ids = sink.ids;
    if (ids) for (let index = 0; index < tokens.length; index++) ids.push(tokens[index]);
    const ends = sink.ends;
    if (ends) this.pushEnds(piece, start, tokens, ends);
  }

  /** Token end offsets within a piece: byte ends rounded down to the last character boundary. */
  private pushEnds(piece: string, start: number, tokens: readonly number[], ends: number[]): void {
    const byteLength = this.tokenByteLength;
    let totalBytes = 0;
    for (let index = 0; index < tokens.length; index++) totalBytes += byteLength[tokens[index]];
    if (totalBytes === piece.length) {
      // ASCII: one byte per UTF-16 unit.
      let end = start;
      for (let index = 0; index < tokens.length; index++) {
        end += byteLength[tokens[index]];
        ends.push(end);
      }
      return;
    }
    let unit = 0; // UTF-16 position in the piece, at a character boundary
    let bytePosition = 0; // UTF-8 position of `unit`
    let tokenEnd = 0;
    for (let index = 0; index < tokens.length; index++) {
      tokenEnd += byteLength[tokens[index]];
      while (unit < piece.length) {
        const code = piece.charCodeAt(unit);
        let units = 1;
        let bytes: number;
        if (code < 0x80) bytes = 1;
        else if (code < 0x800) bytes = 2;
        else if (code >= 0xd800 && code <= 0xdbff && unit + 1 < piece.length && (piece.charCodeAt(unit + 1) & 0xfc00) === 0xdc00) {
          bytes = 4;
          units = 2;
        } else bytes = 3; // BMP, or a lone surrogate (encoded as U+FFFD, 3 bytes)
        if (bytePosition + bytes > tokenEnd) break;
        bytePosition += bytes;
        unit += units;
      }
      ends.push(start + unit);
    }
  }

  /** BPE of one uncached piece: a single id where the whole piece is one token. */
  private bpePiece(piece: string): number | number[] {
    const ids = this.scratchIds;
    ids.length = 0;
    const byteToId = this.byteToId;
    for (let index = 0; index < piece.length; index++) {
      let code = piece.charCodeAt(index);
      if (code < 0x80) {
        ids.push(byteToId[code]);
        continue;
      }
      if (code >= 0xd800 && code <= 0xdbff && index + 1 < piece.length && (piece.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
        code = 0x10000 + ((code - 0xd800) << 10) + (piece.charCodeAt(++index) - 0xdc00);
        ids.push(byteToId[0xf0 | (code >> 18)], byteToId[0x80 | ((code >> 12) & 0x3f)], byteToId[0x80 | ((code >> 6) & 0x3f)], byteToId[0x80 | (code & 0x3f)]);
      } else if (code < 0x800) {
        ids.push(byteToId[0xc0 | (code >> 6)], byteToId[0x80 | (code & 0x3f)]);
      } else {
        if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd; // lone surrogate, as TextEncoder does
        ids.push(byteToId[0xe0 | (code >> 12)], byteToId[0x80 | ((code >> 6) & 0x3f)], byteToId[0x80 | (code & 0x3f)]);
      }
    }
    if (this.ignoreMerges && ids.length > 1) {
      // Llama 3: a piece that is itself a vocabulary entry is taken whole, without merging.
      let byteLevel = '';
      for (const id of ids) byteLevel += this.idToString[id] as string;
      const whole = this.vocab.get(byteLevel);
      if (whole !== undefined) return whole;
    }
    const merged = bpeMerge(ids.slice(), this.merges);
    return merged.length === 1 ? merged[0] : merged;
  }
}

/**
 * Builds a tokenizer from parsed tokenizer.json and tokenizer_config.json contents (the config may
 * be `{}`/undefined: encoding needs only tokenizer.json).
 */
export function loadHuggingFaceTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, info: HuggingFaceTokenizerInfo): HuggingFaceTokenizer {
  return new HuggingFaceTokenizer(tokenizerJson, tokenizerConfig, info);
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    if (code === 'ENOENT') {
      throw new TokenizerLoadError(`${path} not found: a model folder needs the Hugging Face tokenizer.json next to config.json; download it with the model files.`);
    }
    throw new TokenizerLoadError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(`${path} is not valid JSON (${(error as Error).message}); the file is corrupt or truncated: download it again.`);
  }
}

/**
 * Loads `tokenizer.json` (required) and `tokenizer_config.json` (optional: it carries the chat
 * template, not what encoding needs) from a model folder.
 */
export async function loadTokenizerFromFolder(dir: string, info?: { id?: string; label?: string }): Promise<HuggingFaceTokenizer> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const [tokenizerJson, tokenizerConfig] = await Promise.all([readJson(tokenizerPath, true), readJson(join(dir, 'tokenizer_config.json'), false)]);
  return loadHuggingFaceTokenizer(tokenizerJson, tokenizerConfig, { id: info?.id ?? 'model', label: info?.label ?? dir, source: tokenizerPath });
}
