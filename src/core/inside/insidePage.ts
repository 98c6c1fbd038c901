/**
 * The "Inside the Model" page: for the cursor position, the logit lens (what each layer would
 * predict if it were the last, layer 1 to the output) and the heads-by-layers grid of where the
 * cursor token's attention goes. Static HTML, no script (strict CSP); the editor re-renders it as
 * the cursor moves. Built in core, so it is tested as text.
 */
import type { LensResult } from '../runtime/inspectTypes';
import { escapeHtml, webviewDocument } from '../webview/html';
import { selectionLabel, type AttentionSelection, type HeadSummary } from './attentionView';

export interface InsidePage {
  readonly cspSource: string;
  readonly nonce: string;
  readonly modelLabel: string;
  /** The text before the cursor's last characters, for the heading. */
  readonly context: string;
  readonly lens?: LensResult;
  readonly grid?: readonly (readonly HeadSummary[])[];
  /** The text of each grid target token (index → text). */
  readonly tokenText?: (index: number) => string;
  readonly cursorToken?: string;
  readonly selection?: AttentionSelection;
  /** Why the attention grid is missing (fused attention export). */
  readonly attentionUnavailable?: string;
  readonly problem?: string;
}

const visible = (text: string) => JSON.stringify(text).slice(1, -1);

/** One sentence on what to notice in the lens, from the numbers. */
export function lensLesson(lens: LensResult): string {
  const output = lens.layers.at(-1)?.tokens[0];
  if (!output) return '';
  const settled = lens.layers.findIndex((layer) => layer.tokens[0]?.id === output.id);
  const layerCount = lens.layers.length;
  if (settled === layerCount - 1) return `Notice: only the last layer (${layerCount}) picks “${visible(output.text)}”; every earlier layer would have said something else, so the answer is decided at the very end.`;
  return `Notice: from layer ${settled + 1} of ${layerCount} on, the top guess is already the output's “${visible(output.text)}” (${Math.round(100 * lens.layers[settled].tokens[0].probability)}% there, ${Math.round(100 * output.probability)}% at the output): the later layers mostly grow its confidence.`;
}

function lensTable(lens: LensResult, widths: string[]): string {
  const outputId = lens.layers.at(-1)?.tokens[0]?.id;
  const rows = lens.layers.map((layer) => {
    const cells = layer.tokens
      .map((token, rank) => {
        const name = `p${layer.layer}-${rank}`;
        widths.push(`.${name} { width: ${(100 * token.probability).toFixed(1)}%; }`);
        return `<td class="${token.id === outputId ? 'hit' : ''}"><code>${escapeHtml(visible(token.text))}</code> <span class="muted">${(100 * token.probability).toFixed(1)}%</span><div class="bar"><span class="fill ${name}"></span></div></td>`;
      })
      .join('');
    return `<tr><th>${layer.layer === lens.layers.length ? `${layer.layer} (output)` : layer.layer}</th>${cells}</tr>`;
  });
  return `<table class="lens"><thead><tr><th>layer</th><th colspan="${lens.layers[0]?.tokens.length ?? 1}">top predictions, as if this layer were the last</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function gridTable(grid: readonly (readonly HeadSummary[])[], tokenText: (index: number) => string, selection: AttentionSelection | undefined): string {
  const heads = grid[0]?.length ?? 0;
  const header = `<tr><th>layer \\ head</th>${Array.from({ length: heads }, (_, i) => `<th>${i + 1}</th>`).join('')}</tr>`;
  const rows = grid.map(
    (layer) =>
      `<tr><th>${layer[0]?.layer ?? ''}</th>${layer
        .map((head) => {
          const chosen = selection?.layer === head.layer && (selection.head === undefined || selection.head === head.head);
          return `<td class="role ${head.role.replace(/ /g, '-')}${chosen ? ' chosen' : ''}" title="${escapeHtml(`layer ${head.layer}, head ${head.head}: ${(100 * head.weight).toFixed(0)}% on “${visible(tokenText(head.target))}”`)}">${escapeHtml(head.role)}<br><code>${escapeHtml(visible(tokenText(head.target)))}</code> ${(100 * head.weight).toFixed(0)}%</td>`;
        })
        .join('')}</tr>`,
  );
  return `<table class="grid">${header}${rows.join('')}</table>`;
}

export function insidePageHtml(page: InsidePage): string {
  const widths: string[] = [];
  const sections: string[] = [`<h1>Inside ${escapeHtml(page.modelLabel)}</h1>`, `<p class="muted">At the cursor, after <code>${escapeHtml(visible(page.context))}</code></p>`];
  if (page.problem) sections.push(`<p class="problem">${escapeHtml(page.problem)}</p>`);
  if (page.lens) {
    sections.push('<h2>What each layer would predict next (logit lens)</h2>');
    if (page.lens.unavailable) sections.push(`<p class="problem">${escapeHtml(page.lens.unavailable)}</p>`);
    else sections.push(`<p class="lesson">${escapeHtml(lensLesson(page.lens))}</p>`, lensTable(page.lens, widths));
  }
  sections.push(`<h2>Where each head looks from ${page.cursorToken === undefined ? 'the cursor token' : `<code>${escapeHtml(visible(page.cursorToken))}</code>`}</h2>`);
  if (page.attentionUnavailable) sections.push(`<p class="problem">${escapeHtml(page.attentionUnavailable)}</p>`);
  else if (page.grid && page.tokenText) {
    sections.push(`<p class="muted">Shown in the editor: ${escapeHtml(selectionLabel(page.selection ?? {}))}. Each cell: where that head puts most of its weight. Heads specialise: some always look at the previous token, some at the start of the line or the bracket being closed.</p>`, gridTable(page.grid, page.tokenText, page.selection));
  }
  return webviewDocument({
    csp: [`default-src 'none'`, `style-src ${page.cspSource} 'nonce-${page.nonce}'`],
    title: 'Inside the Model',
    head: `<style nonce="${page.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin-top: 1.6em; }
table { border-collapse: collapse; } th, td { padding: 4px 8px; border-bottom: 1px solid var(--vscode-panel-border, #8884); text-align: left; vertical-align: top; }
.muted { opacity: 0.75; } .problem { color: var(--vscode-errorForeground); } .lesson { font-weight: 600; }
.bar { height: 4px; background: var(--vscode-editorWidget-border, #8883); margin-top: 2px; } .fill { display: block; height: 4px; background: var(--vscode-charts-blue, #3b82f6); }
td.hit code { color: var(--vscode-charts-green, #16a34a); font-weight: 700; }
.grid td { font-size: 0.9em; min-width: 6em; } .grid td.chosen { outline: 2px solid var(--vscode-focusBorder); }
.role.previous-token { background: #3b82f622; } .role.matching-bracket { background: #f59e0b33; } .role.start-of-line { background: #10b98122; } .role.first-token { background: #a855f722; } .role.itself { background: #64748b22; }
${widths.join('\n')}
</style>`,
    body: sections.join('\n'),
  });
}
