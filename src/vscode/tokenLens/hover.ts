import * as vscode from 'vscode';
import { longestBacktickRun } from '../../core/backticks';
import { estimateCost, formatUSD } from '../../core/pricing/cost';
import { displayToken } from '../../core/tokenizers/display';
import type { Tokenizer } from '../../core/tokenizers/types';
import { readConfig } from '../config';
import type { LensCounts } from './lensCounts';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

/** A code span that survives backticks in the token. */
export function codeSpan(text: string): string {
  const longest = longestBacktickRun(text);
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${text}${longest > 0 ? ' ' : ''}${fence}`;
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');
const number = (value: number | undefined): string => (value === undefined ? '…' : value.toLocaleString('en-US'));

/**
 * The hover over any token: the token itself (visible whitespace, id, bytes), then the counts of
 * the line, the selection and the file in every tokenizer side by side, and the cost of the
 * selection (or file) as input and as output on every priced model, with each price's date.
 */
export class TokenHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
    private readonly counts: LensCounts,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position, cancellation: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    if (!readConfig().tokenLens.hover) return undefined;
    const chosenId = this.tokenizers.chosenId;
    let tokenizer: Tokenizer;
    try {
      tokenizer = await this.tokenizers.get(chosenId);
    } catch (error) {
      return new vscode.Hover(new vscode.MarkdownString(`**Tokenscope**: tokenizer \`${chosenId}\` is unavailable: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (cancellation.isCancellationRequested) return undefined;
    const offset = document.offsetAt(position);
    const line = document.lineAt(position.line);
    // The token under the mouse: from the document's tokens when tracked, else from the line alone.
    let token: { id: number; start: number; end: number } | undefined;
    const tokens = this.documents.peek(document, tokenizer);
    if (tokens) {
      token = tokens.tokenAt(offset);
    } else {
      const lineStart = document.offsetAt(line.range.start);
      const span = tokenizer.encodeWithOffsets(line.text).find((candidate) => lineStart + candidate.end > offset);
      if (span) token = { id: span.id, start: lineStart + span.start, end: lineStart + span.end };
    }
    if (!token) return undefined;

    const markdown = new vscode.MarkdownString(undefined, true);
    markdown.supportHtml = false;
    const shown = displayToken(tokenizer, token.id);
    markdown.appendMarkdown(
      `**Token** ${codeSpan(shown.text)} · id **${token.id}** · ${shown.byteLength} byte${shown.byteLength === 1 ? '' : 's'}${shown.partial ? ' (part of a character)' : ''} — ${escapeCell(tokenizer.label)}${tokenizer.estimate ? ' (estimate)' : ''}\n\n`,
    );

    // Counts side by side: chosen tokenizer first.
    const editor = vscode.window.activeTextEditor;
    const selection = editor && editor.document === document && !editor.selection.isEmpty ? document.getText(editor.selection) : undefined;
    const ids = [chosenId, ...this.tokenizers.list().map((entry) => entry.id).filter((id) => id !== chosenId)];
    markdown.appendMarkdown(`| Tokenizer | Line | ${selection !== undefined ? 'Selection | ' : ''}File |\n|---|---:|${selection !== undefined ? '---:|' : ''}---:|\n`);
    const labels = new Map(this.tokenizers.list().map((entry) => [entry.id, entry.label]));
    for (const id of ids) {
      const failed = this.tokenizers.failure(id);
      const label = `${id === chosenId ? '**' : ''}${escapeCell(labels.get(id) ?? id)}${id === chosenId ? '**' : ''}`;
      if (failed) {
        markdown.appendMarkdown(`| ${label} | — | ${selection !== undefined ? '— | ' : ''}— |\n`);
        continue;
      }
      const lineCount = this.counts.text(line.text, id);
      const selectionCount = selection !== undefined ? this.counts.text(selection, id) : undefined;
      const fileCount = this.counts.file(document, id);
      markdown.appendMarkdown(`| ${label} | ${number(lineCount)} | ${selection !== undefined ? `${number(selectionCount)} | ` : ''}${number(fileCount)} |\n`);
    }

    // Cost of the selection (else the file) on every priced model.
    const what = selection !== undefined ? 'selection' : 'file';
    markdown.appendMarkdown(`\n**Cost of the ${what}** (USD; input = sending it, output = generating it; a local model: $0)\n\n| Model | Tokens | Input | Output | Prices as of |\n|---|---:|---:|---:|---|\n`);
    const reference = this.tokenizers.referenceModel;
    for (const model of this.tokenizers.prices.models) {
      const count = selection !== undefined ? this.counts.text(selection, model.tokenizer) : this.counts.file(document, model.tokenizer);
      const name = `${model.id === reference.id ? '**' : ''}${escapeCell(model.label)}${model.id === reference.id ? '**' : ''}`;
      if (count === undefined) {
        markdown.appendMarkdown(`| ${name} | … | … | … | ${model.asOf} |\n`);
        continue;
      }
      const cost = estimateCost(model, count);
      markdown.appendMarkdown(`| ${name} | ${model.tokenizerEstimate ? '~' : ''}${number(count)} | ${formatUSD(cost.inputUSD)} | ${formatUSD(cost.outputUSD)} | ${escapeCell(model.asOf)} |\n`);
    }
    markdown.appendMarkdown('\n~ counted with a stand-in tokenizer (estimate). … still loading: hover again. ');
    markdown.appendMarkdown('[Choose tokenizer](command:tokenscope.chooseTokenizer) · [Reference model](command:tokenscope.chooseReferenceModel) · [Compare](command:tokenscope.compareTokenizers)');
    markdown.isTrusted = { enabledCommands: ['tokenscope.chooseTokenizer', 'tokenscope.chooseReferenceModel', 'tokenscope.compareTokenizers'] };
    return new vscode.Hover(markdown, new vscode.Range(document.positionAt(token.start), document.positionAt(Math.max(token.end, token.start))));
  }
}
