import { buildPriceTable, type PriceTable } from '../../core/pricing/cost';
import { estimatorFromPrice, type CostEstimator } from '../../core/chat/stats';

let cached: { key: string; table: PriceTable } | undefined;

/**
 * Prices an exchange on the reference API model (tokenscope.cost.referenceModel, with
 * tokenscope.cost.customModels applied) from the pricing core's dated table. The token counts are
 * the local model's, so the figure is an estimate of what the same text would cost there (the
 * webview shows it with "≈"). Undefined when the reference model has no price.
 */
export function referenceCostEstimator(referenceModel: string, customModels: readonly unknown[]): CostEstimator | undefined {
  const key = JSON.stringify(customModels);
  if (cached?.key !== key) cached = { key, table: buildPriceTable(customModels) };
  const price = cached.table.models.find((model) => model.id === referenceModel);
  return price ? estimatorFromPrice({ id: price.id, inputPerMTok: price.inputPerMTok, outputPerMTok: price.outputPerMTok }) : undefined;
}
