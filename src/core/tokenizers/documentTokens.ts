/**
 * The tokens of a whole document, kept up to date edit by edit without re-tokenizing the document:
 * what the Token lens needs to redraw boundaries after a keystroke in a 10,000-line file within a
 * frame.
 *
 * The document is cut into chunks at line starts where no pre-tokenizer piece can cross, so
 * tokenizing the chunks one by one gives exactly the tokens of the whole text. An edit re-tokenizes
 * only the chunks it touches (widened until both ends are valid cuts again).
 *
 * Where can we cut? A piece never crosses position x when text[x-1] is a newline and the line at x
 * (after optional spaces/tabs) starts with a letter or digit: in every split pattern we ship, the
 * alternatives that take newlines end with them (`\s*[\r\n]+`, `...[\r\n]*`), prefixes before
 * letters exclude newlines, and Unicode normalization never composes across a newline. GPT-2's
 * pattern lacks `\s*[\r\n]+`, so there a newline takes the next line's indentation but its last
 * space (`\s+(?!\S)` then ` foo`): the cut moves to that last space (see {@link cutInLine}).
 * Rather than trust this per tokenizer, each tokenizer is checked once on a probe text (chunked ==
 * whole), falling back from the "indented" rule to the "gpt2" rule to a single chunk.
 */
import type { Tokenizer, TokenSpan } from './types';

export type CutRule = 'indented' | 'gpt2' | 'none';

interface Chunk {
  /** UTF-16 offset of the chunk in the document. */
  start: number;
  length: number;
  ids: Int32Array;
  /** Token end offsets relative to the chunk start; token k starts at ends[k - 1] (or 0). */
  ends: Int32Array;
}

/** Chunks are grown to at least this many characters (fewer, larger encode calls). */
const MIN_CHUNK_CHARS = 512;

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

function isLetterOrDigitAt(text: string, index: number): boolean {
  if (index >= text.length) return false;
  const code = text.charCodeAt(index);
  if (code < 0x80) return (code >= 48 && code <= 57) || ((code | 32) >= 97 && (code | 32) <= 122);
  return LETTER_OR_DIGIT.test(String.fromCodePoint(text.codePointAt(index) as number));
}

const isBlank = (code: number): boolean => code === 32 || code === 9;

/**
 * The cut in the line starting at `lineStart` (just after a newline), or -1.
 * - `indented`: the line start itself, when the line's first non-blank character is a letter or digit.
 * - `gpt2`: GPT-2's `\s+(?!\S)` leaves the last blank of an indentation to the word after it
 *   (` foo`) and splits a run of blank lines before its last newline, so the cut is either the line
 *   start after a lone newline (unindented line) or the last indentation space before the word.
 */
function cutInLine(text: string, lineStart: number, rule: CutRule): number {
  if (rule === 'none' || lineStart <= 0 || lineStart >= text.length || text.charCodeAt(lineStart - 1) !== 10) return -1;
  let first = lineStart;
  while (first < text.length && isBlank(text.charCodeAt(first))) first++;
  if (!isLetterOrDigitAt(text, first)) return -1;
  if (rule === 'indented') return lineStart;
  if (first === lineStart) return lineStart >= 2 && /\s/.test(text[lineStart - 2]) ? -1 : lineStart;
  return text.charCodeAt(first - 1) === 32 ? first - 1 : -1;
}

/** Whether a piece can never cross `x` under `rule` (see the module comment). */
export function isCut(text: string, x: number, rule: CutRule): boolean {
  if (x <= 0 || x >= text.length) return true;
  let lineStart = x;
  while (lineStart > 0 && isBlank(text.charCodeAt(lineStart - 1))) lineStart--;
  if (lineStart === 0 || text.charCodeAt(lineStart - 1) !== 10) return false;
  return cutInLine(text, lineStart, rule) === x;
}

/** Text with the cases a cut rule must survive: blank lines with spaces, CRLF, comments, digits, CJK, combining marks. */
const PROBE = [
  'import { a } from "b";\n\nexport function f(x: number): string {\n    if (x > 1) {\n        return `${x}`;  \n    }\n  \n    // comment\n    /* block */\n',
  '\tconst y = 2;\r\n\r\n\tlet z = "s";\r\n}\n123 + 456\n  789\nclass A:\n    def m(self):\n        pass\n\n\n    x = 1\n',
  '你好 = 1\n    世界 = 2\ne\u0301t\u00e9 = 3\n  \u00e9 = 4\n/ * x */\n   / y\n);\n/path\n\t\t\n\tname\n\u00a0\u00a0nbsp\n\u3000\u3000ideo\n',
  "'s quote\n  's\nIT'S\n    it's\n\n\n\n    deep\n",
].join('');

const ruleCache = new WeakMap<Tokenizer, CutRule>();

/** The most permissive cut rule under which chunked tokenization equals whole-text tokenization for this tokenizer. */
export function cutRuleFor(tokenizer: Tokenizer): CutRule {
  const cached = ruleCache.get(tokenizer);
  if (cached) return cached;
  const whole = tokenizer.encode(PROBE);
  let chosen: CutRule = 'none';
  for (const rule of ['indented', 'gpt2'] as const) {
    const chunked: number[] = [];
    let start = 0;
    for (let x = 1; x <= PROBE.length; x++) {
      if (x === PROBE.length || isCut(PROBE, x, rule)) {
        for (const id of tokenizer.encode(PROBE.slice(start, x))) chunked.push(id);
        start = x;
      }
    }
    if (chunked.length === whole.length && chunked.every((id, index) => id === whole[index])) {
      chosen = rule;
      break;
    }
  }
  ruleCache.set(tokenizer, chosen);
  return chosen;
}

export interface TokenVisit {
  readonly id: number;
  readonly start: number;
  readonly end: number;
  /** Index of the token in the whole document (for alternating colours). */
  readonly index: number;
}

export class DocumentTokens {
  private chunks: Chunk[] = [];
  private currentText = '';
  /** countsBefore[i] = tokens in chunks before i; rebuilt lazily after edits. */
  private countsBefore: Int32Array | undefined;
  private total = 0;
  readonly rule: CutRule;

  /** Tokenizes `text` fully (use {@link buildSteps} to spread a large document over several ticks). */
  constructor(
    readonly tokenizer: Tokenizer,
    text: string,
    options: { readonly deferBuild?: boolean } = {},
  ) {
    this.rule = cutRuleFor(tokenizer);
    this.currentText = text;
    if (!options.deferBuild) for (const _ of this.buildSteps(Number.POSITIVE_INFINITY)) void _;
  }

  /**
   * Builds the chunks in steps of about `charsPerStep` characters, yielding between steps so a
   * caller can give the event loop back and stop when the work went stale.
   */
  *buildSteps(charsPerStep: number): Generator<number, void, void> {
    this.chunks = [];
    const text = this.currentText;
    let position = 0;
    let sinceYield = 0;
    while (position < text.length) {
      const chunk = this.tokenizeChunk(text, position, this.nextCut(text, position, text.length));
      this.chunks.push(chunk);
      position += chunk.length;
      sinceYield += chunk.length;
      if (sinceYield >= charsPerStep && position < text.length) {
        sinceYield = 0;
        yield position;
      }
    }
    this.recount();
  }

  get text(): string {
    return this.currentText;
  }

  get tokenCount(): number {
    return this.total;
  }

  /**
   * Applies an edit: `newText` is the whole new document; [oldStart, oldEnd) is the span of the old
   * text that changed (for several changes, the hull of them all). Returns how many characters were
   * re-tokenized.
   */
  update(newText: string, oldStart: number, oldEnd: number): number {
    const oldLength = this.currentText.length;
    const delta = newText.length - oldLength;
    this.currentText = newText;
    if (this.chunks.length === 0) {
      for (const _ of this.buildSteps(Number.POSITIVE_INFINITY)) void _;
      return newText.length;
    }
    // First chunk: the one holding the character before the edit (the cut at an edited line start may go).
    let first = this.chunkIndexAt(Math.max(0, oldStart - 1));
    let last = this.chunkIndexAt(Math.min(Math.max(0, oldLength - 1), oldEnd));
    while (first > 0 && !isCut(newText, this.chunks[first].start, this.rule)) first--;
    const regionStart = this.chunks[first].start;
    let regionEndOld = this.chunks[last].start + this.chunks[last].length;
    while (last < this.chunks.length - 1 && !isCut(newText, regionEndOld + delta, this.rule)) {
      last++;
      regionEndOld = this.chunks[last].start + this.chunks[last].length;
    }
    const regionEnd = regionEndOld + delta;
    const replacement: Chunk[] = [];
    for (let position = regionStart; position < regionEnd; ) {
      const chunk = this.tokenizeChunk(newText, position, this.nextCut(newText, position, regionEnd));
      replacement.push(chunk);
      position += chunk.length;
    }
    for (let index = last + 1; index < this.chunks.length; index++) this.chunks[index].start += delta;
    // Not splice(..., ...replacement): a paste of megabytes makes 100,000+ chunks (call stack limit).
    this.chunks = this.chunks.slice(0, first).concat(replacement, this.chunks.slice(last + 1));
    this.recount();
    return regionEnd - regionStart;
  }

  /** Calls `visit` for every token overlapping [start, end) (empty tokens of split characters included). */
  forEachToken(start: number, end: number, visit: (token: TokenVisit) => void): void {
    if (this.chunks.length === 0) return;
    const before = this.counts();
    for (let chunkIndex = this.chunkIndexAt(start); chunkIndex < this.chunks.length; chunkIndex++) {
      const chunk = this.chunks[chunkIndex];
      if (chunk.start >= end) break;
      const { ids, ends } = chunk;
      let k = chunk.start >= start ? 0 : upperBound(ends, start - chunk.start);
      for (; k < ids.length; k++) {
        const tokenStart = chunk.start + (k === 0 ? 0 : ends[k - 1]);
        if (tokenStart >= end) break;
        visit({ id: ids[k], start: tokenStart, end: chunk.start + ends[k], index: before[chunkIndex] + k });
      }
    }
  }

  /** The token covering `offset` (the one whose span contains it), if any. */
  tokenAt(offset: number): TokenVisit | undefined {
    if (this.chunks.length === 0 || offset < 0 || offset >= this.currentText.length) return undefined;
    const chunkIndex = this.chunkIndexAt(offset);
    const chunk = this.chunks[chunkIndex];
    const k = upperBound(chunk.ends, offset - chunk.start);
    if (k >= chunk.ids.length) return undefined;
    return { id: chunk.ids[k], start: chunk.start + (k === 0 ? 0 : chunk.ends[k - 1]), end: chunk.start + chunk.ends[k], index: this.counts()[chunkIndex] + k };
  }

  private nextCut(text: string, from: number, limit: number): number {
    return nextCutAfter(text, from, limit, this.rule, MIN_CHUNK_CHARS);
  }

  private tokenizeChunk(text: string, start: number, end: number): Chunk {
    const spans = this.tokenizer.encodeWithOffsets(text.slice(start, end));
    const ids = new Int32Array(spans.length);
    const ends = new Int32Array(spans.length);
    for (let index = 0; index < spans.length; index++) {
      ids[index] = spans[index].id;
      ends[index] = spans[index].end;
    }
    return { start, length: end - start, ids, ends };
  }

  /** Index of the chunk holding `offset` (the last chunk for offsets at or past the end). */
  private chunkIndexAt(offset: number): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.chunks[mid].start <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  private recount(): void {
    this.countsBefore = undefined;
    let total = 0;
    for (const chunk of this.chunks) total += chunk.ids.length;
    this.total = total;
  }

  private counts(): Int32Array {
    if (!this.countsBefore) {
      const counts = new Int32Array(this.chunks.length);
      let running = 0;
      this.chunks.forEach((chunk, index) => {
        counts[index] = running;
        running += chunk.ids.length;
      });
      this.countsBefore = counts;
    }
    return this.countsBefore;
  }
}

/** First index k with values[k] > target (token k ends after `target`, so it covers it). */
function upperBound(values: Int32Array, target: number): number {
  let low = 0;
  let high = values.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid] > target) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The first cut at least `minChars` after `from` (or `limit`). */
function nextCutAfter(text: string, from: number, limit: number, rule: CutRule, minChars: number): number {
  if (rule === 'none') return limit;
  let newline = text.indexOf('\n', Math.min(limit, from + minChars) - 1);
  while (newline >= 0 && newline + 1 < limit) {
    const cut = cutInLine(text, newline + 1, rule);
    if (cut > from && cut < limit) return cut;
    newline = text.indexOf('\n', newline + 1);
  }
  return limit;
}

/**
 * The tokens of `text` chunk by chunk, with offsets into the whole text: exactly the tokens of
 * encoding it whole, but only one chunk's tokens in memory at a time (the CLI streams 50 MB this way).
 * A tokenizer whose pieces may cross every line start (rule `none`) gets a single chunk.
 */
export function* encodeInChunks(tokenizer: Tokenizer, text: string, minChunkChars = 64 * 1024): Generator<TokenSpan[], void, void> {
  const rule = cutRuleFor(tokenizer);
  for (let start = 0; start < text.length; ) {
    const end = nextCutAfter(text, start, text.length, rule, minChunkChars);
    const spans = tokenizer.encodeWithOffsets(text.slice(start, end));
    yield start === 0 ? spans : spans.map((span) => ({ id: span.id, start: span.start + start, end: span.end + start }));
    start = end;
  }
}

/** The token count of `text`, chunk by chunk (as {@link encodeInChunks} cuts it). */
export function countInChunks(tokenizer: Tokenizer, text: string, minChunkChars = 64 * 1024): number {
  const rule = cutRuleFor(tokenizer);
  let count = 0;
  for (let start = 0; start < text.length; ) {
    const end = nextCutAfter(text, start, text.length, rule, minChunkChars);
    count += tokenizer.count(text.slice(start, end));
    start = end;
  }
  return count;
}
