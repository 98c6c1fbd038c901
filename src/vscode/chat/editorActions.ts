import * as vscode from 'vscode';
import { basename } from 'node:path';
import { attachmentChip, attachmentProblem, wholeLineSpan } from '../../core/chat/attachments';
import { lastLine, type ExplainSelection } from '../../core/chat/explainPrompt';
import type { ExplainRef } from '../../core/chat/historyFormat';
import { linkConfirmation, linkRefusal } from '../../core/chat/links';
import type { CodeAction, ContextChip } from '../../core/webview/chatProtocol';
import type { EditorTracker } from './editorTracker';

/**
 * What the chat does in the editor: attach the selection or file, insert, replace or copy a code
 * block, open a link after asking, select the lines a citation names. Each says in the chat
 * (`notice`) what to do when it cannot; the rules themselves live in core (attachments.ts, links.ts).
 */
export class ChatEditorActions {
  constructor(
    private readonly editors: EditorTracker,
    private readonly notice: (text: string) => void,
  ) {}

  /** The chip for the active editor's selection or file, or undefined (the chat was told why). */
  async attach(kind: 'selection' | 'file', countTokens: (text: string) => Promise<number>): Promise<ContextChip | undefined> {
    const editor = this.editors.editor;
    if (!editor) {
      this.notice('Open a file in the editor first: attachments come from the active editor.');
      return undefined;
    }
    const document = editor.document;
    const path = vscode.workspace.asRelativePath(document.uri, false);
    let chip: ContextChip;
    if (kind === 'selection') {
      const selection = selectedLines(editor);
      if (!selection) {
        this.notice('Select some code in the editor first, then attach it.');
        return undefined;
      }
      const lines = { startLine: selection.startLine, endLine: lastLine(selection) };
      chip = attachmentChip({ path, languageId: document.languageId, text: selection.text, lines }, await countTokens(selection.text));
    } else {
      const text = document.getText();
      chip = attachmentChip({ path, languageId: document.languageId, text }, await countTokens(text));
    }
    const problem = attachmentProblem(chip);
    if (problem) {
      this.notice(problem);
      return undefined;
    }
    return chip;
  }

  async codeAction(action: CodeAction, code: string): Promise<void> {
    if (action === 'copy') {
      await vscode.env.clipboard.writeText(code);
      vscode.window.setStatusBarMessage('$(check) Code copied', 2000);
      return;
    }
    const editor = this.editors.editor;
    if (!editor) {
      this.notice('Open a file in the editor first: the code goes into the active editor.');
      return;
    }
    if (action === 'replace' && editor.selection.isEmpty) {
      this.notice('Select the code to replace in the editor first (or use Insert to add at the cursor).');
      return;
    }
    const applied = await editor.edit((edit) => {
      if (action === 'replace') edit.replace(editor.selection, code);
      else edit.insert(editor.selection.active, code);
    });
    if (!applied) this.notice('The editor refused the edit (is the file read-only?).');
    else await vscode.window.showTextDocument(editor.document, editor.viewColumn);
  }

  /** Links in model output open only after the user confirms, and only http(s)/mailto. */
  async openLink(href: string): Promise<void> {
    let uri: vscode.Uri;
    try {
      uri = vscode.Uri.parse(href, true);
    } catch {
      this.notice(`Not a link Tokenscope can open: ${href}`);
      return;
    }
    const refusal = linkRefusal(uri.scheme);
    if (refusal) {
      this.notice(refusal);
      return;
    }
    const ask = linkConfirmation(href);
    const choice = await vscode.window.showWarningMessage(ask.message, { modal: true, detail: ask.detail }, ask.open);
    if (choice === ask.open) await vscode.env.openExternal(uri);
  }

  /** A citation clicked in the chat selects those lines of the explained file. */
  async revealLines(ref: ExplainRef, start: number, end: number): Promise<void> {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(ref.uri));
    const last = Math.min(end, document.lineCount);
    const range = new vscode.Range(Math.max(0, start - 1), 0, Math.max(0, last - 1), document.lineAt(Math.max(0, last - 1)).text.length);
    const editor = await vscode.window.showTextDocument(document, { selection: range, preserveFocus: false });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }
}

/** The editor's selection widened to whole lines, as Explain Selection and attachments take it; undefined when empty or blank. */
export function selectedLines(editor: vscode.TextEditor): ExplainSelection | undefined {
  const span = wholeLineSpan(editor.selection);
  if (!span) return undefined;
  const document = editor.document;
  const text = document.getText(new vscode.Range(span.startLine, 0, span.endLine, document.lineAt(span.endLine).text.length));
  if (text.trim() === '') return undefined;
  const path = document.uri.scheme === 'untitled' ? basename(document.uri.path) : vscode.workspace.asRelativePath(document.uri, false);
  return { path, languageId: document.languageId, startLine: span.startLine + 1, text };
}
