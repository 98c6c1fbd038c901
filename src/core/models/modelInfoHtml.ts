/**
 * The Show Model Architecture page: a static HTML table (no script at all) of the comparison the
 * core computes, styled with the editor theme's colours. Built in core, so it is unit-tested as
 * plain text; src/vscode/modelInfo/modelInfoView.ts shows it.
 */
import { formatBytes, formatCount, type ComparedModel, type ModelComparison } from './comparison';
import { escapeHtml, webviewDocument } from '../webview/html';

export interface ModelInfoPage {
  readonly comparison: ModelComparison;
  /** Why the configured model could not be shown (e.g. its config.json is broken), if so. */
  readonly problem?: string;
  /** Content-Security-Policy parts the host supplies. */
  readonly cspSource: string;
  readonly nonce: string;
}

const PARTS = [
  { key: 'embedding', label: 'embedding table' },
  { key: 'attention', label: 'attention' },
  { key: 'mlp', label: 'MLP (feed-forward)' },
  { key: 'lmHead', label: 'output head (untied)' },
] as const;

/**
 * A stacked bar of where the parameters are. The CSP allows no inline style attributes, so each
 * segment's width is a rule of the page's nonce'd stylesheet, collected in `widths`.
 */
function parameterBar(model: ComparedModel, index: number, widths: string[]): string {
  const p = model.anatomy.parameters;
  if (!p) return '<span class="muted">layout unknown</span>';
  const segments = PARTS.filter((part) => p[part.key] > 0)
    .map((part) => {
      const share = (100 * p[part.key]) / p.total;
      const name = `w${index}-${part.key}`;
      widths.push(`.${name} { width: ${share.toFixed(2)}%; }`);
      return `<span class="seg seg-${part.key} ${name}" title="${part.label}: ${formatCount(p[part.key])} (${share.toFixed(1)}%)"></span>`;
    })
    .join('');
  const embedShare = Math.round((100 * p.embedding) / p.total);
  return `<div class="bar" role="img" aria-label="${embedShare}% embedding table">${segments}</div><span class="bar-note">${embedShare}% embed.</span>`;
}

function row(model: ComparedModel, index: number, baseline: number | null, widths: string[]): string {
  const a = model.anatomy;
  const badges = [model.builtin ? '<span class="badge">built-in</span>' : '', model.active ? '<span class="badge active">running</span>' : ''].join('');
  const size = model.parameters === null ? '?' : formatCount(model.parameters);
  const ratio = model.parameters !== null && baseline && !model.builtin ? `<div class="muted small">${Math.round(model.parameters / baseline).toLocaleString('en-US')}×</div>` : '';
  const trained = model.trainingTokens ? formatCount(model.trainingTokens) : '—';
  const origin = `<div class="muted small">${[a.modelType, model.role, model.licence].filter(Boolean).map((part) => escapeHtml(part as string)).join(' · ')}</div>`;
  const title = model.repo ? ` title="huggingface.co/${escapeHtml(model.repo)}"` : '';
  return `<tr class="${model.active ? 'active-row' : ''}">
  <th scope="row"${title}><div>${escapeHtml(model.label)} ${badges}</div>${origin}</th>
  <td class="num">${a.numLayers}</td>
  <td class="num">${a.hiddenSize.toLocaleString('en-US')}</td>
  <td class="num">${a.numHeads} / ${a.numKvHeads}</td>
  <td class="num">${a.vocabSize.toLocaleString('en-US')}</td>
  <td class="num">${a.contextLength.toLocaleString('en-US')}</td>
  <td class="num"><strong>${size}</strong>${ratio}</td>
  <td class="parts">${parameterBar(model, index, widths)}</td>
  <td class="num">${formatBytes(a.kvCacheBytesPerToken)}</td>
  <td class="num">${trained}</td>
</tr>`;
}

export function modelInfoHtml(page: ModelInfoPage): string {
  const { comparison } = page;
  const builtin = comparison.models.find((model) => model.builtin);
  const baseline = builtin?.parameters ?? null;
  const legend = PARTS.map((part) => `<span class="legend-item"><span class="swatch seg-${part.key}"></span>${part.label}</span>`).join('');
  const widths: string[] = [];
  const rows = comparison.models.map((model, index) => row(model, index, baseline, widths)).join('\n');
  const problem = page.problem ? `<p class="problem" role="alert">${escapeHtml(page.problem)}</p>` : '';
  const quality = builtin?.heldoutBitsPerByte
    ? ` On held-out code, tokenscope-mini needs ${builtin.heldoutBitsPerByte.toFixed(2)} bits per byte${builtin.unigramBitsPerByte ? ` (guessing from token frequencies alone needs ${builtin.unigramBitsPerByte.toFixed(2)})` : ''}: it has learned the shape of code more than what code means.`
    : '';
  return webviewDocument({
    csp: [`default-src 'none'`, `style-src ${page.cspSource} 'nonce-${page.nonce}'`, `img-src ${page.cspSource}`],
    title: 'Model Architecture',
    head: `<style nonce="${page.nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 12px 16px; line-height: 1.45; max-width: 1200px; }
  h1 { font-size: 1.4em; font-weight: 600; margin: 0 0 4px; }
  h2 { font-size: 1.1em; font-weight: 600; margin: 20px 0 6px; }
  .lead, .muted { color: var(--vscode-descriptionForeground); }
  .small { font-size: 0.85em; }
  table { border-collapse: collapse; width: 100%; margin-top: 12px; }
  th, td { text-align: left; padding: 5px 6px; border-bottom: 1px solid var(--vscode-widget-border, var(--vscode-panel-border, rgba(128,128,128,0.35))); vertical-align: middle; }
  /* Fits an editor beside the side bar (about 900 px): headers and model names wrap, numbers never do. */
  thead th { font-weight: 600; color: var(--vscode-descriptionForeground); font-size: 0.9em; vertical-align: bottom; }
  thead th.num { text-align: right; }
  tbody th { font-weight: 500; min-width: 10em; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.active-row { background: var(--vscode-list-inactiveSelectionBackground, rgba(128,128,128,0.15)); }
  .badge { display: inline-block; font-size: 0.75em; padding: 0 6px; border-radius: 8px; margin-left: 4px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
  .badge.active { background: var(--vscode-statusBarItem-prominentBackground, var(--vscode-button-background)); color: var(--vscode-button-foreground); }
  .scroll { overflow-x: auto; }
  td.parts { white-space: nowrap; }
  .bar { display: flex; height: 10px; width: 72px; border-radius: 3px; overflow: hidden; background: var(--vscode-input-background); }
  .seg { display: block; height: 100%; }
  .bar-note { display: block; margin-top: 2px; font-size: 0.85em; color: var(--vscode-descriptionForeground); }
  .seg-embedding { background: var(--vscode-charts-orange, #d18616); }
  .seg-attention { background: var(--vscode-charts-blue, #3794ff); }
  .seg-mlp { background: var(--vscode-charts-green, #89d185); }
  .seg-lmHead { background: var(--vscode-charts-purple, #b180d7); }
  .legend { margin-top: 8px; font-size: 0.85em; color: var(--vscode-descriptionForeground); }
  .legend-item { margin-right: 14px; white-space: nowrap; }
  .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  ul.insights li { margin: 4px 0; }
  ${widths.join('\n  ')}
  .problem { border-left: 3px solid var(--vscode-editorWarning-foreground, #cca700); padding: 4px 10px; background: var(--vscode-inputValidation-warningBackground, transparent); }
</style>`,
    body: `<h1>Model architecture</h1>
<p class="lead">The model Tokenscope runs, next to real open models it can also run. Every number comes from each model's <code>config.json</code>; parameter counts are computed from it (and equal the published ones).</p>
${problem}
<div class="scroll"><table>
<thead><tr><th>Model</th><th class="num" title="Transformer blocks, run one after another">Layers</th><th class="num" title="Numbers per token inside the model">Hidden</th><th class="num" title="Query heads / key-value heads">Heads q / kv</th><th class="num" title="Distinct tokens">Vocabulary</th><th class="num" title="Most tokens it can attend to">Context</th><th class="num">Parameters</th><th title="Share of the parameters in the embedding table, attention, MLP and output head">Parameter split</th><th class="num" title="16-bit keys and values kept per token of context">KV cache / token</th><th class="num" title="Tokens seen in training">Trained on</th></tr></thead>
<tbody>
${rows}
</tbody>
</table></div>
<div class="legend">${legend}<span class="legend-item">× = times the built-in model's size</span></div>
<h2>What the numbers mean</h2>
<ul class="insights">
${comparison.insights.map((line) => `<li>${escapeHtml(line)}</li>`).join('\n')}
</ul>
<p class="muted small">Built-in model: models/tokenscope-mini (its model card has the training data, command and evaluation).${quality} Reference figures: each repository's config.json and model page on Hugging Face. The same table in a terminal: <code>tokenscope model-info</code>.</p>
`,
  });
}
