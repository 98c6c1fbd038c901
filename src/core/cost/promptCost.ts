/**
 * Before you send: what a prompt costs on the reference model as input, and the worst case if the
 * answer runs to `maxTokens` of output. The chat input shows it under the text box, and an Explain
 * Selection answer shows it while it streams. The counts are the serving model's (so `≈`). Pure.
 */
import { formatUSDFigure, tokensToUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import { priceAge } from '../pricing/staleness';

export interface PromptCost {
  readonly inputUSD: number;
  /** Output at `maxTokens`: the most the answer can add. */
  readonly worstOutputUSD: number;
  /** `≈$0.0031 in + up to $0.0051 out (512 tok) on gpt-4o · prices as of 2024-10-01 ⚠ possibly stale` */
  readonly text: string;
}

export function promptCost(promptTokens: number, maxTokens: number, model: PricedModel, now?: Date): PromptCost {
  const inputUSD = tokensToUSD(promptTokens, model.inputPerMTok);
  const worstOutputUSD = tokensToUSD(maxTokens, model.outputPerMTok);
  const age = priceAge(model, now);
  const text = `≈${formatUSDFigure(inputUSD)} in + up to ${formatUSDFigure(worstOutputUSD)} out (${maxTokens.toLocaleString('en-US')} tok) on ${model.id} · prices as of ${model.asOf}${age.stale ? ' ⚠ possibly stale' : ''}`;
  return { inputUSD, worstOutputUSD, text };
}
