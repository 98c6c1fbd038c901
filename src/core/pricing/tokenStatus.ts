/**
 * The words of the token status item and its tooltip: the chosen tokenizer's count of the file (or
 * selection) and what sending it would cost on the reference model. That cost is computed from the
 * reference model's own count, in its own tokenizer, which differs from the chosen one's whenever
 * the tokenizers differ (the built-in model's tokenizer counts 234 where GPT-4o's counts 186): so a
 * count is never shown next to a cost it did not produce. Pure, so it is unit-tested as text.
 */
import { contextShare, estimateCost, formatUSD } from './cost';
import type { PricedModel } from './prices';
import { priceAge } from './staleness';

export interface TokenStatusInput {
  readonly what: 'file' | 'selection';
  /** The chosen tokenizer's count; undefined while it loads or when it cannot load. */
  readonly count: number | undefined;
  readonly tokenizer: { readonly id: string; readonly label: string; readonly estimate: boolean; readonly problem?: string };
  readonly reference: PricedModel;
  /** The label of the reference model's tokenizer (`OpenAI o200k_base`). */
  readonly referenceTokenizerLabel: string;
  /** The reference model's own count; undefined while its tokenizer loads. */
  readonly referenceCount: number | undefined;
}

const formatCount = (count: number) => count.toLocaleString('en-US');

/** `▰▰▱▱▱▱▱▱▱▱` for a share of 0..1 (over 1 shows full). */
function meter(share: number): string {
  const filled = Math.min(10, Math.round(share * 10));
  return '▰'.repeat(filled) + '▱'.repeat(10 - filled);
}

/**
 * `186 tok · $0.00047 · <1%` when the chosen tokenizer is the reference model's; otherwise
 * `234 tok · GPT-4o 186 tok · $0.00047 · <1%`: the cost and context share follow the count they come from.
 */
export function tokenStatusSummary(input: TokenStatusInput): { readonly text: string; readonly tooltip: readonly string[] } {
  const { reference, count, referenceCount } = input;
  const sameTokenizer = input.tokenizer.id === reference.tokenizer;
  const countText = input.tokenizer.problem ? '?' : count === undefined ? '…' : formatCount(count);
  const tooltip: string[] = [
    `**Tokens in the ${input.what}**: ${count === undefined ? (input.tokenizer.problem ? `unavailable (${input.tokenizer.problem})` : 'loading…') : formatCount(count)} — ${input.tokenizer.label}${input.tokenizer.estimate ? ' (estimate)' : ''}, the tokenizer of boundaries and hovers`,
  ];
  let text = `${countText} tok`;
  if (referenceCount === undefined) {
    tooltip.push(`**${reference.label}** (the reference model for costs): its tokenizer, ${input.referenceTokenizerLabel}, is loading…`);
    return { text, tooltip };
  }
  const cost = estimateCost(reference, referenceCount);
  const share = contextShare(referenceCount, reference.contextWindow);
  const shareText = share < 0.01 && share > 0 ? '<1%' : `${Math.round(share * 100)}%`;
  const referenceTokens = `${reference.tokenizerEstimate ? '~' : ''}${formatCount(referenceCount)}`;
  text += sameTokenizer ? ` · ${formatUSD(cost.inputUSD)} · ${shareText}` : ` · ${reference.label} ${referenceTokens} tok · ${formatUSD(cost.inputUSD)} · ${shareText}`;
  tooltip.push(
    `**${reference.label}** (the reference model for costs): ${referenceTokens} tokens in its tokenizer, ${input.referenceTokenizerLabel}${reference.tokenizerEstimate ? ' (a stand-in: an estimate)' : ''} · input ${formatUSD(cost.inputUSD)} · output ${formatUSD(cost.outputUSD)} (${priceAge(reference).note})`,
    `Context window: ${meter(share)} ${(share * 100).toFixed(share < 0.1 ? 2 : 1)}% of ${formatCount(reference.contextWindow)} tokens`,
    `On the local model this costs $0; on ${reference.label} it would have cost ${formatUSD(cost.inputUSD)} to send.`,
  );
  if (!sameTokenizer && count !== undefined && count !== referenceCount) {
    tooltip.push(`The two counts differ because each tokenizer splits text its own way: the cost is ${reference.label}'s, from its own count.`);
  }
  return { text, tooltip };
}
