/**
 * The fast byte-level BPE engine shared by our Hugging Face (`tokenizer.json`) and tiktoken-format
 * (legacy Claude) tokenizers. Speed comes from:
 * - a cache of pre-tokenised pieces (words, runs of spaces): source code repeats them constantly;
 * - merging integer ids through an open-addressing hash table instead of string pair keys;
 * - offsets from per-token byte lengths, without re-encoding.
 *
 * Special tokens: {@link BytePairTokenizer.encode} never produces an added token, even when the
 * text contains `<|im_end|>` or `<|fim_middle|>` (user content cannot inject control tokens); only
 * {@link BytePairTokenizer.encodeWithSpecialTokens}, for trusted template text, splits on them.
 * Neither adds a BOS/EOS: callers (prompt builders) add the control tokens they need.
 *
 * Offsets are UTF-16 and tile the input: token i starts where token i-1 ends. A token holding only
 * the leading bytes of a multi-byte character (an emoji, a CJK character split by BPE) has
 * start === end; the character belongs to the token that completes it. Where the normalizer (NFC,
 * NFKC) changes the text, offsets of tokens inside a changed run map to the run's end.
 */
import type { ModelTokenizer, TokenSpan } from './types';
import { byteLevelToBytes } from './byteLevel';
import { bpeMerge, type MergeRanks } from './bpe';
import { normalizeWithOffsets, type NormalizationForm, type OffsetMap } from './normalization';

/** Pieces longer than this are not cached: they rarely repeat and would bloat the cache. */
const MAX_CACHED_PIECE_LENGTH = 256;
/** The piece cache is dropped wholesale past this many entries (cheap, and bounded memory). */
const MAX_CACHE_ENTRIES = 300_000;

const REPLACEMENT_BYTES = new Uint8Array([0xef, 0xbf, 0xbd]);

export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
}

/** Everything the engine needs, prepared by a file-format reader. */
export interface BytePairModel {
  readonly id: string;
  readonly label: string;
  readonly estimate: boolean;
  /** Byte-level vocabulary strings (GPT-2 alphabet) → id, without added tokens. */
  readonly vocab: Map<string, number>;
  readonly merges: MergeRanks;
  /** Id of each of the 256 single-byte tokens. */
  readonly byteToId: Int32Array;
  /** Split regexes applied in turn (Isolated: matches and gaps are both pieces). */
  readonly splitRegexes: readonly RegExp[];
  readonly normalization: readonly NormalizationForm[];
  /** Take a piece whole when it is itself a vocabulary entry (Llama 3 `ignore_merges`, tiktoken). */
  readonly wholePieceLookup: boolean;
  readonly addedTokens: readonly AddedToken[];
}

/** Where encoding writes: ids and/or token end offsets, or only a count. */
interface Sink {
  ids: number[] | null;
  /** Token end offsets in the (normalized) text being encoded. */
  ends: number[] | null;
  count: number;
}

export class BytePairTokenizer implements ModelTokenizer {
  readonly id: string;
  readonly label: string;
  readonly estimate: boolean;
  readonly vocabSize: number;
  /** The largest id it can produce (vocabulary and added tokens): must fit the model's embedding. */
  readonly maxId: number;
  readonly specialTokens: ReadonlyMap<string, number>;

  private readonly vocab: Map<string, number>;
  private readonly idToString: (string | undefined)[];
  private readonly merges: MergeRanks;
  private readonly byteToId: Int32Array;
  /** UTF-8 byte length of each id's text, for offsets. */
  private readonly tokenByteLength: Uint16Array;
  private readonly splitRegexes: readonly RegExp[];
  private readonly normalization: readonly NormalizationForm[];
  private readonly wholePieceLookup: boolean;
  private readonly addedTokens: readonly AddedToken[];
  private readonly addedTokenRegex: RegExp | null;
  private readonly cache = new Map<string, number | number[]>();
  private tokenBytesTable: (Uint8Array | undefined)[] | undefined;
  private readonly scratchIds: number[] = [];

  constructor(model: BytePairModel) {
    this.id = model.id;
    this.label = model.label;
    this.estimate = model.estimate;
    this.vocab = model.vocab;
    this.merges = model.merges;
    this.byteToId = model.byteToId;
    this.splitRegexes = model.splitRegexes;
    this.normalization = model.normalization;
    this.wholePieceLookup = model.wholePieceLookup;
    this.addedTokens = model.addedTokens;
    this.specialTokens = new Map(model.addedTokens.map((token) => [token.content, token.id]));
    this.addedTokenRegex =
      model.addedTokens.length === 0
        ? null
        : new RegExp(
            model.addedTokens
              .map((token) => token.content)
              .filter((content) => content.length > 0)
              .sort((a, b) => b.length - a.length)
              .map((content) => content.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
              .join('|'),
            'gu',
          );

    let maxId = -1;
    for (const id of model.vocab.values()) if (id > maxId) maxId = id;
    for (const token of model.addedTokens) if (token.id > maxId) maxId = token.id;
    this.idToString = new Array<string | undefined>(maxId + 1);
    for (const [token, id] of model.vocab) this.idToString[id] = token;
    for (const token of model.addedTokens) this.idToString[token.id] = token.content;
    const distinct = new Set<number>(model.vocab.values());
    for (const token of model.addedTokens) distinct.add(token.id);
    this.vocabSize = distinct.size;
    this.maxId = maxId;

    this.tokenByteLength = new Uint16Array(maxId + 1);
    const encoder = new TextEncoder();
    for (let id = 0; id <= maxId; id++) {
      const text = this.idToString[id];
      if (text === undefined) continue;
      const bytes = this.specialTokens.get(text) === id ? undefined : byteLevelToBytes(text);
      this.tokenByteLength[id] = Math.min(0xffff, bytes ? bytes.length : encoder.encode(text).length);
    }
  }

  /** The UTF-8 bytes a token stands for (an added token: its content), or undefined for an unknown id. */
  tokenBytes(id: number): Uint8Array | undefined {
    const table = (this.tokenBytesTable ??= new Array<Uint8Array | undefined>(this.idToString.length));
    let bytes = table[id];
    if (bytes === undefined) {
      const text = Number.isInteger(id) && id >= 0 ? this.idToString[id] : undefined;
      if (text === undefined) return undefined;
      const isAdded = this.specialTokens.get(text) === id;
      bytes = (isAdded ? undefined : byteLevelToBytes(text)) ?? new TextEncoder().encode(text);
      table[id] = bytes;
    }
    return bytes;
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
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      // Unknown ids (e.g. the padding rows of a model's embedding) decode to U+FFFD, visibly.
      const bytes = this.tokenBytes(id) ?? REPLACEMENT_BYTES;
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
    if (this.wholePieceLookup && ids.length > 1) {
      // Llama 3 (ignore_merges) and tiktoken: a piece that is itself a vocabulary entry is taken whole.
      let byteLevel = '';
      for (const id of ids) byteLevel += this.idToString[id] as string;
      const whole = this.vocab.get(byteLevel);
      if (whole !== undefined) return whole;
    }
    const merged = bpeMerge(ids.slice(), this.merges);
    return merged.length === 1 ? merged[0] : merged;
  }
}
