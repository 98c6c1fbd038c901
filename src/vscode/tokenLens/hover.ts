import * as vscode from 'vscode';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { hoverCommands, tokenHoverMarkdown } from '../../core/tokenLens/hoverMarkdown';
import type { CountsOf, CountTarget, TokenizerSpec } from '../../core/tokenizerWorker/protocol';
import { tokenizerKey } from '../../core/tokenizerWorker/protocol';
import { readConfig } from '../config';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

/** How long a hover waits for tokenizers still loading before it answers with what it has. */
export const HOVER_WAIT_MS = 300;
/** Past this the hover answers without counts (the worker is busy, e.g. parsing a large tokenizer). */
const HOVER_DEADLINE_MS = 3000;

/**
 * The hover over any token: the token itself, the counts of the line, the selection and the file in
 * every tokenizer, and the cost on every priced model (the Markdown is built in core:
 * src/core/tokenLens/hoverMarkdown.ts). All of it comes from the tokenizer worker in one round
 * trip; the hover waits up to 300 ms for tokenizers still loading, so the first one a user sees is
 * complete.
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
    const { markdown: text, loading } = tokenHoverMarkdown({
      token,
      chosen: { id: chosenId, label: this.tokenizers.label(chosenId), estimate: this.tokenizers.estimate(chosenId) },
      tokenizers: this.tokenizers.list(),
      countsOf,
      hasSelection: selection !== undefined,
      prices: this.tokenizers.prices.models,
      referenceId: this.tokenizers.referenceModel.id,
    });
    const markdown = new vscode.MarkdownString(text, true);
    markdown.supportHtml = false;
    markdown.isTrusted = { enabledCommands: [...hoverCommands] };
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
