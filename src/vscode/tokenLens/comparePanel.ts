import * as vscode from 'vscode';
import { comparePageHtml, maxShownChars } from '../../core/tokenLens/comparePage';
import type { CompareRow, TokenizerSpec } from '../../core/tokenizerWorker/protocol';
import { newNonce } from '../../core/webview/nonce';
import type { LensTokenizers } from './lensTokenizers';

/**
 * "Compare tokenizers": one panel with, for the selection (or the file), every tokenizer's count,
 * characters per token, the cost on the reference model's price and the text split into its
 * tokens. The page is built in core (src/core/tokenLens/comparePage.ts): static HTML, no scripts.
 */
export async function showComparePanel(tokenizers: LensTokenizers, log: vscode.LogOutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Tokenscope: open a file and select some text to compare tokenizers.');
    return;
  }
  const text = editor.selection.isEmpty ? editor.document.getText() : editor.document.getText(editor.selection);
  const what = editor.selection.isEmpty ? `the whole of ${vscode.workspace.asRelativePath(editor.document.uri)}` : 'the selection';
  const entries = tokenizers.list();
  const specs = entries.map((entry) => tokenizers.spec(entry.id));
  // Counted and split in the tokenizer worker (it loads any tokenizer not loaded yet).
  const compared: readonly CompareRow[] = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Tokenscope: counting in every tokenizer…' }, () =>
    tokenizers.worker.request('compare', { text, shownChars: maxShownChars, tokenizers: specs.filter((spec): spec is TokenizerSpec => spec !== undefined) }),
  );
  let next = 0;
  const page = comparePageHtml({
    text,
    what,
    entries: entries.map((entry, index) => ({ tokenizer: entry, row: specs[index] ? compared[next++] : undefined, failure: tokenizers.failure(entry.id) })),
    reference: tokenizers.referenceModel,
    nonce: newNonce(),
  });
  const panel = vscode.window.createWebviewPanel('tokenscope.compareTokenizers', 'Compare tokenizers', vscode.ViewColumn.Beside, { enableScripts: false, localResourceRoots: [] });
  panel.webview.html = page;
  log.info(`Token lens: compared ${entries.length} tokenizers on ${text.length} characters`);
}
