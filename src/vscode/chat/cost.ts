import type { CostEstimator } from '../../core/chat/stats';

/*
 * SWAP POINT for the pricing core (src/core/pricing, written in parallel). When it lands, this
 * returns an estimator that looks up `referenceModel` (the tokenscope.cost.referenceModel setting,
 * plus tokenscope.cost.customModels) and prices input and output tokens, e.g.
 *   const price = pricing.find(referenceModel); return estimatorFromPrice(price && { id: price.id, inputPerMTok: price.inputPerMTok, outputPerMTok: price.outputPerMTok });
 * Until then no cost is shown rather than a made-up price.
 */
export function referenceCostEstimator(referenceModel: string): CostEstimator | undefined {
  void referenceModel;
  return undefined;
}
