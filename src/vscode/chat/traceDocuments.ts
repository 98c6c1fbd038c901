import * as vscode from 'vscode';
import { formatTraceDocument, type TraceDocumentInput } from '../../core/chat/traceFormat';

export const traceScheme = 'tokenscope-trace';

/** Finds what a trace URI points at (the controller knows conversations, live and stored). */
export type TraceLookup = (conversationId: string, messageId: string) => Promise<TraceDocumentInput | undefined>;

/**
 * Read-only virtual documents showing a whole reasoning trace: `tokenscope-trace:/<name>.tokenscope-trace?c=…&m=…`.
 * The `.tokenscope-trace` extension gives them the `tokenscope-trace` language and its grammar.
 */
export class TraceDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly lookup: TraceLookup) {}

  static uri(conversationId: string, messageId: string, title: string): vscode.Uri {
    const name = title.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'trace';
    return vscode.Uri.from({ scheme: traceScheme, path: `/${name}.tokenscope-trace`, query: new URLSearchParams({ c: conversationId, m: messageId }).toString() });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const query = new URLSearchParams(uri.query);
    const conversationId = query.get('c');
    const messageId = query.get('m');
    if (!conversationId || !messageId) return 'This trace link is malformed: open traces from the chat ("Open trace" under an answer).';
    const input = await this.lookup(conversationId, messageId);
    if (!input) return 'This answer is no longer in the chat history (it was cleared or trimmed by tokenscope.chat.historyLimit).';
    return formatTraceDocument(input);
  }

  /** Re-reads an open trace (an answer finished streaming). */
  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  async open(conversationId: string, messageId: string, title: string): Promise<void> {
    const uri = TraceDocuments.uri(conversationId, messageId, title);
    this.refresh(uri);
    const document = await vscode.workspace.openTextDocument(uri);
    if (document.languageId !== traceScheme) await vscode.languages.setTextDocumentLanguage(document, traceScheme);
    await vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
