/**
 * The Show Prompt Tokens page: the last prompt the model read, token by token, control tokens
 * highlighted and counted apart from the text. Static HTML in the one webview shell under a CSP
 * that allows no script; src/vscode/promptTokens/promptTokensPanel.ts shows it.
 */
import { escapeHtml, webviewDocument } from '../webview/html';
import { countPromptTokens, type LastPrompt } from './promptTokens';

export interface PromptTokensPage {
  readonly prompt: LastPrompt;
  readonly modelLabel: string;
  readonly nonce: string;
}

/** Tokens drawn one by one; past this the page says how many more there are (counts cover all). */
export const maxShownPieces = 20_000;

const kindSentences: Readonly<Record<LastPrompt['kind'], string>> = {
  chat: 'a chat turn or an explanation: the messages rendered with the model’s chat template, one sequence with control tokens between the turns',
  tokens: 'a completion: the prompt the completion pipeline built (the code before the cursor, and with a fill-in-the-middle model the code after it, between control tokens)',
  text: 'plain text to continue (Sample Side by Side)',
};

const style = `body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px 16px; }
.muted { color: var(--vscode-descriptionForeground); }
.tokens { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); line-height: 1.7; word-break: break-all; white-space: normal; }
.t0 { background: var(--vscode-tokenscope-tokenBackgroundEven); }
.t1 { background: var(--vscode-tokenscope-tokenBackgroundOdd); }
.special { background: color-mix(in srgb, var(--vscode-charts-purple) 35%, transparent); outline: 1px solid var(--vscode-charts-purple); border-radius: 3px; font-weight: bold; }
.ws { color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; margin: 6px 0 12px; }
td, th { padding: 2px 10px 2px 0; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }`;

/** A piece's text with whitespace made visible: a space is ·, a tab →, a line end ↵ (and a real line break). */
function visiblePiece(text: string): string {
  if (text === '') return '<span class="ws">∅</span>';
  return escapeHtml(text)
    .replace(/ /g, '<span class="ws">·</span>')
    .replace(/\t/g, '<span class="ws">→</span>')
    .replace(/\r?\n/g, '<span class="ws">↵</span><br>');
}

export function promptTokensPageHtml({ prompt, modelLabel, nonce }: PromptTokensPage): string {
  const counts = countPromptTokens(prompt.pieces);
  const shown = prompt.pieces.slice(0, maxShownPieces);
  let textIndex = 0;
  const pieces = shown
    .map((piece) => {
      if (piece.special) return `<span class="special" title="id ${piece.id} · control token">${escapeHtml(piece.text)}</span>`;
      return `<span class="t${textIndex++ % 2}" title="id ${piece.id}">${visiblePiece(piece.text)}</span>`;
    })
    .join('');
  const tally = counts.specialTally.map((entry) => `<tr><td><code>${escapeHtml(entry.text)}</code></td><td class="n">${entry.count.toLocaleString('en-US')}</td></tr>`).join('');
  const cut = prompt.truncatedTokens > 0 ? `<p>${prompt.truncatedTokens.toLocaleString('en-US')} tokens were cut from the start to fit the model’s context window; the model never saw them.</p>` : '';
  return webviewDocument({
    csp: [`default-src 'none'`, `style-src 'nonce-${nonce}'`],
    title: 'Prompt tokens',
    head: `<style nonce="${nonce}">\n${style}\n</style>`,
    body: `<h2>Prompt tokens</h2>
<p class="muted">What ${escapeHtml(modelLabel)} read last, at ${escapeHtml(new Date(prompt.at).toLocaleTimeString('en-GB'))}: ${escapeHtml(kindSentences[prompt.kind])}.</p>
<p id="counts"><b>${counts.total.toLocaleString('en-US')}</b> tokens: <b>${counts.special.toLocaleString('en-US')}</b> control tokens and <b>${counts.text.toLocaleString('en-US')}</b> of text.</p>
<p>The model does not see messages, roles or files: it sees one sequence of token ids. Control tokens (highlighted) are single tokens the template puts between turns or around the code; the text between them is cut into ordinary tokens (alternating shades; hover one for its id). A space is ·, a line end ↵, ∅ a token that holds only the first bytes of a character.</p>
${cut}${tally ? `<table><thead><tr><th>Control token</th><th>Count</th></tr></thead><tbody>${tally}</tbody></table>` : '<p class="muted">No control tokens: the model read only text.</p>'}
<div class="tokens">${pieces}${prompt.pieces.length > shown.length ? ` <span class="muted">… ${(prompt.pieces.length - shown.length).toLocaleString('en-US')} more tokens</span>` : ''}</div>`,
  });
}
