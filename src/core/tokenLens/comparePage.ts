/**
 * The Compare Tokenizers page: for a text, every tokenizer's count, characters per token, the
 * input cost on the reference model's price and the text split into its tokens. Static HTML in the
 * one webview shell (src/core/webview/html.ts) under a CSP that allows no script; unit-tested as
 * text. src/vscode/tokenLens/comparePanel.ts shows it.
 */
import { estimateCost, formatUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import type { TokenizerDescriptor } from '../tokenizers/descriptors';
import type { CompareRow } from '../tokenizerWorker/protocol';
import { escapeHtml, webviewDocument } from '../webview/html';

/** Characters shown token by token on the page; counts always cover the whole text. */
export const maxShownChars = 6_000;

/** One tokenizer's line: its counts and spans from the tokenizer worker, or why it has none. */
export interface CompareEntry {
  readonly tokenizer: Pick<TokenizerDescriptor, 'id' | 'label' | 'estimate'>;
  readonly row?: CompareRow;
  /** Why the tokenizer is unavailable when there is no row (unknown, failed to load). */
  readonly failure?: string;
}

export interface ComparePage {
  readonly text: string;
  /** What the text is, for the sentence above the table: `the selection`, `the whole of a.ts`. */
  readonly what: string;
  readonly entries: readonly CompareEntry[];
  readonly reference: PricedModel;
  readonly nonce: string;
}

const style = `body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--vscode-panel-border); padding: 6px; vertical-align: top; text-align: left; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.tokens { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); line-height: 1.6; word-break: break-all; }
.t0 { background: var(--vscode-tokenscope-tokenBackgroundEven); }
.t1 { background: var(--vscode-tokenscope-tokenBackgroundOdd); }
.muted { color: var(--vscode-descriptionForeground); }`;

function entryRow({ tokenizer, row, failure }: CompareEntry, text: string, reference: PricedModel): string {
  if (!row || row.state === 'failed') return `<tr><td>${escapeHtml(tokenizer.id)}</td><td colspan="4" class="muted">unavailable: ${escapeHtml(row?.state === 'failed' ? row.error : (failure ?? ''))}</td></tr>`;
  const { count } = row;
  const shown = text.slice(0, maxShownChars);
  const cost = estimateCost(reference, count);
  // Whitespace made visible: a space is ·, a tab →, a line end ↵.
  const pieces = row.spans
    .filter((span) => span.end > span.start)
    .map((span, spanIndex) => {
      const visible = escapeHtml(shown.slice(span.start, span.end)).replace(/ /g, '·').replace(/\t/g, '→').replace(/\n/g, '↵<br>');
      return `<span class="t${spanIndex % 2}" title="id ${span.id} · ${span.byteLength} bytes">${visible}</span>`;
    })
    .join('');
  return (
    `<tr><td><b>${escapeHtml(tokenizer.label)}</b>${tokenizer.estimate ? ' <span class="muted">(estimate)</span>' : ''}<br><code>${escapeHtml(tokenizer.id)}</code></td>` +
    `<td class="n">${count.toLocaleString('en-US')}</td><td class="n">${count > 0 ? (text.length / count).toFixed(2) : '—'}</td>` +
    `<td class="n">${formatUSD(cost.inputUSD)}</td><td class="tokens">${pieces}${text.length > shown.length ? ' <span class="muted">…</span>' : ''}</td></tr>`
  );
}

export function comparePageHtml({ text, what, entries, reference, nonce }: ComparePage): string {
  const cut = text.length > maxShownChars;
  return webviewDocument({
    csp: [`default-src 'none'`, `style-src 'nonce-${nonce}'`],
    title: 'Compare tokenizers',
    head: `<style nonce="${nonce}">\n${style}\n</style>`,
    body: `<h2>Compare tokenizers</h2>
<p>${escapeHtml(text.length.toLocaleString('en-US'))} characters of ${escapeHtml(what)}. Cost: sending it as input at ${escapeHtml(reference.label)}'s price (${reference.inputPerMTok} USD per million tokens, as of ${escapeHtml(reference.asOf)}), counted in each tokenizer.</p>
<table><thead><tr><th>Tokenizer</th><th>Tokens</th><th>Chars/token</th><th>Input cost</th><th>Tokens (hover for id)${cut ? `, first ${maxShownChars.toLocaleString('en-US')} characters` : ''}</th></tr></thead>
<tbody>${entries.map((entry) => entryRow(entry, text, reference)).join('\n')}</tbody></table>`,
  });
}
