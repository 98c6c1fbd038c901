/**
 * Token counts and input costs of blocks (see blocks.ts), counted incrementally: a count is kept by
 * the block's text and tokenizer, so after an edit only the blocks whose text changed are counted
 * again (a keystroke in one function re-counts that function). Counting itself is injected: the
 * editor sends the missing ranges to the tokenizer worker, tests call a tokenizer directly. Pure.
 */
import { formatUSDFigure, tokensToUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import { priceAge } from '../pricing/staleness';
import type { Block } from './blocks';

/** Counts kept by (tokenizer, text), the oldest dropped past `maxEntries`. */
export class BlockCountCache {
  private readonly counts = new Map<string, number>();
  constructor(private readonly maxEntries = 4000) {}

  get size(): number {
    return this.counts.size;
  }

  lookup(tokenizer: string, text: string): number | undefined {
    const key = `${tokenizer}\u0000${text}`;
    const count = this.counts.get(key);
    if (count !== undefined) {
      // Refresh its place: the blocks on screen stay, the ones scrolled past go first.
      this.counts.delete(key);
      this.counts.set(key, count);
    }
    return count;
  }

  store(tokenizer: string, text: string, count: number): void {
    const key = `${tokenizer}\u0000${text}`;
    this.counts.delete(key);
    this.counts.set(key, count);
    while (this.counts.size > this.maxEntries) this.counts.delete(this.counts.keys().next().value as string);
  }
}

/** Counts the given blocks (by their offsets) in one tokenizer; one answer per block, in order. */
export type CountBlocks = (tokenizer: string, blocks: readonly Block[]) => Promise<readonly number[]>;

export interface BlockCountResult {
  /** Per block, its count in each tokenizer asked for (by tokenizer id). */
  readonly counts: readonly Readonly<Record<string, number>>[];
  /** How many block counts were computed (not found in the cache), for the log and tests. */
  readonly counted: number;
}

/**
 * Each block's count in each of `tokenizers`, from the cache where its text was counted before and
 * through `countBlocks` for the rest (one call per tokenizer, only with the missing blocks).
 */
export async function countBlocks(blocks: readonly Block[], textOf: (block: Block) => string, tokenizers: readonly string[], cache: BlockCountCache, count: CountBlocks): Promise<BlockCountResult> {
  const texts = blocks.map(textOf);
  const counts: Record<string, number>[] = blocks.map(() => ({}));
  let counted = 0;
  for (const tokenizer of new Set(tokenizers)) {
    const missing: number[] = [];
    texts.forEach((text, index) => {
      const known = cache.lookup(tokenizer, text);
      if (known === undefined) missing.push(index);
      else counts[index][tokenizer] = known;
    });
    if (missing.length === 0) continue;
    const answers = await count(
      tokenizer,
      missing.map((index) => blocks[index]),
    );
    missing.forEach((index, k) => {
      counts[index][tokenizer] = answers[k];
      cache.store(tokenizer, texts[index], answers[k]);
    });
    counted += missing.length;
  }
  return { counts, counted };
}

export interface BlockCostLabel {
  /** The end-of-line text: `412 tok · $0.0010 in` (a `⚠` after it when the price may be stale). */
  readonly text: string;
  /** The decoration's hover: which tokenizer counted, which model priced, the price's date. */
  readonly hover: string;
}

const count = (value: number) => value.toLocaleString('en-US');

/**
 * The label of one block (or selection): the chosen tokenizer's count and the input cost on the
 * reference model, which is computed from that model's own count. When the two tokenizers differ
 * the reference count is named too, so no count stands beside a cost it did not produce.
 */
export function blockCostLabel(input: {
  readonly chosenCount: number;
  readonly chosenTokenizer: string;
  readonly referenceCount: number;
  readonly reference: PricedModel;
  readonly what?: string;
  readonly now?: Date;
}): BlockCostLabel {
  const { reference } = input;
  const usd = tokensToUSD(input.referenceCount, reference.inputPerMTok);
  const same = input.chosenTokenizer === reference.tokenizer;
  const age = priceAge(reference, input.now);
  const approx = reference.tokenizerEstimate ? '~' : '';
  const text = `${count(input.chosenCount)} tok · ${formatUSDFigure(usd)} in${same ? '' : ` (${reference.id} ${approx}${count(input.referenceCount)} tok)`}${age.stale ? ' ⚠' : ''}`;
  const hover = [
    `${input.what ?? 'This block'}: ${count(input.chosenCount)} tokens in ${input.chosenTokenizer}.`,
    `Sending it to ${reference.label} as input: ${formatUSDFigure(usd)} (${approx}${count(input.referenceCount)} tokens in its tokenizer, ${reference.tokenizer}${reference.tokenizerEstimate ? ', an estimate' : ''}; $${reference.inputPerMTok} per million input tokens).`,
    `${age.note.charAt(0).toUpperCase()}${age.note.slice(1)}.`,
  ].join('\n\n');
  return { text, hover };
}
