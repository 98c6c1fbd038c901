/**
 * The Sample Side by Side page: one column per run of the same prompt, each headed by its
 * temperature, top-p and seed, with its token count and total log-probability, the likeliest run
 * marked, and every token tinted by how likely the model found it (hover: its probability and what
 * it would have picked instead). Static HTML in the one webview shell under a CSP that allows no
 * script; src/vscode/samples/register.ts re-renders it as tokens arrive.
 */
import { escapeHtml, webviewDocument } from '../webview/html';
import { formatPercent, probabilityBand, probabilityBandCss, probabilityBands, visibleTokenText } from '../webview/probabilityScale';
import { describeSampleSettings, formatSamplePlan } from './samplePlan';
import { compareSampleRuns, runText, totalLogprob, type SampleRun, type SampledToken } from './runSamples';

export interface SamplesPage {
  readonly modelLabel: string;
  /** The prompt as the user gave it (the selection or the typed text). */
  readonly promptText: string;
  /** How the prompt reached the model: as a chat message (chat template) or as text to continue. */
  readonly promptKind: 'chat' | 'continuation';
  readonly maxTokens: number;
  readonly runs: readonly SampleRun[];
  readonly nonce: string;
}

/** Characters of the prompt quoted at the top of the page. */
const shownPromptChars = 600;

const style = `body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 12px 16px; }
.prompt { font-family: var(--vscode-editor-font-family); white-space: pre-wrap; border-left: 3px solid var(--vscode-textBlockQuote-border); padding: 4px 8px; margin: 0 0 8px; max-height: 9em; overflow: auto; }
.muted { color: var(--vscode-descriptionForeground); }
.runs { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 10px; }
.run { border: 1px solid var(--vscode-panel-border); border-radius: 4px; padding: 6px 8px; min-width: 0; }
.run.likeliest { border-color: var(--vscode-focusBorder); }
.run h3 { font-size: 1em; margin: 0 0 2px; }
.stats { font-size: 0.9em; margin-bottom: 6px; }
.badge { display: inline-block; font-size: 0.85em; padding: 0 5px; border-radius: 8px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); margin-right: 4px; }
.text { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); white-space: pre-wrap; word-break: break-word; line-height: 1.5; }
${probabilityBandCss}
.legend span { padding: 0 6px; margin-right: 4px; white-space: nowrap; }
.error { color: var(--vscode-errorForeground); }`;

function tokenSpan(token: SampledToken): string {
  const probability = Math.exp(token.logprob);
  const alternatives = token.top
    .filter((alternative) => alternative.id !== token.id)
    .slice(0, 3)
    .map((alternative) => `"${visibleTokenText(alternative.text)}" ${formatPercent(Math.exp(alternative.logprob))}`);
  const title = `p ${formatPercent(probability)} · log p ${token.logprob.toFixed(2)}${alternatives.length > 0 ? ` · instead: ${alternatives.join(', ')}` : ''}`;
  return `<span class="p${probabilityBand(probability)}" title="${escapeHtml(title)}">${escapeHtml(token.text)}</span>`;
}

function statusLine(run: SampleRun): string {
  switch (run.status) {
    case 'waiting':
      return '<span class="muted">waiting…</span>';
    case 'running':
      return `<span class="muted">generating… ${run.tokens.length} tokens</span>`;
    case 'cancelled':
      return `<span class="muted">cancelled after ${run.tokens.length} tokens</span>`;
    case 'failed':
      return `<span class="error">failed: ${escapeHtml(run.error ?? 'unknown error')}</span>`;
    case 'done':
      return '';
  }
}

function runColumn(run: SampleRun, index: number, comparison: ReturnType<typeof compareSampleRuns>): string {
  const total = totalLogprob(run);
  const count = run.tokens.length;
  const badges = [
    ...(comparison.likeliest === index ? ['<span class="badge">likeliest</span>'] : []),
    ...(comparison.likeliestPerToken === index && comparison.likeliest !== index ? ['<span class="badge">likeliest per token</span>'] : []),
    ...(comparison.sameAs[index] !== undefined ? [`<span class="badge">same as run ${comparison.sameAs[index]! + 1}</span>`] : []),
  ];
  const stats =
    count > 0
      ? `${count} tokens · total log p ${total.toFixed(2)} · mean ${(total / count).toFixed(2)} (${formatPercent(Math.exp(total / count))} per token)${run.finishReason ? ` · ${escapeHtml(run.finishReason)}` : ''}`
      : run.status === 'done'
        ? `no tokens · ${escapeHtml(run.finishReason ?? '')}`
        : '';
  return `<div class="run${comparison.likeliest === index ? ' likeliest' : ''}" data-run="${index + 1}" data-status="${run.status}" data-tokens="${count}" data-total-logprob="${total.toFixed(6)}">
<h3>Run ${index + 1} · ${escapeHtml(describeSampleSettings(run.settings))}</h3>
<div class="stats">${badges.join('')}${stats} ${statusLine(run)}</div>
<div class="text">${run.tokens.map(tokenSpan).join('')}</div>
</div>`;
}

/**
 * The part of the page that changes while the runs stream: the summary line and the columns. The
 * panel's script (media/samples/main.ts) swaps it in place, so the page loads once.
 */
export function samplesLiveHtml(runs: readonly SampleRun[]): string {
  const comparison = compareSampleRuns(runs);
  const finished = runs.filter((run) => run.status === 'done');
  const distinct = new Set(finished.map(runText)).size;
  const summary =
    finished.length === runs.length && finished.length > 1
      ? `<p>${distinct === 1 ? 'Every run gave the same answer: the model was sure enough at each step that sampling never changed the pick.' : `${distinct} different answers from ${finished.length} runs of the same prompt.`}</p>`
      : '';
  return `${summary}
<div class="runs">
${runs.map((run, index) => runColumn(run, index, comparison)).join('\n')}
</div>`;
}

/** Where the page's script comes from (the panel's asWebviewUri of dist/media/samples.js); none: a static page. */
export interface SamplesPageScript {
  readonly src: string;
  /** The webview's own source for the CSP (`webview.cspSource`). */
  readonly cspSource: string;
}

export function samplesPageHtml(page: SamplesPage, script?: SamplesPageScript): string {
  const prompt = page.promptText.length > shownPromptChars ? `${page.promptText.slice(0, shownPromptChars)}…` : page.promptText;
  const how = page.promptKind === 'chat' ? 'sent as a chat message (the chat template applied)' : 'continued as text (a completion model: it carries on from the prompt)';
  return webviewDocument({
    csp: [`default-src 'none'`, `style-src 'nonce-${page.nonce}'`, ...(script ? [`script-src 'nonce-${page.nonce}' ${script.cspSource}`] : [])],
    title: 'Sample side by side',
    head: `<style nonce="${page.nonce}">\n${style}\n</style>`,
    body: `<h2>Sample side by side</h2>
<p class="muted">${escapeHtml(page.modelLabel)} · the same prompt ${how} · up to ${page.maxTokens} tokens · runs ${escapeHtml(formatSamplePlan(page.runs.map((run) => run.settings)))}</p>
<pre class="prompt">${escapeHtml(prompt)}</pre>
<p>The model gives a probability to every possible next token; <b>temperature</b> flattens (above 1) or sharpens (below 1) that distribution before a token is drawn, <b>top-p</b> keeps only the likeliest tokens that together reach p, and the <b>seed</b> fixes the draw. Greedy always takes the most likely token. The total log-probability says how likely the model itself found each whole answer (closer to 0 is likelier; longer answers have lower totals, so the mean per token is shown too).</p>
<p class="legend muted">Token tint, by the model's probability: ${probabilityBands.map((band, index) => `<span class="p${index}">${escapeHtml(band.label)}</span>`).join('')} (hover a token for its probability and the alternatives)</p>
<div id="live">${samplesLiveHtml(page.runs)}</div>${script ? `\n<script nonce="${page.nonce}" src="${escapeHtml(script.src)}"></script>` : ''}`,
  });
}
