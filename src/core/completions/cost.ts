import { tokensToUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';

/**
 * What a completion's tokens would have cost on priced APIs. The price table belongs to the pricing
 * core; the engine only needs this function shape, so tests and the CLI can pass any table.
 */
export interface TokenUsage {
  readonly promptTokens: number;
  readonly generatedTokens: number;
}

export interface CostLine {
  /** Priced model id (e.g. `gpt-4o`). */
  readonly model: string;
  /** USD the same number of tokens would have cost there. */
  readonly usd: number;
}

export type CostEstimator = (usage: TokenUsage) => readonly CostLine[];

/** USD per million tokens. */
export interface SimplePrice {
  readonly model: string;
  readonly inputPerMTok: number;
  readonly outputPerMTok: number;
}

/**
 * Prices a usage against a table. Token counts are the local model's: an API model's tokenizer
 * would count the same text slightly differently, so this answers "the same tokens", as labelled.
 */
export function estimateCost(usage: TokenUsage, prices: readonly SimplePrice[]): CostLine[] {
  return prices.map((price) => ({
    model: price.model,
    usd: (usage.promptTokens * price.inputPerMTok + usage.generatedTokens * price.outputPerMTok) / 1_000_000,
  }));
}

/** Builds an estimator over a fixed table. */
export function costEstimatorFrom(prices: readonly SimplePrice[]): CostEstimator {
  return (usage) => estimateCost(usage, prices);
}

/**
 * Prices a completion's tokens on every model of the pricing core's table (prompt as uncached
 * input, generated tokens as output). Counts are the local model's tokens: "the same tokens".
 */
export function costEstimatorFromPriceTable(models: readonly PricedModel[]): CostEstimator {
  return (usage) =>
    models.map((model) => ({
      model: model.id,
      usd: tokensToUSD(usage.promptTokens, model.inputPerMTok) + tokensToUSD(usage.generatedTokens, model.outputPerMTok),
    }));
}
