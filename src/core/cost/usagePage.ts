/**
 * The Usage & Cost page: today, the last 7 and the last 30 days side by side (requests, tokens read
 * and generated, what they would have cost on the reference model), the 30 days by feature and
 * backend and by priced model with each price's date (possibly stale ones marked), and a bar chart
 * of the daily cost on the reference model. Static HTML in the one webview shell under a CSP that
 * allows no script (the chart is SVG drawn with attributes, no inline styles). Pure.
 */
import { formatUSD } from '../pricing/cost';
import type { PricedModel } from '../pricing/prices';
import { CUSTOM_MODELS_SETTING, STALE_AFTER_DAYS } from '../pricing/staleness';
import { escapeHtml, webviewDocument } from '../webview/html';
import type { LedgerFile } from './usageFormat';
import { summarizeUsage, type UsageSummary } from './usageSummary';

export interface UsagePage {
  readonly ledger: LedgerFile['days'];
  readonly ledgerPath: string;
  readonly models: readonly PricedModel[];
  readonly reference: PricedModel;
  readonly now?: Date;
  readonly nonce: string;
}

const style = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1.2em 1.2em; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin-top: 1.6em; }
table { border-collapse: collapse; margin-top: 0.4em; }
th, td { padding: 0.2em 0.9em 0.2em 0; text-align: left; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: var(--vscode-descriptionForeground); font-size: 0.92em; max-width: 60em; }
.stale { color: var(--vscode-editorWarning-foreground); }
svg .bar { fill: var(--vscode-charts-blue, #3b82f6); }
svg .axis { stroke: var(--vscode-descriptionForeground); stroke-width: 1; }
svg text { fill: var(--vscode-descriptionForeground); font-size: 10px; }
`;

const count = (value: number) => value.toLocaleString('en-US');
const cell = (text: string, numeric = false) => `<td${numeric ? ' class="number"' : ''}>${escapeHtml(text)}</td>`;
const head = (titles: readonly string[], numericFrom: number) => `<tr>${titles.map((title, index) => `<th${index >= numericFrom ? ' class="number"' : ''}>${escapeHtml(title)}</th>`).join('')}</tr>`;

function referenceUSD(summary: UsageSummary, reference: PricedModel): number {
  return summary.byModel.find((row) => row.id === reference.id)?.usd ?? 0;
}

/** The 30 days' cost on the reference model, one bar per day (oldest left), with the day and cost in each bar's title. */
function barChart(summary: UsageSummary): string {
  const width = 600;
  const height = 120;
  const gap = 2;
  const values = summary.byDay.map((day) => day.referenceUSD ?? 0);
  const max = values.reduce((best, value) => Math.max(best, value), 0);
  const barWidth = (width - gap * values.length) / values.length;
  const bars = summary.byDay
    .map((day, index) => {
      const value = day.referenceUSD ?? 0;
      const barHeight = max > 0 ? Math.max(value > 0 ? 1 : 0, (value / max) * (height - 14)) : 0;
      const x = index * (barWidth + gap);
      return `<rect class="bar" x="${x.toFixed(1)}" y="${(height - 12 - barHeight).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" data-day="${day.day}"><title>${escapeHtml(`${day.day}: ${formatUSD(value)} · ${count(day.read)} read, ${count(day.generated)} generated, ${count(day.requests)} requests`)}</title></rect>`;
    })
    .join('');
  const first = summary.byDay[0]?.day ?? '';
  const last = summary.byDay[summary.byDay.length - 1]?.day ?? '';
  return `<svg class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Cost per day on the reference model, last ${summary.days} days">${bars}<line class="axis" x1="0" y1="${height - 12}" x2="${width}" y2="${height - 12}"/><text x="0" y="${height - 1}">${escapeHtml(first)}</text><text x="${width}" y="${height - 1}" text-anchor="end">${escapeHtml(last)}</text><text x="0" y="10">max ${escapeHtml(formatUSD(max))}/day</text></svg>`;
}

export function usagePageHtml(page: UsagePage): string {
  const { ledger, models, reference, now, nonce } = page;
  const periods = [
    { title: 'Today', summary: summarizeUsage(ledger, { days: 1, now, models, reference: reference.id }) },
    { title: 'Last 7 days', summary: summarizeUsage(ledger, { days: 7, now, models, reference: reference.id }) },
    { title: 'Last 30 days', summary: summarizeUsage(ledger, { days: 30, now, models, reference: reference.id }) },
  ];
  const month = periods[2].summary;
  const referenceStale = month.byModel.find((row) => row.id === reference.id)?.possiblyStale ?? false;
  const periodRows = [
    ['Requests', (s: UsageSummary) => count(s.totals.requests)],
    ['Tokens read', (s: UsageSummary) => count(s.totals.read)],
    ['Tokens generated', (s: UsageSummary) => count(s.totals.generated)],
    [`On ${reference.label}`, (s: UsageSummary) => formatUSD(referenceUSD(s, reference))],
  ] as const;
  const periodTable = `<table class="periods">${head(['', ...periods.map((period) => period.title)], 1)}${periodRows.map(([label, value]) => `<tr>${cell(label)}${periods.map((period) => cell(value(period.summary), true)).join('')}</tr>`).join('')}</table>`;
  const featureTable =
    month.byFeature.length === 0
      ? '<p class="note">Nothing recorded in the last 30 days.</p>'
      : `<table class="features">${head(['Feature', 'Backend', 'Requests', 'Read', 'Generated', `On ${reference.id}`], 2)}${month.byFeature
          .map((row) => {
            const usd = (row.read * reference.inputPerMTok + row.generated * reference.outputPerMTok) / 1_000_000;
            return `<tr>${cell(row.feature)}${cell(row.backend)}${cell(count(row.requests), true)}${cell(count(row.read), true)}${cell(count(row.generated), true)}${cell(formatUSD(usd), true)}</tr>`;
          })
          .join('')}</table>`;
  const modelRows = month.byModel
    .slice()
    .sort((a, b) => b.usd - a.usd)
    .map((row) => `<tr>${cell(row.label)}${cell(formatUSD(row.usd), true)}<td${row.possiblyStale ? ' class="stale"' : ''}>${escapeHtml(row.asOf)}${row.possiblyStale ? ' (possibly stale)' : ''}</td></tr>`)
    .join('');
  const body = `<h1>Usage &amp; Cost</h1>
<p class="note">What Tokenscope's completions, chat and explain read and generated on this machine, and what the same tokens would have cost on API models (read as input, generated as output; the counts are the serving model's tokens). Nothing leaves the machine. Ledger: <code>${escapeHtml(page.ledgerPath)}</code></p>
${periodTable}
<h2>Cost per day on ${escapeHtml(reference.label)}, last 30 days</h2>
${barChart(month)}
<h2>By feature, last 30 days</h2>
${featureTable}
<h2>By model, last 30 days</h2>
<table class="models">${head(['Model', 'Would have cost', 'Prices as of'], 1)}${modelRows}</table>
<p class="note${referenceStale ? ' stale' : ''}">Prices are the table's, each with its date; a price older than ${STALE_AFTER_DAYS} days is marked possibly stale: put current prices in <code>${CUSTOM_MODELS_SETTING}</code>.</p>`;
  return webviewDocument({ csp: [`default-src 'none'`, `style-src 'nonce-${nonce}'`], title: 'Usage &amp; Cost', head: `<style nonce="${nonce}">\n${style}\n</style>`, body });
}
