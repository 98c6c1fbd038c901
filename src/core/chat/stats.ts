/** What one answer cost in tokens and time, shown under it. Pure: the webview imports it too. */
export interface ChatStats {
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** Decode speed: tokens after the first one, over the time after the first one. */
  readonly tokensPerSecond?: number;
  readonly timeToFirstTokenMs?: number;
  readonly totalMs: number;
  /** What the same exchange would have cost on the reference API model, when a price is known. */
  readonly cost?: CostEstimate;
  /** Geometric mean of the generated tokens' probabilities, when the backend returned logprobs (servers). */
  readonly confidence?: number;
}

export interface CostEstimate {
  readonly referenceModel: string;
  readonly usd: number;
}

/**
 * Prices an exchange on the reference model. Injected so the pricing core (src/core/pricing) can be
 * swapped in without touching chat; `undefined` means no price is known for that model.
 */
export type CostEstimator = (usage: { readonly inputTokens: number; readonly outputTokens: number }) => CostEstimate | undefined;

/** Timestamps of one generation, from the request to the last token. */
export interface GenerationTimes {
  readonly startedAt: number;
  readonly firstTokenAt?: number;
  readonly lastTokenAt?: number;
  readonly endedAt: number;
}

export function computeStats(usage: { promptTokens: number; generatedTokens: number }, times: GenerationTimes, estimateCost?: CostEstimator, meanLogprob?: number): ChatStats {
  const { firstTokenAt, lastTokenAt } = times;
  const decodeMs = firstTokenAt !== undefined && lastTokenAt !== undefined ? lastTokenAt - firstTokenAt : 0;
  const tokensPerSecond = usage.generatedTokens > 1 && decodeMs > 0 ? ((usage.generatedTokens - 1) * 1000) / decodeMs : undefined;
  const cost = estimateCost?.({ inputTokens: usage.promptTokens, outputTokens: usage.generatedTokens });
  return {
    promptTokens: usage.promptTokens,
    generatedTokens: usage.generatedTokens,
    ...(tokensPerSecond !== undefined ? { tokensPerSecond } : {}),
    ...(firstTokenAt !== undefined ? { timeToFirstTokenMs: firstTokenAt - times.startedAt } : {}),
    totalMs: times.endedAt - times.startedAt,
    ...(cost ? { cost } : {}),
    ...(meanLogprob !== undefined && Number.isFinite(meanLogprob) ? { confidence: Math.exp(meanLogprob) } : {}),
  };
}

/** A price table entry in USD per million tokens: the fallback estimator's input. */
export interface TokenPrice {
  readonly id: string;
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
}

export function estimatorFromPrice(price: TokenPrice | undefined): CostEstimator {
  return (usage) => (price ? { referenceModel: price.id, usd: (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6 } : undefined);
}

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.0001) return '<$0.0001';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(usd < 1 ? 3 : 2)}`;
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
  if (stats.cost) parts.push(`≈${formatUsd(stats.cost.usd)} on ${stats.cost.referenceModel}`);
  return parts.join(' · ');
}
