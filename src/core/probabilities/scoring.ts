/**
 * Scoring a text with a model: for each token, the natural-log probability the model gave it from
 * the tokens before it, and what it expected instead (the top alternatives). Batched: a window of
 * tokens runs in forward passes of `chunk` tokens that return every row of logits, never one pass
 * per token. Longer than the context: sliding windows on a fixed grid (a token's window depends on
 * its position only), so re-scoring after an edit gives exactly what a full re-score gives.
 * Incremental: `IncrementalScorer` keeps the scores of the tokens before the first changed one
 * (a causal model's score of token i depends on tokens up to i only) and the KV cache of the
 * shared prefix, and runs the model from there.
 */
import { commonPrefixLength } from '../runtime/tokenPrefix';
import { logSumExp, topKIndices } from '../runtime/sampling';
import { GenerationAbortedError } from '../runtime/types';

/** What scoring needs from a loaded model's forward passes (LocalModel's graph, under its lock). */
export interface RowSource {
  readonly contextLength: number;
  /** Tokens the KV cache holds, from the window's start. */
  readonly cachedIds: readonly number[];
  truncateCache(length: number): void;
  /** Runs `tokens` after the cached ones; with `rows`, returns the logits of each of them. */
  forward(tokens: readonly number[], rows: true, checkAbort: () => void): Promise<readonly Float32Array[]>;
  forward(tokens: readonly number[], rows: false, checkAbort: () => void): Promise<void>;
}

export interface ScoredAlternative {
  readonly id: number;
  readonly logprob: number;
}

export interface TokenScore {
  /** Position of the token in the scored ids. */
  readonly index: number;
  readonly id: number;
  /** ln p(token | the tokens before it in its window). */
  readonly logprob: number;
  /** Most likely tokens at this position, most likely first. */
  readonly top: readonly ScoredAlternative[];
}

export interface ScoreOptions {
  /** Alternatives per token (default 5, at most 20). */
  readonly top?: number;
  /** Tokens per forward pass (bounds memory: rows x vocabulary floats). Default 64. */
  readonly chunk?: number;
  /** Score only tokens at this index and after (earlier tokens are context). Default 1. */
  readonly from?: number;
  readonly signal?: AbortSignal;
}

export const MAX_SCORE_ALTERNATIVES = 20;
const DEFAULT_CHUNK = 64;

/**
 * Where token `index`'s window starts: 0 while it fits the context, else on a grid of half the
 * context, so every token keeps at least half a context of tokens before it.
 */
export function windowStart(index: number, contextLength: number): number {
  if (index < contextLength) return 0;
  const stride = Math.max(1, Math.floor(contextLength / 2));
  return (Math.floor((index - contextLength) / stride) + 1) * stride;
}

/** Scores ids[from..] (token 0 has nothing before it and is never scored). */
export async function scoreIds(ids: readonly number[], source: RowSource, options: ScoreOptions = {}): Promise<TokenScore[]> {
  const top = Math.max(0, Math.min(MAX_SCORE_ALTERNATIVES, Math.floor(options.top ?? 5)));
  const chunk = Math.max(1, Math.floor(options.chunk ?? DEFAULT_CHUNK));
  const signal = options.signal;
  const checkAbort = () => {
    if (signal?.aborted) throw new GenerationAbortedError('Scoring was cancelled.');
  };
  const scores: TokenScore[] = [];
  const contextLength = Math.max(2, source.contextLength);
  let first = Math.max(1, Math.floor(options.from ?? 1));
  while (first < ids.length) {
    checkAbort();
    const start = windowStart(first, contextLength);
    // This window scores tokens [first, end): every token whose window starts here.
    let end = first + 1;
    while (end < ids.length && windowStart(end, contextLength) === start) end++;
    // Feed ids[start, end - 1): row p predicts token start + p + 1.
    const fed = ids.slice(start, end - 1);
    const needFrom = first - 1 - start;
    const reuse = Math.min(commonPrefixLength(source.cachedIds, fed), needFrom);
    source.truncateCache(reuse);
    if (reuse < needFrom) await source.forward(fed.slice(reuse, needFrom), false, checkAbort);
    for (let p = needFrom; p < fed.length; p += chunk) {
      const rows = await source.forward(fed.slice(p, p + chunk), true, checkAbort);
      rows.forEach((logits, r) => {
        const index = start + p + r + 1;
        const id = ids[index];
        const logTotal = logSumExp(logits);
        const alternatives = top > 0 ? topKIndices(logits, top).map((alt) => ({ id: alt, logprob: logits[alt] - logTotal })) : [];
        scores.push({ index, id, logprob: logits[id] - logTotal, top: alternatives });
      });
    }
    first = end;
  }
  return scores;
}

/**
 * Scores successive versions of a text (a file being edited), reusing the scores of the tokens
 * before the first token that changed. The result always equals `scoreIds` of the whole sequence.
 */
export class IncrementalScorer {
  private ids: readonly number[] = [];
  private scores: TokenScore[] = [];
  private top = -1;

  /** `reused`: scores kept from the previous call (not recomputed). */
  async score(ids: readonly number[], source: RowSource, options: Omit<ScoreOptions, 'from'> = {}): Promise<{ readonly scores: readonly TokenScore[]; readonly reused: number }> {
    const top = Math.max(0, Math.min(MAX_SCORE_ALTERNATIVES, Math.floor(options.top ?? 5)));
    const same = top === this.top ? commonPrefixLength(this.ids, ids) : 0;
    // Tokens before `same` kept their whole context: their scores stand. Token 0 is never scored.
    const kept = this.scores.filter((score) => score.index < same);
    // Forget first: a cancelled run must not leave scores of a text it did not finish.
    this.ids = [];
    this.scores = [];
    const fresh = await scoreIds(ids, source, { ...options, top, from: Math.max(1, same) });
    this.ids = [...ids];
    this.top = top;
    this.scores = kept.concat(fresh);
    return { scores: this.scores, reused: kept.length };
  }

  reset(): void {
    this.ids = [];
    this.scores = [];
  }
}
