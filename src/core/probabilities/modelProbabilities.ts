/**
 * The probability views' requests on one loaded local model: the next-token distribution after a
 * prompt (re-shaped by temperature / top-p / top-k, optionally one token drawn with a seed) and
 * the per-token scores of a text with UTF-16 offsets. The model process answers its `next-token`
 * and `score` messages with this, and the CLI calls it in process. It keeps the last prompt's
 * logits (re-shaping the same prompt costs no forward pass) and the last text's scores
 * (an edited text is re-scored from its first changed token).
 */
import type { CursorPosition, DocumentLines } from '../completions/document';
import type { ModelInfo, PromptInput } from '../runtime/types';
import type { ModelTokenizer } from '../tokenizers/types';
import { displayToken } from '../tokenizers/display';
import { DEFAULT_SHOWN_TOKENS, reshapeDistribution, sampleToken, type Distribution, type Reshaping, type ShownToken } from './distribution';
import { IncrementalScorer, MAX_SCORE_ALTERNATIVES, type RowSource } from './scoring';

/** What these requests need of a loaded model: LocalModel's (named here, not imported: core code outside the runtime never loads ONNX Runtime). */
export interface ProbabilityModel {
  readonly info: Pick<ModelInfo, 'contextLength'>;
  readonly tokenizer: ModelTokenizer;
  encodePrompt(prompt: PromptInput): number[];
  nextTokenLogits(ids: readonly number[], options?: { readonly signal?: AbortSignal }): Promise<Float32Array>;
  withForwardPasses<T>(work: (source: RowSource) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

export interface NextTokenRequest {
  readonly prompt: PromptInput;
  /** Missing settings: temperature 1, top-p 1, top-k 0 (the model's own distribution). */
  readonly reshaping?: Partial<Reshaping>;
  /** Tokens shown (default 20, at most 200). */
  readonly top?: number;
  /** Draw one token with this seed ("sample one"). */
  readonly sampleSeed?: number;
}

export interface TokenText {
  readonly id: number;
  /** The token's text as decoded. */
  readonly text: string;
  /** Whitespace and control characters made visible (`·`, `↵`, `\x0A`), special tokens as they are. */
  readonly display: string;
}

export type NextTokenEntry = ShownToken & TokenText;

export interface NextTokenResult extends Omit<Distribution, 'tokens'> {
  readonly tokens: readonly NextTokenEntry[];
  /** Prompt tokens the model saw (after dropping the oldest to fit the context). */
  readonly promptTokens: number;
  readonly truncatedTokens: number;
  /** The drawn token, with the seed that draws it again. */
  readonly sampled?: TokenText & { readonly seed: number };
  /** False when the logits came from the previous request (same prompt, new settings). */
  readonly ranModel: boolean;
}

export interface ScoreTextRequest {
  readonly text: string;
  /** Alternatives per token (default 5, at most 20). */
  readonly top?: number;
  /** Return only tokens ending after this UTF-16 offset (what comes before is context). */
  readonly fromOffset?: number;
  /**
   * Alternatives only for tokens more surprising than this many bits (the others get none): the
   * surprise lens colours and explains those, and the answer it parses on the editor's thread
   * stays small. Default 0 (every token).
   */
  readonly alternativesAboveBits?: number;
}

export interface AlternativeText extends TokenText {
  readonly logprob: number;
}

export interface ScoredSpan {
  readonly id: number;
  /** UTF-16 offsets into the scored text. */
  readonly start: number;
  readonly end: number;
  /** ln p of this token given the tokens before it. */
  readonly logprob: number;
  /** What the model expected here, most likely first. */
  readonly top: readonly AlternativeText[];
}

export interface ScoreTextResult {
  readonly tokens: readonly ScoredSpan[];
  /** Tokens of the whole text (the first is never scored: nothing comes before it). */
  readonly totalTokens: number;
  /** Scores kept from the previous request (the unchanged start of an edited text). */
  readonly reusedTokens: number;
}

export const DEFAULT_RESHAPING: Reshaping = { temperature: 1, topP: 1, topK: 0 };
export const MAX_SHOWN_TOKENS = 200;

export class ModelProbabilities {
  private lastPrompt: { readonly ids: readonly number[]; readonly logits: Float32Array } | undefined;
  private readonly scorer = new IncrementalScorer();

  constructor(private readonly model: ProbabilityModel) {}

  tokenText(id: number): TokenText {
    return { id, text: this.model.tokenizer.decode([id]), display: displayToken(this.model.tokenizer, id).text };
  }

  async next(request: NextTokenRequest, signal?: AbortSignal): Promise<NextTokenResult> {
    const reshaping: Reshaping = { ...DEFAULT_RESHAPING, ...definedOnly(request.reshaping ?? {}) };
    const shown = Math.max(1, Math.min(MAX_SHOWN_TOKENS, Math.floor(request.top ?? DEFAULT_SHOWN_TOKENS)));
    const all = this.model.encodePrompt(request.prompt);
    if (all.length === 0) throw new RangeError('The prompt is empty: there is nothing for the model to continue. Type some text first.');
    const room = this.model.info.contextLength - 1;
    const ids = all.length > room ? all.slice(all.length - room) : all;
    const cached = this.lastPrompt && sameIds(this.lastPrompt.ids, ids) ? this.lastPrompt.logits : undefined;
    const logits = cached ?? (await this.model.nextTokenLogits(ids, { signal }));
    this.lastPrompt = { ids, logits };
    const distribution = reshapeDistribution(logits, reshaping, shown);
    const sampled = request.sampleSeed === undefined ? undefined : { ...this.tokenText(sampleToken(logits, reshaping, request.sampleSeed)), seed: request.sampleSeed };
    return {
      ...distribution,
      tokens: distribution.tokens.map((token) => ({ ...token, ...this.tokenText(token.id) })),
      promptTokens: ids.length,
      truncatedTokens: all.length - ids.length,
      ...(sampled ? { sampled } : {}),
      ranModel: cached === undefined,
    };
  }

  async score(request: ScoreTextRequest, signal?: AbortSignal): Promise<ScoreTextResult> {
    const top = Math.max(0, Math.min(MAX_SCORE_ALTERNATIVES, Math.floor(request.top ?? 5)));
    const spans = this.model.tokenizer.encodeWithOffsets(request.text);
    const ids = spans.map((span) => span.id);
    if (ids.length < 2) return { tokens: [], totalTokens: ids.length, reusedTokens: 0 };
    const { scores, reused } = await this.model.withForwardPasses((source) => this.scorer.score(ids, source, { top, signal }), signal);
    const fromOffset = request.fromOffset ?? 0;
    const alternativesBelow = -(request.alternativesAboveBits ?? 0) * Math.LN2;
    const texts = new Map<number, TokenText>();
    const text = (id: number) => texts.get(id) ?? texts.set(id, this.tokenText(id)).get(id)!;
    const tokens: ScoredSpan[] = [];
    for (const score of scores) {
      const span = spans[score.index];
      if (span.end <= fromOffset) continue;
      const top = score.logprob < alternativesBelow || alternativesBelow === 0 ? score.top.map((alt) => ({ ...text(alt.id), logprob: alt.logprob })) : [];
      tokens.push({ id: score.id, start: span.start, end: span.end, logprob: score.logprob, top });
    }
    return { tokens, totalTokens: ids.length, reusedTokens: reused };
  }
}

/**
 * The text of a document before a position, as "What comes next?" continues it. At most
 * `maxChars` (the newest): the model keeps only a context's worth of tokens anyway, and a 1 MB line
 * must not be tokenized whole on every step.
 */
export function textBeforeCursor(document: DocumentLines, position: CursorPosition, maxChars = 64 * 1024): string {
  const parts: string[] = [document.lineText(position.line).slice(0, position.character)];
  let length = parts[0].length;
  for (let line = position.line - 1; line >= 0 && length < maxChars; line--) {
    const text = document.lineText(line);
    parts.push('\n');
    parts.push(text);
    length += text.length + 1;
  }
  const text = parts.reverse().join('');
  return text.length > maxChars ? text.slice(text.length - maxChars) : text;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function definedOnly(values: Partial<Reshaping>): Partial<Reshaping> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}
