import * as vscode from 'vscode';

/**
 * The text editor the user last worked in. While the chat view has focus there is no active text
 * editor, yet "insert at cursor" and "attach selection" mean that editor.
 */
export class EditorTracker implements vscode.Disposable {
  private last: vscode.TextEditor | undefined;
  private readonly subscription: vscode.Disposable;

  constructor() {
    this.remember(vscode.window.activeTextEditor);
    this.subscription = vscode.window.onDidChangeActiveTextEditor((editor) => this.remember(editor));
  }

  private remember(editor: vscode.TextEditor | undefined): void {
    // Output panels and our own trace documents are not where code goes.
    if (editor && !['output', 'tokenscope-trace', 'debug'].includes(editor.document.uri.scheme)) this.last = editor;
  }

  /** The active editor, else the last one that is still visible. */
  get editor(): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active && active.document.uri.scheme !== 'tokenscope-trace' && active.document.uri.scheme !== 'output') return active;
    if (this.last && vscode.window.visibleTextEditors.includes(this.last)) return this.last;
    return vscode.window.visibleTextEditors.find((editor) => editor.document.uri.scheme === 'file' || editor.document.uri.scheme === 'untitled');
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
