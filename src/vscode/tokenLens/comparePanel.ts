import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { estimateCost, formatUSD } from '../../core/pricing/cost';
import type { CompareRow, TokenizerSpec } from '../../core/tokenizerWorker/protocol';
import type { LensTokenizers } from './lensTokenizers';

/** Characters shown token by token in the panel; counts always cover the whole text. */
const MAX_SHOWN_CHARS = 6_000;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/**
 * "Compare tokenizers": one panel with, for the selection (or the file), every tokenizer's count,
 * characters per token, the cost on the reference model's price and the text split into its
 * tokens. Static HTML under a strict CSP: no scripts.
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
  const shown = text.slice(0, MAX_SHOWN_CHARS);
  // Counted and split in the tokenizer worker (it loads any tokenizer not loaded yet).
  const compared: readonly CompareRow[] = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Tokenscope: counting in every tokenizer…' }, () =>
    tokenizers.worker.request('compare', { text, shownChars: MAX_SHOWN_CHARS, tokenizers: specs.filter((spec): spec is TokenizerSpec => spec !== undefined) }),
  );
  const reference = tokenizers.referenceModel;
  const nonce = randomBytes(16).toString('base64');
  let next = 0;
  const rows = entries.map((entry, index) => {
    const row = specs[index] ? compared[next++] : undefined;
    if (!row || row.state === 'failed') return `<tr><td>${escapeHtml(entry.id)}</td><td colspan="4" class="muted">unavailable: ${escapeHtml(row?.state === 'failed' ? row.error : (tokenizers.failure(entry.id) ?? ''))}</td></tr>`;
    const { count } = row;
    const cost = estimateCost(reference, count);
    const pieces = row.spans
      .filter((span) => span.end > span.start)
      .map((span, spanIndex) => {
        const visible = escapeHtml(shown.slice(span.start, span.end)).replace(/ /g, '·').replace(/\t/g, '→').replace(/\n/g, '↵<br>');
        return `<span class="t${spanIndex % 2}" title="id ${span.id} · ${span.byteLength} bytes">${visible}</span>`;
      })
      .join('');
    return (
      `<tr><td><b>${escapeHtml(entry.label)}</b>${entry.estimate ? ' <span class="muted">(estimate)</span>' : ''}<br><code>${escapeHtml(entry.id)}</code></td>` +
      `<td class="n">${count.toLocaleString('en-US')}</td><td class="n">${count > 0 ? (text.length / count).toFixed(2) : '—'}</td>` +
      `<td class="n">${formatUSD(cost.inputUSD)}</td><td class="tokens">${pieces}${text.length > shown.length ? ' <span class="muted">…</span>' : ''}</td></tr>`
    );
  });
  const panel = vscode.window.createWebviewPanel('tokenscope.compareTokenizers', 'Compare tokenizers', vscode.ViewColumn.Beside, { enableScripts: false, localResourceRoots: [] });
  panel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--vscode-panel-border); padding: 6px; vertical-align: top; text-align: left; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.tokens { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); line-height: 1.6; word-break: break-all; }
.t0 { background: var(--vscode-tokenscope-tokenBackgroundEven); }
.t1 { background: var(--vscode-tokenscope-tokenBackgroundOdd); }
.muted { color: var(--vscode-descriptionForeground); }
</style></head><body>
<h2>Compare tokenizers</h2>
<p>${escapeHtml(text.length.toLocaleString('en-US'))} characters of ${escapeHtml(what)}. Cost: sending it as input at ${escapeHtml(reference.label)}'s price (${reference.inputPerMTok} USD per million tokens, as of ${escapeHtml(reference.asOf)}), counted in each tokenizer.</p>
<table><thead><tr><th>Tokenizer</th><th>Tokens</th><th>Chars/token</th><th>Input cost</th><th>Tokens (hover for id)${text.length > shown.length ? `, first ${MAX_SHOWN_CHARS.toLocaleString('en-US')} characters` : ''}</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
</body></html>`;
  log.info(`Token lens: compared ${entries.length} tokenizers on ${text.length} characters`);
}
