import * as vscode from 'vscode';
import { readConfig } from '../config';
import type { LensDocuments } from './lensDocuments';
import { textLength } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

/** Redraws wait this long after the last edit or scroll, so a burst of keystrokes draws once. */
const REDRAW_DEBOUNCE_MS = 30;
/** Lines decorated beyond the visible ones, so a small scroll shows boundaries at once. */
const MARGIN_LINES = 20;

/**
 * Token boundaries in the editor: alternating backgrounds (theme colours), a dotted outline on
 * whitespace-only tokens and a `↵` after every newline a token holds. Only the visible ranges are
 * decorated; redraws are debounced, and a redraw whose document or viewport changed before it ran
 * is dropped (stale work never reaches the editor).
 */
export class BoundaryDecorations implements vscode.Disposable {
  private readonly even = vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('tokenscope.tokenBackgroundEven') });
  private readonly odd = vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor('tokenscope.tokenBackgroundOdd') });
  private readonly whitespace = vscode.window.createTextEditorDecorationType({
    borderWidth: '1px',
    borderStyle: 'dotted',
    borderColor: new vscode.ThemeColor('tokenscope.tokenWhitespaceForeground'),
  });
  private readonly newline = vscode.window.createTextEditorDecorationType({
    after: { contentText: '↵', color: new vscode.ThemeColor('tokenscope.tokenWhitespaceForeground') },
  });
  private readonly timers = new Map<vscode.TextEditor, NodeJS.Timeout>();
  private readonly warnedLarge = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Extension-host milliseconds of the last redraws (for the log and the e2e test). */
  readonly recentRedrawMs: number[] = [];

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redrawAll()),
      documents.onDidChange((document) => {
        for (const editor of vscode.window.visibleTextEditors) if (editor.document === document) this.schedule(editor);
      }),
      tokenizers.onDidChange(() => this.redrawAll()),
    );
  }

  get enabled(): boolean {
    return readConfig().tokenLens.showBoundaries;
  }

  redrawAll(): void {
    for (const editor of vscode.window.visibleTextEditors) this.schedule(editor);
  }

  schedule(editor: vscode.TextEditor): void {
    const pending = this.timers.get(editor);
    if (pending) clearTimeout(pending);
    this.timers.set(
      editor,
      setTimeout(() => {
        this.timers.delete(editor);
        this.draw(editor);
      }, REDRAW_DEBOUNCE_MS),
    );
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of [this.even, this.odd, this.whitespace, this.newline]) editor.setDecorations(type, []);
  }

  private draw(editor: vscode.TextEditor): void {
    if (!this.enabled || editor.document.isClosed) {
      this.clear(editor);
      return;
    }
    const document = editor.document;
    if (!this.documents.isTracked(document)) {
      this.clear(editor);
      const key = document.uri.toString();
      if (!this.warnedLarge.has(key)) {
        this.warnedLarge.add(key);
        const sizeKB = Math.round(textLength(document) / 1024);
        void vscode.window.showInformationMessage(
          `Tokenscope: token boundaries are off for ${vscode.workspace.asRelativePath(document.uri)} (${sizeKB} KB, over the ${readConfig().tokenLens.maxFileSizeKB} KB set in tokenscope.tokenLens.maxFileSizeKB). Counts are still shown.`,
        );
      }
      return;
    }
    const tokenizer = this.tokenizers.peek(this.tokenizers.chosenId);
    if (!tokenizer) return; // drawn when the tokenizer has loaded (onDidChange)
    const tokens = this.documents.peek(document, tokenizer);
    if (!tokens) return; // drawn when the document's tokens are built (onDidChange)
    const started = performance.now();
    const version = document.version;
    const even: vscode.Range[] = [];
    const odd: vscode.Range[] = [];
    const whitespace: vscode.Range[] = [];
    const newlines: vscode.Range[] = [];
    const text = tokens.text;
    for (const visible of editor.visibleRanges) {
      const firstLine = Math.max(0, visible.start.line - MARGIN_LINES);
      const lastLine = Math.min(document.lineCount - 1, visible.end.line + MARGIN_LINES);
      const from = document.offsetAt(new vscode.Position(firstLine, 0));
      const to = document.offsetAt(document.lineAt(lastLine).rangeIncludingLineBreak.end);
      tokens.forEachToken(from, to, (token) => {
        if (token.start === token.end) return; // leading bytes of a character the next token completes
        const range = new vscode.Range(document.positionAt(token.start), document.positionAt(token.end));
        (token.index % 2 === 0 ? even : odd).push(range);
        let onlyWhitespace = true;
        for (let offset = token.start; offset < token.end; offset++) {
          const code = text.charCodeAt(offset);
          if (code === 10) newlines.push(new vscode.Range(document.positionAt(offset), document.positionAt(offset)));
          else if (code !== 32 && code !== 9 && code !== 13) onlyWhitespace = false;
        }
        if (onlyWhitespace) whitespace.push(range);
      });
    }
    if (document.version !== version) return; // stale: a newer redraw is scheduled
    editor.setDecorations(this.even, even);
    editor.setDecorations(this.odd, odd);
    editor.setDecorations(this.whitespace, whitespace);
    editor.setDecorations(this.newline, newlines);
    const elapsed = performance.now() - started;
    this.recentRedrawMs.push(elapsed);
    if (this.recentRedrawMs.length > 50) this.recentRedrawMs.shift();
    if (elapsed > 16) this.log.debug(`Token lens: redraw of ${even.length + odd.length} tokens took ${elapsed.toFixed(1)} ms`);
  }

  /** Settings changed: show, hide or redraw. */
  refresh(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (!this.enabled) this.clear(editor);
      else this.schedule(editor);
    }
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const disposable of this.disposables) disposable.dispose();
    for (const type of [this.even, this.odd, this.whitespace, this.newline]) type.dispose();
  }
}
