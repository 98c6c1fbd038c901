import type * as vscode from 'vscode';

/**
 * One debounce timer per editor, for decorations that redraw after scrolling or typing stops (the
 * token boundaries, the cost labels, the surprise lens): a new call for an editor replaces its
 * pending one; other editors keep theirs.
 */
export class EditorDebounce {
  private readonly timers = new Map<vscode.TextEditor, NodeJS.Timeout>();

  constructor(private readonly delayMs: number) {}

  schedule(editor: vscode.TextEditor, run: () => void): void {
    const pending = this.timers.get(editor);
    if (pending) clearTimeout(pending);
    this.timers.set(
      editor,
      setTimeout(() => {
        this.timers.delete(editor);
        run();
      }, this.delayMs),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
