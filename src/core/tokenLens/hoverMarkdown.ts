/**
 * The Token lens hover as Markdown: the token under the pointer (visible whitespace, id, bytes),
 * the counts of the line, the selection and the file in every tokenizer side by side, and the
 * cost of the selection (or file) as input and output on every priced model, each with its
 * price's date. Built in core from the tokenizer worker's answer and unit-tested as text;
 * src/vscode/tokenLens/hover.ts asks the worker and shows it.
 */
import { longestBacktickRun } from '../backticks';
import { estimateCost, formatUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import type { TokenizerDescriptor } from '../tokenizers/descriptors';
import type { CountsOf, HoveredToken } from '../tokenizerWorker/protocol';

/** The only commands the hover's links run (the glue trusts exactly these). */
export const hoverCommands: readonly string[] = ['tokenscope.chooseTokenizer', 'tokenscope.chooseReferenceModel', 'tokenscope.compareTokenizers'];

/** A code span that survives backticks in the token. */
export function codeSpan(text: string): string {
  const longest = longestBacktickRun(text);
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${text}${longest > 0 ? ' ' : ''}${fence}`;
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');
const number = (value: number | undefined): string => (value === undefined ? '…' : value.toLocaleString('en-US'));

/** Where each counted range sits in a CountsOf's `counts` (the order the glue asks in). */
export const hoverTargets = { line: 0, file: 1, selection: 2 } as const;

export interface HoverContent {
  readonly token: HoveredToken;
  /** The chosen tokenizer (its row comes first and bold). */
  readonly chosen: Pick<TokenizerDescriptor, 'id' | 'label' | 'estimate'>;
  /** Every tokenizer, in the order of the table. */
  readonly tokenizers: readonly Pick<TokenizerDescriptor, 'id' | 'label'>[];
  /** A tokenizer's counts of line, file (and selection), by tokenizer id; undefined when it was not asked. */
  readonly countsOf: (tokenizerId: string) => CountsOf | undefined;
  readonly hasSelection: boolean;
  readonly prices: readonly PricedModel[];
  /** The reference model's id (its row is bold). */
  readonly referenceId: string;
}

/** The hover's Markdown, and how many of its counts are still loading (0: the hover is complete). */
export function tokenHoverMarkdown(content: HoverContent): { readonly markdown: string; readonly loading: number } {
  const { token, chosen, countsOf, hasSelection } = content;
  const countAt = (id: string, target: number): number | undefined => {
    const counts = countsOf(id);
    return counts?.state === 'ready' ? counts.counts[target] : undefined;
  };
  const parts: string[] = [];
  parts.push(`**Token** ${codeSpan(token.text)} · id **${token.id}** · ${token.byteLength} byte${token.byteLength === 1 ? '' : 's'}${token.partial ? ' (part of a character)' : ''} — ${escapeCell(chosen.label)}${chosen.estimate ? ' (estimate)' : ''}\n\n`);

  // Counts side by side: chosen tokenizer first.
  parts.push(`| Tokenizer | Line | ${hasSelection ? 'Selection | ' : ''}File |\n|---|---:|${hasSelection ? '---:|' : ''}---:|\n`);
  let loading = 0;
  for (const entry of content.tokenizers) {
    const id = entry.id;
    const label = `${id === chosen.id ? '**' : ''}${escapeCell(entry.label)}${id === chosen.id ? '**' : ''}`;
    const counts = countsOf(id);
    if (!counts || counts.state === 'failed') {
      parts.push(`| ${label} | — | ${hasSelection ? '— | ' : ''}— |\n`);
      continue;
    }
    if (counts.state === 'loading') loading++;
    parts.push(`| ${label} | ${number(countAt(id, hoverTargets.line))} | ${hasSelection ? `${number(countAt(id, hoverTargets.selection))} | ` : ''}${number(countAt(id, hoverTargets.file))} |\n`);
  }

  // Cost of the selection (else the file) on every priced model, each counted in its own tokenizer.
  const what = hasSelection ? 'selection' : 'file';
  const costTarget = hasSelection ? hoverTargets.selection : hoverTargets.file;
  parts.push(`\n**Cost of the ${what}** (USD; input = sending it, output = generating it; a local model: $0)\n\n| Model | Its tokens | Input | Output | Prices as of |\n|---|---:|---:|---:|---|\n`);
  for (const model of content.prices) {
    const count = countAt(model.tokenizer, costTarget);
    const name = `${model.id === content.referenceId ? '**' : ''}${escapeCell(model.label)}${model.id === content.referenceId ? '**' : ''}`;
    if (count === undefined) {
      if (countsOf(model.tokenizer)?.state === 'loading') loading++;
      parts.push(`| ${name} | ${countsOf(model.tokenizer)?.state === 'loading' ? '…' : '—'} | … | … | ${model.asOf} |\n`);
      continue;
    }
    const cost = estimateCost(model, count);
    parts.push(`| ${name} | ${model.tokenizerEstimate ? '~' : ''}${number(count)} | ${formatUSD(cost.inputUSD)} | ${formatUSD(cost.outputUSD)} | ${escapeCell(model.asOf)} |\n`);
  }
  parts.push(`\nEach model's tokens are counted with its own tokenizer (the rows above). ~ a stand-in tokenizer (estimate).${loading > 0 ? ' … still loading: hover again in a moment.' : ''} `);
  parts.push('[Choose tokenizer](command:tokenscope.chooseTokenizer) · [Reference model](command:tokenscope.chooseReferenceModel) · [Compare](command:tokenscope.compareTokenizers)');
  return { markdown: parts.join(''), loading };
}
