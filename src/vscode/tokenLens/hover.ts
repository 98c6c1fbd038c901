import * as vscode from 'vscode';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { longestBacktickRun } from '../../core/backticks';
import { estimateCost, formatUSD } from '../../core/pricing/cost';
import type { CountsOf, CountTarget, TokenizerSpec } from '../../core/tokenizerWorker/protocol';
import { tokenizerKey } from '../../core/tokenizerWorker/protocol';
import { readConfig } from '../config';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

/** A code span that survives backticks in the token. */
export function codeSpan(text: string): string {
  const longest = longestBacktickRun(text);
  const fence = '`'.repeat(longest + 1);
  return `${fence}${longest > 0 ? ' ' : ''}${text}${longest > 0 ? ' ' : ''}${fence}`;
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');
const number = (value: number | undefined): string => (value === undefined ? '…' : value.toLocaleString('en-US'));

/** How long a hover waits for tokenizers still loading before it answers with what it has. */
export const HOVER_WAIT_MS = 300;
/** Past this the hover answers without counts (the worker is busy, e.g. parsing a large tokenizer). */
const HOVER_DEADLINE_MS = 3000;

/**
 * The hover over any token: the token itself (visible whitespace, id, bytes), then the counts of
 * the line, the selection and the file in every tokenizer side by side, and the cost of the
 * selection (or file) as input and as output on every priced model, with each price's date. All of
 * it comes from the tokenizer worker in one round trip; the hover waits up to 300 ms for
 * tokenizers still loading, so the first one a user sees is complete.
 */
export class TokenHoverProvider implements vscode.HoverProvider {
  /** Measures the host's event loop from the first hover until the first complete one (logged once). */
  private firstHover: { readonly started: number; readonly delay: IntervalHistogram } | undefined;
  private firstCompleteLogged = false;
  /** The longest synchronous step of the hover's own work on the extension host until the first complete hover. */
  private longestHostStepMs = 0;

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async provideHover(document: vscode.TextDocument, position: vscode.Position, cancellation: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const entered = performance.now();
    if (!readConfig().tokenLens.hover) return undefined;
    if (!this.firstCompleteLogged && !this.firstHover) {
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      this.firstHover = { started: performance.now(), delay };
    }
    const chosenId = this.tokenizers.chosenId;
    const chosenProblem = this.tokenizers.failure(chosenId);
    if (chosenProblem) return new vscode.Hover(new vscode.MarkdownString(`**Tokenscope**: tokenizer \`${chosenId}\` is unavailable: ${chosenProblem}`));
    const ids = [chosenId, ...this.tokenizers.hoverIds().filter((id) => id !== chosenId)];
    const specs = new Map<string, TokenizerSpec>();
    for (const id of ids) {
      const spec = this.tokenizers.spec(id);
      if (spec) specs.set(id, spec);
    }
    const offset = document.offsetAt(position);
    const line = document.lineAt(position.line);
    const editor = vscode.window.activeTextEditor;
    const selection = editor && editor.document === document && !editor.selection.isEmpty ? editor.selection : undefined;
    const targets: CountTarget[] = [{ start: document.offsetAt(line.range.start), end: document.offsetAt(line.range.end) }, 'document'];
    if (selection) targets.push({ start: document.offsetAt(selection.start), end: document.offsetAt(selection.end) });
    const deadline = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), HOVER_DEADLINE_MS));
    let answer;
    let resumed: number;
    try {
      const asked = this.documents.hover(document, offset, [...specs.values()], targets, HOVER_WAIT_MS);
      this.noteHostWork(performance.now() - entered);
      answer = await Promise.race([asked, deadline]);
      resumed = performance.now();
    } catch (error) {
      return new vscode.Hover(new vscode.MarkdownString(`**Tokenscope**: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (cancellation.isCancellationRequested || answer === undefined) return undefined;
    if (answer === 'late') return new vscode.Hover(new vscode.MarkdownString('**Tokenscope**: the tokenizers are still loading; hover again in a moment.'));
    const token = answer.token;
    if (!token) return undefined;
    const countsOf = (id: string): CountsOf | undefined => {
      const spec = specs.get(id);
      return spec ? answer.counts[tokenizerKey(spec)] : undefined;
    };
    const countAt = (id: string, target: number): number | undefined => {
      const counts = countsOf(id);
      return counts?.state === 'ready' ? counts.counts[target] : undefined;
    };
    const lineIndex = 0;
    const fileIndex = 1;
    const selectionIndex = 2;

    const markdown = new vscode.MarkdownString(undefined, true);
    markdown.supportHtml = false;
    const chosenLabel = this.tokenizers.label(chosenId);
    markdown.appendMarkdown(
      `**Token** ${codeSpan(token.text)} · id **${token.id}** · ${token.byteLength} byte${token.byteLength === 1 ? '' : 's'}${token.partial ? ' (part of a character)' : ''} — ${escapeCell(chosenLabel)}${this.tokenizers.estimate(chosenId) ? ' (estimate)' : ''}\n\n`,
    );

    // Counts side by side: chosen tokenizer first.
    markdown.appendMarkdown(`| Tokenizer | Line | ${selection ? 'Selection | ' : ''}File |\n|---|---:|${selection ? '---:|' : ''}---:|\n`);
    let loading = 0;
    for (const entry of this.tokenizers.list()) {
      const id = entry.id;
      const label = `${id === chosenId ? '**' : ''}${escapeCell(entry.label)}${id === chosenId ? '**' : ''}`;
      const counts = countsOf(id);
      if (!counts || counts.state === 'failed') {
        markdown.appendMarkdown(`| ${label} | — | ${selection ? '— | ' : ''}— |\n`);
        continue;
      }
      if (counts.state === 'loading') loading++;
      markdown.appendMarkdown(`| ${label} | ${number(countAt(id, lineIndex))} | ${selection ? `${number(countAt(id, selectionIndex))} | ` : ''}${number(countAt(id, fileIndex))} |\n`);
    }

    // Cost of the selection (else the file) on every priced model, each counted in its own tokenizer.
    const what = selection ? 'selection' : 'file';
    const costTarget = selection ? selectionIndex : fileIndex;
    markdown.appendMarkdown(`\n**Cost of the ${what}** (USD; input = sending it, output = generating it; a local model: $0)\n\n| Model | Its tokens | Input | Output | Prices as of |\n|---|---:|---:|---:|---|\n`);
    const reference = this.tokenizers.referenceModel;
    for (const model of this.tokenizers.prices.models) {
      const count = countAt(model.tokenizer, costTarget);
      const name = `${model.id === reference.id ? '**' : ''}${escapeCell(model.label)}${model.id === reference.id ? '**' : ''}`;
      if (count === undefined) {
        if (countsOf(model.tokenizer)?.state === 'loading') loading++;
        markdown.appendMarkdown(`| ${name} | ${countsOf(model.tokenizer)?.state === 'loading' ? '…' : '—'} | … | … | ${model.asOf} |\n`);
        continue;
      }
      const cost = estimateCost(model, count);
      markdown.appendMarkdown(`| ${name} | ${model.tokenizerEstimate ? '~' : ''}${number(count)} | ${formatUSD(cost.inputUSD)} | ${formatUSD(cost.outputUSD)} | ${escapeCell(model.asOf)} |\n`);
    }
    markdown.appendMarkdown(`\nEach model's tokens are counted with its own tokenizer (the rows above). ~ a stand-in tokenizer (estimate).${loading > 0 ? ' … still loading: hover again in a moment.' : ''} `);
    markdown.appendMarkdown('[Choose tokenizer](command:tokenscope.chooseTokenizer) · [Reference model](command:tokenscope.chooseReferenceModel) · [Compare](command:tokenscope.compareTokenizers)');
    markdown.isTrusted = { enabledCommands: ['tokenscope.chooseTokenizer', 'tokenscope.chooseReferenceModel', 'tokenscope.compareTokenizers'] };
    this.noteHostWork(performance.now() - resumed);
    if (loading === 0) this.noteFirstComplete(ids.length);
    return new vscode.Hover(markdown, new vscode.Range(document.positionAt(token.start), document.positionAt(Math.max(token.end, token.start))));
  }

  private noteHostWork(ms: number): void {
    if (!this.firstCompleteLogged) this.longestHostStepMs = Math.max(this.longestHostStepMs, ms);
  }

  /**
   * Logs, once, how long the first complete hover took from the first hover, and the longest stall of
   * the extension host's event loop meanwhile (the tokenizers must never load on this thread).
   */
  private noteFirstComplete(tokenizerCount: number): void {
    const first = this.firstHover;
    if (this.firstCompleteLogged || !first) return;
    this.firstCompleteLogged = true;
    this.firstHover = undefined;
    first.delay.disable();
    // The histogram counts how late each 5 ms tick fired: its max is the longest stall, less the tick.
    const stallMs = Math.max(0, first.delay.max / 1e6 - 5);
    this.log.info(`Token lens: first complete hover (${tokenizerCount} tokenizers) ${Math.round(performance.now() - first.started)} ms after the first hover; longest extension-host stall meanwhile ${stallMs.toFixed(1)} ms (any cause); the hover's own longest synchronous step ${this.longestHostStepMs.toFixed(1)} ms.`);
  }
}
