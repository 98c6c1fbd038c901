import * as vscode from 'vscode';
import { contextShare, estimateCost, formatUSD } from '../../core/pricing/cost';
import { readConfig } from '../config';
import type { LensCounts } from './lensCounts';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

const UPDATE_DEBOUNCE_MS = 120;
export const TOKEN_LENS_MENU_COMMAND = 'tokenscope.tokenLens.menu';

/** `▰▰▱▱▱▱▱▱▱▱` for a share of 0..1 (over 1 shows full). */
function meter(share: number): string {
  const filled = Math.min(10, Math.round(share * 10));
  return '▰'.repeat(filled) + '▱'.repeat(10 - filled);
}

/**
 * Status bar: tokens in the selection (or file) in the chosen tokenizer, the cost of sending it to
 * the reference model, and how much of that model's context window it fills. Click: a menu to
 * choose tokenizer and reference model, toggle boundaries, compare tokenizers.
 */
export class TokenStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokenscope.tokenLens', vscode.StatusBarAlignment.Right, 99);
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
    private readonly counts: LensCounts,
  ) {
    this.item.name = 'Tokenscope Tokens';
    this.item.command = TOKEN_LENS_MENU_COMMAND;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.window.onDidChangeTextEditorSelection(() => this.schedule()),
      documents.onDidChange(() => this.schedule()),
      tokenizers.onDidChange(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.document === vscode.window.activeTextEditor?.document) this.schedule();
      }),
    );
    this.schedule();
  }

  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, UPDATE_DEBOUNCE_MS);
  }

  private update(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      this.item.hide();
      return;
    }
    const document = editor.document;
    const chosenId = this.tokenizers.chosenId;
    const chosen = this.tokenizers.peek(chosenId);
    const reference = this.tokenizers.referenceModel;
    const selection = editor.selection.isEmpty ? undefined : document.getText(editor.selection);
    const what = selection !== undefined ? 'selection' : 'file';
    // The chosen tokenizer's count of a tracked file comes free from its document tokens.
    if (chosen && selection === undefined) this.documents.peek(document, chosen);
    const count = selection !== undefined ? this.counts.text(selection, chosenId) : this.counts.file(document, chosenId);
    const referenceCount = selection !== undefined ? this.counts.text(selection, reference.tokenizer) : this.counts.file(document, reference.tokenizer);
    const failure = this.tokenizers.failure(chosenId);

    const label = chosen?.label ?? chosenId;
    let text = `$(symbol-key) ${failure ? '?' : count === undefined ? '…' : count.toLocaleString('en-US')} tok`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(`**Tokens in the ${what}**: ${count === undefined ? (failure ? `unavailable (${failure})` : 'loading…') : count.toLocaleString('en-US')} — ${label}${chosen?.estimate ? ' (estimate)' : ''}\n\n`);
    if (referenceCount !== undefined) {
      const cost = estimateCost(reference, referenceCount);
      const share = contextShare(referenceCount, reference.contextWindow);
      text += ` · ${formatUSD(cost.inputUSD)} · ${share < 0.01 && share > 0 ? '<1' : Math.round(share * 100)}%`;
      tooltip.appendMarkdown(
        `**${reference.label}**: ${reference.tokenizerEstimate ? '~' : ''}${referenceCount.toLocaleString('en-US')} tokens · input ${formatUSD(cost.inputUSD)} · output ${formatUSD(cost.outputUSD)} (prices as of ${reference.asOf})\n\n` +
          `Context window: ${meter(share)} ${(share * 100).toFixed(share < 0.1 ? 2 : 1)}% of ${reference.contextWindow.toLocaleString('en-US')} tokens\n\n` +
          `On the local model this costs $0; on ${reference.label} it would have cost ${formatUSD(cost.inputUSD)} to send.\n\n`,
      );
    }
    tooltip.appendMarkdown(`Click to choose the tokenizer or the reference model${readConfig().tokenLens.showBoundaries ? '' : ', or show token boundaries'}.`);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const disposable of this.disposables) disposable.dispose();
    this.item.dispose();
  }
}
