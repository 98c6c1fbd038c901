import * as vscode from 'vscode';
import type { LineAnnotation, LineNote } from '../../core/chat/annotations';

/** Identifies the answer an annotation came from, for the hover's "open trace" link. */
export interface AnnotationSource {
  readonly conversationId: string;
  readonly messageId: string;
}

interface DocumentAnnotations {
  readonly annotations: readonly LineAnnotation[];
  readonly source: AnnotationSource;
}

const maxAfterTextLength = 90;

/**
 * Reasoning beside the code: each cited line gets a tinted background and, after its text, the
 * sentence that cites it; the hover holds the whole paragraph. Decoration types are created once;
 * annotations are dropped when their document changes (the cited line numbers would be stale).
 */
export class TraceAnnotations implements vscode.Disposable {
  private readonly lineType = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('tokenscope.traceAnnotationBackground'),
  });
  private readonly afterType = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('tokenscope.traceAnnotationForeground'), margin: '0 0 0 3em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly byDocument = new Map<string, DocumentAnnotations>();
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((editor) => this.apply(editor))),
      vscode.workspace.onDidChangeTextDocument((event) => {
        const key = event.document.uri.toString();
        if (event.contentChanges.length > 0 && this.byDocument.has(key)) {
          this.byDocument.delete(key);
          this.refresh(key);
          this.log.debug(`Reasoning annotations cleared for ${event.document.uri.fsPath}: the file changed.`);
        }
      }),
    ];
  }

  /** Replaces the annotations of one document (an explanation streams in, so this runs repeatedly). */
  set(uri: vscode.Uri, annotations: readonly LineAnnotation[], source: AnnotationSource): void {
    const key = uri.toString();
    if (annotations.length === 0) this.byDocument.delete(key);
    else this.byDocument.set(key, { annotations, source });
    this.refresh(key);
  }

  clear(): void {
    const keys = [...this.byDocument.keys()];
    this.byDocument.clear();
    keys.forEach((key) => this.refresh(key));
  }

  /** Lines annotated in a document (for tests and the clear command's message). */
  count(): number {
    let total = 0;
    for (const entry of this.byDocument.values()) total += entry.annotations.length;
    return total;
  }

  private refresh(key: string): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.toString() === key) this.apply(editor);
    }
  }

  private apply(editor: vscode.TextEditor): void {
    const entry = this.byDocument.get(editor.document.uri.toString());
    if (!entry) {
      editor.setDecorations(this.lineType, []);
      editor.setDecorations(this.afterType, []);
      return;
    }
    const lineCount = editor.document.lineCount;
    const visible = entry.annotations.filter((annotation) => annotation.line <= lineCount);
    editor.setDecorations(
      this.lineType,
      visible.map((annotation) => new vscode.Range(annotation.line - 1, 0, annotation.line - 1, 0)),
    );
    editor.setDecorations(
      this.afterType,
      visible.map((annotation) => {
        const line = editor.document.lineAt(annotation.line - 1);
        return {
          range: new vscode.Range(line.range.end, line.range.end),
          hoverMessage: hoverFor(annotation, entry.source),
          renderOptions: { after: { contentText: afterText(annotation.notes) } },
        };
      }),
    );
  }

  dispose(): void {
    this.subscriptions.forEach((subscription) => subscription.dispose());
    this.lineType.dispose();
    this.afterType.dispose();
  }
}

function afterText(notes: readonly LineNote[]): string {
  const first = notes[0];
  if (!first) return '';
  const label = first.kind === 'thinking' ? 'thinking: ' : '';
  const summary = first.summary.length > maxAfterTextLength ? `${first.summary.slice(0, maxAfterTextLength - 1)}…` : first.summary;
  const more = notes.length > 1 ? `  (+${notes.length - 1})` : '';
  return `◂ ${label}${summary}${more}`;
}

/**
 * Model text goes into untrusted MarkdownStrings (no command links, no HTML); the one trusted
 * string holds only our own link, with only our own command enabled.
 */
function hoverFor(annotation: LineAnnotation, source: AnnotationSource): vscode.MarkdownString[] {
  const parts = annotation.notes.map((note) => {
    const markdown = new vscode.MarkdownString(undefined, false);
    markdown.isTrusted = false;
    markdown.supportHtml = false;
    markdown.appendMarkdown(`**${note.kind === 'thinking' ? 'Reasoning' : 'Answer'}** about line ${annotation.line}\n\n`);
    markdown.appendMarkdown(note.segment);
    return markdown;
  });
  const link = new vscode.MarkdownString(`[Open the whole trace](command:tokenscope.openTrace?${encodeURIComponent(JSON.stringify([source.conversationId, source.messageId]))}) · [Clear annotations](command:tokenscope.clearTraceAnnotations)`);
  link.isTrusted = { enabledCommands: ['tokenscope.openTrace', 'tokenscope.clearTraceAnnotations'] };
  return [...parts, link];
}
