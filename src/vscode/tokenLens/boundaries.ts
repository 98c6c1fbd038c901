import * as vscode from 'vscode';
import { readConfig } from '../config';
import type { LensDocuments } from './lensDocuments';
import { textLength } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';
import type { TokenRun } from '../../core/tokenizerWorker/protocol';
import { EditorDebounce } from '../editorDebounce';

/** Redraws wait this long after the last edit or scroll, so a burst of keystrokes draws once. */
const REDRAW_DEBOUNCE_MS = 30;
/** Lines decorated beyond the visible ones, so a small scroll shows boundaries at once. */
const MARGIN_LINES = 20;

/**
 * Token boundaries in the editor: alternating backgrounds (theme colours), a dotted outline on
 * whitespace-only tokens and a `↵` after every newline a token holds. Only the visible ranges are
 * decorated; redraws are debounced, and a redraw whose document or viewport changed before it ran
 * is dropped (stale work never reaches the editor). The tokens come from the tokenizer worker.
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
  private readonly debounce = new EditorDebounce(REDRAW_DEBOUNCE_MS);
  /** Draws started per editor: an answer for an older one is dropped. */
  private readonly generations = new WeakMap<vscode.TextEditor, number>();
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
    this.debounce.schedule(editor, () => void this.draw(editor));
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of [this.even, this.odd, this.whitespace, this.newline]) editor.setDecorations(type, []);
  }

  private async draw(editor: vscode.TextEditor): Promise<void> {
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
    const version = document.version;
    const generation = (this.generations.get(editor) ?? 0) + 1;
    this.generations.set(editor, generation);
    // The visible lines (and a margin) as offset ranges; the worker answers with their tokens.
    const ranges = editor.visibleRanges.map((visible) => {
      const firstLine = Math.max(0, visible.start.line - MARGIN_LINES);
      const lastLine = Math.min(document.lineCount - 1, visible.end.line + MARGIN_LINES);
      return new vscode.Range(new vscode.Position(firstLine, 0), document.lineAt(lastLine).rangeIncludingLineBreak.end);
    });
    let runs: (TokenRun | undefined)[];
    try {
      runs = await Promise.all(ranges.map((range) => this.documents.tokens(document, { start: document.offsetAt(range.start), end: document.offsetAt(range.end) })));
    } catch (error) {
      // The chosen tokenizer cannot be loaded: the status item and the hover say why.
      this.clear(editor);
      this.log.debug(`Token lens: no boundaries for ${document.uri.fsPath || document.uri.toString()}: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    // Stale: edited, scrolled or redrawn again meanwhile; the newer draw is scheduled.
    if (document.version !== version || this.generations.get(editor) !== generation || !this.enabled || runs.some((run) => run === undefined)) return;
    const started = performance.now();
    const even: vscode.Range[] = [];
    const odd: vscode.Range[] = [];
    const whitespace: vscode.Range[] = [];
    const newlines: vscode.Range[] = [];
    ranges.forEach((range, rangeIndex) => {
      const run = runs[rangeIndex] as TokenRun;
      const base = document.offsetAt(range.start);
      const text = document.getText(range);
      for (let k = 0; k < run.ids.length; k++) {
        const start = run.starts[k];
        const end = run.ends[k];
        if (start === end) continue; // leading bytes of a character the next token completes
        const tokenRange = new vscode.Range(document.positionAt(start), document.positionAt(end));
        ((run.firstIndex + k) % 2 === 0 ? even : odd).push(tokenRange);
        let onlyWhitespace = true;
        for (let offset = Math.max(start, base); offset < end && offset - base < text.length; offset++) {
          const code = text.charCodeAt(offset - base);
          if (code === 10) newlines.push(new vscode.Range(document.positionAt(offset), document.positionAt(offset)));
          else if (code !== 32 && code !== 9 && code !== 13) onlyWhitespace = false;
        }
        if (onlyWhitespace) whitespace.push(tokenRange);
      }
    });
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
    this.debounce.dispose();
    for (const disposable of this.disposables) disposable.dispose();
    for (const type of [this.even, this.odd, this.whitespace, this.newline]) type.dispose();
  }
}
