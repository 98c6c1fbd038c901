import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { estimateCost, formatUSD } from '../../core/pricing/cost';
import { displayToken } from '../../core/tokenizers/display';
import type { Tokenizer } from '../../core/tokenizers/types';
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
  const loaded: { id: string; tokenizer?: Tokenizer; error?: string }[] = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Tokenscope: loading tokenizers…' },
    async () => {
      const result: { id: string; tokenizer?: Tokenizer; error?: string }[] = [];
      for (const entry of tokenizers.list()) {
        try {
          result.push({ id: entry.id, tokenizer: await tokenizers.get(entry.id) });
        } catch (error) {
          result.push({ id: entry.id, error: error instanceof Error ? error.message : String(error) });
        }
      }
      return result;
    },
  );
  const reference = tokenizers.referenceModel;
  const shown = text.slice(0, MAX_SHOWN_CHARS);
  const nonce = randomBytes(16).toString('base64');
  const rows = loaded.map(({ id, tokenizer, error }) => {
    if (!tokenizer) return `<tr><td>${escapeHtml(id)}</td><td colspan="4" class="muted">unavailable: ${escapeHtml(error ?? '')}</td></tr>`;
    const count = tokenizer.count(text);
    const cost = estimateCost(reference, count);
    const spans = tokenizer.encodeWithOffsets(shown);
    const pieces = spans
      .filter((span) => span.end > span.start)
      .map((span, index) => {
        const display = displayToken(tokenizer, span.id);
        const visible = escapeHtml(shown.slice(span.start, span.end)).replace(/ /g, '·').replace(/\t/g, '→').replace(/\n/g, '↵<br>');
        return `<span class="t${index % 2}" title="id ${span.id} · ${display.byteLength} bytes">${visible}</span>`;
      })
      .join('');
    return (
      `<tr><td><b>${escapeHtml(tokenizer.label)}</b>${tokenizer.estimate ? ' <span class="muted">(estimate)</span>' : ''}<br><code>${escapeHtml(id)}</code></td>` +
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
  log.info(`Token lens: compared ${loaded.length} tokenizers on ${text.length} characters`);
}
