import * as vscode from 'vscode';
import { requestScore } from '../../core/modelProcess/probabilityRequests';
import { placeScores, scoreAt, scoresBefore, spansByLevel, surpriseHoverMarkdown, type PlacedScore } from '../../core/probabilities/lensView';
import { SURPRISE_STEPS_BITS } from '../../core/probabilities/bars';
import { visibleWhitespace } from '../../core/tokenizers/display';
import type { ProbabilityServices } from './register';
import { EditorDebounce } from '../editorDebounce';

/** Re-scoring waits this long after the last edit or scroll. */
const DEBOUNCE_MS = 250;
/** Lines before the first visible one that the model reads as context (not coloured). */
const LEAD_LINES = 30;
/** At most this much text per request: a 1 MB line is scored from its start, not tokenized whole. */
const MAX_CHARS = 24_000;
/** Surprise levels 1..4 have a colour; level 0 (what the model expected) stays plain. */
const COLOURS = ['tokenscope.surpriseLowBackground', 'tokenscope.surpriseMediumBackground', 'tokenscope.surpriseHighBackground', 'tokenscope.surpriseVeryHighBackground'];

interface DocumentScores {
  readonly version: number;
  readonly scores: PlacedScore[];
}

/**
 * The surprise lens: each token of the visible part of a file coloured by how surprised the model
 * was by it (−log₂ p, in bits), the hover saying what it expected instead. The model runs in the
 * model process (requestScore); the host only cuts the text, places the answer and colours it.
 * An edit drops the colours from the edit on at once (they would be stale) and re-scores; the
 * model process re-runs only from the first changed token. A newer request for an editor cancels
 * its older one.
 */
export class SurpriseLens implements vscode.Disposable {
  private readonly types = COLOURS.map((colour) => vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(colour), borderRadius: '2px' }));
  private readonly disposables: vscode.Disposable[] = [];
  private readonly scores = new Map<vscode.TextDocument, DocumentScores>();
  private readonly debounce = new EditorDebounce(DEBOUNCE_MS);
  /** The request in flight per editor: a newer one for the same editor aborts it. */
  private readonly controllers = new Map<vscode.TextEditor, AbortController>();
  private enabled = false;
  /** Milliseconds of each synchronous stretch of the lens's own work on the host (bench, e2e, log). */
  readonly recentHostMs: number[] = [];

  constructor(private readonly services: ProbabilityServices) {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.schedule(editor))),
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onDidCloseTextDocument((document) => this.scores.delete(document)),
      vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], { provideHover: (document, position) => this.hover(document, position) }),
    );
  }

  /** Switches the lens on or off; returns the new state. */
  toggle(): boolean {
    this.enabled = !this.enabled;
    if (this.enabled) for (const editor of vscode.window.visibleTextEditors) this.schedule(editor);
    else {
      for (const controller of this.controllers.values()) controller.abort();
      this.controllers.clear();
      this.scores.clear();
      for (const editor of vscode.window.visibleTextEditors) this.clear(editor);
    }
    return this.enabled;
  }

  dispose(): void {
    for (const controller of this.controllers.values()) controller.abort();
    this.debounce.dispose();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    for (const type of this.types) type.dispose();
  }

  private clear(editor: vscode.TextEditor): void {
    for (const type of this.types) editor.setDecorations(type, []);
  }

  private schedule(editor: vscode.TextEditor): void {
    if (!this.enabled) return;
    this.debounce.schedule(editor, () => void this.score(editor));
  }

  /** An edit: the colours from its first change on are stale now; keep the rest, re-score. */
  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    if (!this.enabled || event.contentChanges.length === 0) return;
    const started = performance.now();
    const document = event.document;
    const previous = this.scores.get(document);
    if (previous) {
      const editStart = event.contentChanges.reduce((first, change) => Math.min(first, change.rangeOffset), Number.POSITIVE_INFINITY);
      this.scores.set(document, { version: document.version, scores: scoresBefore(previous.scores, editStart) });
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== document) continue;
      this.paint(editor);
      this.schedule(editor);
    }
    this.noteHostMs(performance.now() - started);
  }

  private async score(editor: vscode.TextEditor): Promise<void> {
    if (!this.enabled || editor.document.isClosed) return;
    const started = performance.now();
    const document = editor.document;
    const version = document.version;
    const visible = editor.visibleRanges[0];
    if (!visible) return;
    const firstVisible = document.offsetAt(new vscode.Position(visible.start.line, 0));
    const start = document.offsetAt(new vscode.Position(Math.max(0, visible.start.line - LEAD_LINES), 0));
    const visibleEnd = document.offsetAt(document.lineAt(Math.min(document.lineCount - 1, visible.end.line)).range.end);
    const end = Math.min(visibleEnd, Math.max(firstVisible, start) + MAX_CHARS);
    const text = document.getText(new vscode.Range(document.positionAt(start), document.positionAt(end)));
    this.controllers.get(editor)?.abort();
    const controller = new AbortController();
    this.controllers.set(editor, controller);
    this.noteHostMs(performance.now() - started);
    if (text.trim().length === 0) {
      this.scores.set(document, { version, scores: [] });
      this.paint(editor);
      return;
    }
    try {
      await this.services.runtime.ensureLoaded();
      const result = await requestScore(this.services.runtime.client, { text, top: 5, fromOffset: firstVisible - start, alternativesAboveBits: SURPRISE_STEPS_BITS[0] }, controller.signal);
      const placing = performance.now();
      // Stale: edited or re-requested meanwhile; the newer request paints.
      if (controller.signal.aborted || document.version !== version || !this.enabled) return;
      this.scores.set(document, { version, scores: placeScores(result.tokens, start) });
      this.paint(editor);
      this.noteHostMs(performance.now() - placing);
    } catch (error) {
      if (controller.signal.aborted) return;
      this.services.log.warn(`Surprise lens: ${error instanceof Error ? error.message : String(error)}`);
      void vscode.window.setStatusBarMessage(`Tokenscope surprise lens: ${error instanceof Error ? error.message : String(error)}`, 8000);
    } finally {
      if (this.controllers.get(editor) === controller) this.controllers.delete(editor);
    }
  }

  private paint(editor: vscode.TextEditor): void {
    const entry = this.scores.get(editor.document);
    if (!entry) {
      this.clear(editor);
      return;
    }
    const document = editor.document;
    const byLevel = spansByLevel(entry.scores, 'surprise');
    this.types.forEach((type, index) => editor.setDecorations(type, byLevel[index + 1].map((span) => new vscode.Range(document.positionAt(span.start), document.positionAt(span.end)))));
  }

  private hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (!this.enabled) return undefined;
    const entry = this.scores.get(document);
    if (!entry || entry.version !== document.version) return undefined;
    const score = scoreAt(entry.scores, document.offsetAt(position));
    if (!score) return undefined;
    const text = document.getText(new vscode.Range(document.positionAt(score.start), document.positionAt(score.end)));
    const markdown = new vscode.MarkdownString(surpriseHoverMarkdown(score, text, visibleWhitespace(text)));
    return new vscode.Hover(markdown, new vscode.Range(document.positionAt(score.start), document.positionAt(score.end)));
  }

  private noteHostMs(ms: number): void {
    this.recentHostMs.push(Math.round(ms * 100) / 100);
    if (this.recentHostMs.length > 50) this.recentHostMs.shift();
  }
}
