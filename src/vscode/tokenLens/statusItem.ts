import * as vscode from 'vscode';
import { tokenStatusSummary } from '../../core/pricing/tokenStatus';
import { tokenizerKey, type CountsOf } from '../../core/tokenizerWorker/protocol';
import { readConfig } from '../config';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

const UPDATE_DEBOUNCE_MS = 120;
export const TOKEN_LENS_MENU_COMMAND = 'tokenscope.tokenLens.menu';

/**
 * Status bar: tokens in the selection (or file) in the chosen tokenizer and, beside it, what sending
 * it to the reference model would cost, counted in that model's own tokenizer (see
 * tokenStatusSummary: the two counts differ whenever the tokenizers do, so each is labelled). Click:
 * a menu to choose tokenizer and reference model, toggle boundaries, compare tokenizers.
 */
export class TokenStatusItem implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tokenscope.tokenLens', vscode.StatusBarAlignment.Right, 99);
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Updates started: an answer for an older one is dropped. */
  private generation = 0;

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
  ) {
    this.item.name = 'Tokenscope Tokens';
    this.item.command = TOKEN_LENS_MENU_COMMAND;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.window.onDidChangeTextEditorSelection(() => this.schedule()),
      documents.onDidChange((document) => {
        if (document === vscode.window.activeTextEditor?.document) this.schedule();
      }),
      tokenizers.onDidChange(() => this.schedule()),
    );
    this.schedule();
  }

  schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.update();
    }, UPDATE_DEBOUNCE_MS);
  }

  private async update(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      this.item.hide();
      return;
    }
    const generation = ++this.generation;
    const document = editor.document;
    const chosenId = this.tokenizers.chosenId;
    const reference = this.tokenizers.referenceModel;
    const selection = editor.selection.isEmpty ? undefined : editor.selection;
    const specs = [chosenId, reference.tokenizer].map((id) => this.tokenizers.spec(id));
    const countIn = specs.filter((spec, index): spec is NonNullable<typeof spec> => spec !== undefined && specs.findIndex((other) => other && tokenizerKey(other) === tokenizerKey(spec)) === index);
    let counts: Readonly<Record<string, CountsOf>> | undefined;
    try {
      counts = countIn.length === 0 ? {} : await this.documents.counts(document, countIn, [selection ? { start: document.offsetAt(selection.start), end: document.offsetAt(selection.end) } : 'document']);
    } catch {
      counts = {};
    }
    // Stale (edited or another editor meanwhile): the newer update shows.
    if (counts === undefined || generation !== this.generation || vscode.window.activeTextEditor !== editor) return;
    const countOf = (id: string) => {
      const spec = this.tokenizers.spec(id);
      const entry = spec ? counts?.[tokenizerKey(spec)] : undefined;
      return entry?.state === 'ready' ? entry.counts[0] : undefined;
    };
    const summary = tokenStatusSummary({
      what: selection ? 'selection' : 'file',
      count: countOf(chosenId),
      tokenizer: { id: chosenId, label: this.tokenizers.label(chosenId), estimate: this.tokenizers.estimate(chosenId), problem: this.tokenizers.failure(chosenId) },
      reference,
      referenceTokenizerLabel: this.tokenizers.label(reference.tokenizer),
      referenceCount: countOf(reference.tokenizer),
    });
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(summary.tooltip.join('\n\n'));
    tooltip.appendMarkdown(`\n\nClick to choose the tokenizer or the reference model${readConfig().tokenLens.showBoundaries ? '' : ', or show token boundaries'}.`);
    this.item.text = `$(symbol-key) ${summary.text}`;
    this.item.tooltip = tooltip;
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const disposable of this.disposables) disposable.dispose();
    this.item.dispose();
  }
}
