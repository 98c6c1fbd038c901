/** What one answer cost in tokens and time, shown under it. Pure: the webview imports it too. */
import { formatUSDBrief, type CostEstimator, type ReferenceCost, type TokenUsage } from '../pricing/cost';

/** One answer's figures (kept with it in the chat history). */
export interface ChatStats {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** Decode speed: tokens after the first one, over the time after the first one. */
  readonly tokensPerSecond?: number;
  readonly timeToFirstTokenMs?: number;
  readonly totalMs: number;
  /** What the same exchange would have cost on the reference API model, when a price is known. */
  readonly cost?: ReferenceCost;
  /** Geometric mean of the generated tokens' probabilities, when the backend returned logprobs (servers). */
  readonly confidence?: number;
  /** For a reasoning model: the generated tokens split into thinking and answer, each priced. */
  readonly reasoning?: ReasoningSplit;
}

/** A reasoning answer's generated tokens, thinking apart from answer, each priced on the reference model as output. */
export interface ReasoningSplit {
  readonly thinkingTokens: number;
  readonly answerTokens: number;
  /** Undefined where no price is known. */
  readonly thinkingUSD?: number;
  readonly answerUSD?: number;
}

/** Splits `generatedTokens` into `thinkingTokens` and the rest, pricing each as output through `estimateCost`. */
export function reasoningSplit(generatedTokens: number, thinkingTokens: number, estimateCost?: CostEstimator): ReasoningSplit {
  const thinking = Math.max(0, Math.min(thinkingTokens, generatedTokens));
  const answer = generatedTokens - thinking;
  const price = (tokens: number) => estimateCost?.({ promptTokens: 0, generatedTokens: tokens })[0]?.usd;
  const thinkingUSD = price(thinking);
  const answerUSD = price(answer);
  return { thinkingTokens: thinking, answerTokens: answer, ...(thinkingUSD !== undefined ? { thinkingUSD } : {}), ...(answerUSD !== undefined ? { answerUSD } : {}) };
}

/** `thought 812 tok · $0.0081, answered 143 tok · $0.0014` (no prices when none is known). */
export function formatReasoningSplit(split: ReasoningSplit): string {
  const priced = (usd: number | undefined) => (usd === undefined ? '' : ` · ${formatUSDBrief(usd)}`);
  return `thought ${split.thinkingTokens} tok${priced(split.thinkingUSD)}, answered ${split.answerTokens} tok${priced(split.answerUSD)}`;
}

/** Timestamps of one generation, from the request to the last token. */
export interface GenerationTimes {
  readonly startedAt: number;
  readonly firstTokenAt?: number;
  readonly lastTokenAt?: number;
  readonly endedAt: number;
}

/**
 * `estimateCost` prices the exchange on the reference model (pricing's referenceCostEstimator): its
 * first line becomes `cost`; none, or no estimator, means no price is known.
 */
export function computeStats(usage: TokenUsage, times: GenerationTimes, estimateCost?: CostEstimator, meanLogprob?: number, thinkingTokens?: number): ChatStats {
  const { firstTokenAt, lastTokenAt } = times;
  const decodeMs = firstTokenAt !== undefined && lastTokenAt !== undefined ? lastTokenAt - firstTokenAt : 0;
  const tokensPerSecond = usage.generatedTokens > 1 && decodeMs > 0 ? ((usage.generatedTokens - 1) * 1000) / decodeMs : undefined;
  const [line] = estimateCost?.(usage) ?? [];
  const cost: ReferenceCost | undefined = line && { referenceModel: line.model, usd: line.usd };
  return {
    promptTokens: usage.promptTokens,
    generatedTokens: usage.generatedTokens,
    ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
    ...(firstTokenAt !== undefined ? { timeToFirstTokenMs: firstTokenAt - times.startedAt } : {}),
    totalMs: times.endedAt - times.startedAt,
    ...(cost ? { cost } : {}),
    ...(meanLogprob !== undefined && Number.isFinite(meanLogprob) ? { confidence: Math.exp(meanLogprob) } : {}),
    ...(thinkingTokens !== undefined ? { reasoning: reasoningSplit(usage.generatedTokens, thinkingTokens, estimateCost) } : {}),
  };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** `123 prompt · 456 generated · 12.3 tok/s · 0.4 s to first token · $0.0012 on gpt-4o` */
export function formatStats(stats: ChatStats): string {
  const parts = [`${stats.promptTokens} prompt`, `${stats.generatedTokens} generated`];
  if (stats.tokensPerSecond !== undefined) parts.push(`${stats.tokensPerSecond.toFixed(1)} tok/s`);
  if (stats.timeToFirstTokenMs !== undefined) parts.push(`${formatDuration(stats.timeToFirstTokenMs)} to first token`);
  if (stats.confidence !== undefined) parts.push(`${Math.round(stats.confidence * 100)}% sure`);
  if (stats.cost) parts.push(`≈${formatUSDBrief(stats.cost.usd)} on ${stats.cost.referenceModel}`);
  if (stats.reasoning) parts.push(formatReasoningSplit(stats.reasoning));
  return parts.join(' · ');
}
