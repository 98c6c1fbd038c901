import * as vscode from 'vscode';
import type { GeneratedTokenScores } from '../../core/completions/types';
import { acceptedScores, confidenceHoverMarkdown, scoreAt, scoresAfterEdit, spansByLevel, type PlacedScore } from '../../core/probabilities/lensView';
import { visibleWhitespace } from '../../core/tokenizers/display';

const COLOURS = [0, 1, 2, 3, 4].map((level) => `tokenscope.confidence${level}Background`);

/**
 * Confidence colouring: the tokens of an accepted inline completion coloured by the probability
 * the model gave each (five theme colours, red unsure to green sure), with a hover giving the
 * probability, the log-probability and the top alternatives as bars. Kept per document while the
 * window is open; an edit drops the tokens it touches and moves the rest with the text.
 */
export class ConfidenceColouring implements vscode.Disposable {
  private readonly types = COLOURS.map((colour) => vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(colour), borderRadius: '2px' }));
  private readonly scores = new Map<vscode.TextDocument, PlacedScore[]>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onDidCloseTextDocument((document) => this.scores.delete(document)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.paint(editor))),
      vscode.languages.registerHoverProvider([{ scheme: 'file' }, { scheme: 'untitled' }, { scheme: 'vscode-remote' }], { provideHover: (document, position) => this.hover(document, position) }),
    );
  }

  /** Colours a completion accepted into `document` at `insertStart` (the text is there now). */
  show(document: vscode.TextDocument, insertStart: number, text: string, tokenScores: GeneratedTokenScores | undefined): number {
    const placed = acceptedScores(text, tokenScores, insertStart);
    if (placed.length === 0) return 0;
    const insertEnd = insertStart + text.length;
    const others = (this.scores.get(document) ?? []).filter((score) => score.end <= insertStart || score.start >= insertEnd);
    this.scores.set(document, others.concat(placed).sort((a, b) => a.start - b.start));
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === document) this.paint(editor);
    return placed.length;
  }

  clearAll(): void {
    this.scores.clear();
    for (const editor of vscode.window.visibleTextEditors) this.paint(editor);
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
    for (const type of this.types) type.dispose();
    this.scores.clear();
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    let scores = this.scores.get(event.document);
    if (!scores || event.contentChanges.length === 0) return;
    // Last change first: each change's offsets are in the document before any of them.
    for (const change of event.contentChanges.slice().sort((a, b) => b.rangeOffset - a.rangeOffset)) scores = scoresAfterEdit(scores, change.rangeOffset, change.rangeLength, change.text.length);
    this.scores.set(event.document, scores);
    for (const editor of vscode.window.visibleTextEditors) if (editor.document === event.document) this.paint(editor);
  }

  private paint(editor: vscode.TextEditor): void {
    const document = editor.document;
    const byLevel = spansByLevel(this.scores.get(document) ?? [], 'confidence');
    this.types.forEach((type, level) => editor.setDecorations(type, byLevel[level].map((span) => new vscode.Range(document.positionAt(span.start), document.positionAt(span.end)))));
  }

  private hover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const score = scoreAt(this.scores.get(document) ?? [], document.offsetAt(position));
    if (!score) return undefined;
    const range = new vscode.Range(document.positionAt(score.start), document.positionAt(score.end));
    const text = document.getText(range);
    return new vscode.Hover(new vscode.MarkdownString(confidenceHoverMarkdown(score, text, visibleWhitespace(text))), range);
  }
}
