import * as vscode from 'vscode';
import { BlockCountCache, blockCostLabel, countBlocks, type CountBlocks } from '../../core/cost/blockCosts';
import { detectBlocks, type Block, type LineSource, type SymbolData } from '../../core/cost/blocks';
import { tokenizerKey } from '../../core/tokenizerWorker/protocol';
import { readConfig } from '../config';
import type { LensDocuments } from '../tokenLens/lensDocuments';
import type { LensTokenizers } from '../tokenLens/lensTokenizers';
import { EditorDebounce } from '../editorDebounce';

/** Redraws wait this long after the last edit or scroll: a burst of keystrokes draws once. */
const REDRAW_DEBOUNCE_MS = 150;
/** Lines beyond the visible ones whose blocks are labelled too, so a small scroll shows them at once. */
const MARGIN_LINES = 20;

/** A TextDocument's lines, as the core's block detection reads them. */
export function documentLines(document: vscode.TextDocument): LineSource {
  return { lineCount: document.lineCount, lineText: (line) => document.lineAt(line).text, lineStart: (line) => document.offsetAt(new vscode.Position(line, 0)) };
}

/** The document's top-level symbols as plain data; an empty list where no provider answers. */
async function topLevelSymbols(uri: vscode.Uri): Promise<SymbolData[]> {
  let symbols: (vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined;
  try {
    symbols = await vscode.commands.executeCommand<(vscode.DocumentSymbol | vscode.SymbolInformation)[] | undefined>('vscode.executeDocumentSymbolProvider', uri);
  } catch {
    return [];
  }
  // DocumentSymbols are a tree (its roots are top level); SymbolInformation is flat (the core skips nested ones).
  return (symbols ?? []).map((symbol) => {
    const range = 'range' in symbol ? symbol.range : symbol.location.range;
    return { name: symbol.name, kind: vscode.SymbolKind[symbol.kind].toLowerCase(), startLine: range.start.line, endLine: range.end.line };
  });
}

/**
 * Cost estimates beside the code (`tokenscope.cost.showBlockCosts`): at the end of each top-level
 * block's first line, its token count in the chosen tokenizer and the input cost on the reference
 * model; and the same figure at the end of a held selection. Only the blocks touching the visible
 * lines are labelled; redraws are debounced and a redraw overtaken by an edit or scroll is dropped.
 * Counting happens in the tokenizer worker, and only for blocks whose text is not counted yet
 * (core/cost/blockCosts.ts): the extension host only finds the blocks and draws.
 */
export class BlockCostDecorations implements vscode.Disposable {
  private readonly blockType = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('tokenscope.blockCostForeground'), margin: '0 0 0 2em', fontStyle: 'italic' },
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
  });
  private readonly selectionType = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('tokenscope.blockCostForeground'), margin: '0 0 0 1em', fontStyle: 'italic' },
  });
  private readonly cache = new BlockCountCache();
  private readonly debounce = new EditorDebounce(REDRAW_DEBOUNCE_MS);
  private selectionTimer: NodeJS.Timeout | undefined;
  private readonly generations = new WeakMap<vscode.TextEditor, number>();
  private selectionGeneration = 0;
  /**
   * Symbols per document: the request for its current version (asked once per version, not per
   * scroll) and the latest answer with the line count it was given for.
   */
  private readonly symbols = new Map<string, { asked: { readonly version: number; readonly symbols: Promise<SymbolData[]> }; latest?: { readonly version: number; readonly lineCount: number; readonly symbols: SymbolData[] } }>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Extension-host milliseconds of the redraws after an edit since the last summary line (find blocks, take text, draw). */
  readonly recentRedrawMs: number[] = [];
  /** The slowest of them, by phase (find blocks, take their text, labels + setDecorations), for the summary line. */
  private slowest: { readonly total: number; readonly phases: string } | undefined;
  /** The document and version each editor last drew: a redraw of a newer version of the same document follows an edit. */
  private readonly drawn = new WeakMap<vscode.TextEditor, { readonly document: vscode.TextDocument; readonly version: number }>();

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeTextEditorVisibleRanges((event) => this.schedule(event.textEditor)),
      vscode.window.onDidChangeVisibleTextEditors(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length === 0) return;
        for (const editor of vscode.window.visibleTextEditors) if (editor.document === event.document) this.schedule(editor);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.symbols.delete(document.uri.toString())),
      vscode.window.onDidChangeTextEditorSelection((event) => this.scheduleSelection(event.textEditor)),
      tokenizers.onDidChange(() => this.refresh()),
    );
  }

  get enabled(): boolean {
    return readConfig().cost.showBlockCosts;
  }

  /** Settings or tokenizers changed: draw again everywhere, or clear. */
  refresh(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      if (!this.enabled) {
        editor.setDecorations(this.blockType, []);
        editor.setDecorations(this.selectionType, []);
      } else {
        this.schedule(editor);
      }
    }
    const active = vscode.window.activeTextEditor;
    if (active && this.enabled) this.scheduleSelection(active);
  }

  schedule(editor: vscode.TextEditor): void {
    if (!this.enabled) return;
    this.debounce.schedule(editor, () => void this.draw(editor).catch((error: unknown) => this.log.debug(`Cost decorations: ${error instanceof Error ? error.message : String(error)}`)));
  }

  /**
   * The document's symbols. A keystroke that adds or removes no line leaves every symbol on its
   * lines, so the last answer is used at once while the provider is asked again (a language server
   * may take longer than a keystroke); its answer redraws. With lines added or removed, the draw
   * waits for the new answer.
   */
  private async symbolsOf(document: vscode.TextDocument): Promise<SymbolData[]> {
    const key = document.uri.toString();
    let entry = this.symbols.get(key);
    if (entry?.latest?.version === document.version) return entry.latest.symbols;
    if (entry?.asked.version !== document.version) {
      const version = document.version;
      const lineCount = document.lineCount;
      const asked = topLevelSymbols(document.uri).then((symbols) => {
        const current = this.symbols.get(key);
        if (current && (current.latest === undefined || current.latest.version < version)) current.latest = { version, lineCount, symbols };
        return symbols;
      });
      entry = { asked: { version, symbols: asked }, latest: entry?.latest };
      this.symbols.set(key, entry);
      if (entry.latest && entry.latest.lineCount === lineCount) {
        void asked.then(() => {
          for (const editor of vscode.window.visibleTextEditors) if (editor.document === document && document.version === version) this.schedule(editor);
        });
        return entry.latest.symbols;
      }
    } else if (entry.latest && entry.latest.lineCount === document.lineCount) {
      return entry.latest.symbols;
    }
    return entry.asked.symbols;
  }

  /** Counts blocks of `document` in one tokenizer id through the worker; undefined answers mean stale. */
  private counter(document: vscode.TextDocument): CountBlocks {
    return async (id, blocks) => {
      const spec = this.tokenizers.spec(id);
      if (!spec) throw new Error(this.tokenizers.failure(id) ?? `unknown tokenizer ${id}`);
      const counts = await this.documents.counts(
        document,
        [spec],
        blocks.map((block) => ({ start: block.start, end: block.end })),
      );
      const entry = counts?.[tokenizerKey(spec)];
      // Loading: the tokenizer's load event redraws. Stale: the edit's event redraws.
      if (entry?.state !== 'ready') throw new Error(entry?.state === 'failed' ? entry.error : 'not ready');
      return entry.counts;
    };
  }

  private async draw(editor: vscode.TextEditor): Promise<void> {
    const document = editor.document;
    if (!this.enabled || document.isClosed) return;
    const generation = (this.generations.get(editor) ?? 0) + 1;
    this.generations.set(editor, generation);
    const version = document.version;
    const symbols = await this.symbolsOf(document);
    if (document.version !== version || this.generations.get(editor) !== generation) return;
    const started = performance.now();
    const lines = documentLines(document);
    const blocks: Block[] = [];
    const seen = new Set<number>();
    for (const visible of editor.visibleRanges) {
      for (const block of detectBlocks(lines, symbols, { firstLine: visible.start.line - MARGIN_LINES, lastLine: visible.end.line + MARGIN_LINES })) {
        if (seen.has(block.startLine)) continue;
        seen.add(block.startLine);
        blocks.push(block);
      }
    }
    const chosen = this.tokenizers.chosenId;
    const reference = this.tokenizers.referenceModel;
    const found = performance.now();
    const texts = new Map(blocks.map((block) => [block, document.getText(new vscode.Range(document.positionAt(block.start), document.positionAt(block.end)))]));
    const textOf = (block: Block) => texts.get(block) ?? '';
    // Host time: finding the blocks and taking their text, then (below) the labels and setDecorations.
    // Not the cache lookups inside countBlocks (one Map get per block) nor the worker's counting.
    let hostMs = performance.now() - started;
    const result = await countBlocks(blocks, textOf, [chosen, reference.tokenizer], this.cache, this.counter(document));
    if (document.version !== version || this.generations.get(editor) !== generation || !this.enabled) return;
    const drawStarted = performance.now();
    const now = new Date();
    const decorations = blocks.map((block, index): vscode.DecorationOptions => {
      const counts = result.counts[index];
      const label = blockCostLabel({ chosenCount: counts[chosen], chosenTokenizer: chosen, referenceCount: counts[reference.tokenizer], reference, what: block.name ? `${block.kind} ${block.name}` : 'This paragraph', now });
      const line = document.lineAt(block.startLine);
      return { range: new vscode.Range(line.range.end, line.range.end), hoverMessage: new vscode.MarkdownString(label.hover), renderOptions: { after: { contentText: label.text } } };
    });
    editor.setDecorations(this.blockType, decorations);
    const drawMs = performance.now() - drawStarted;
    const phases = `find ${(found - started).toFixed(1)} ms, text ${(hostMs - (found - started)).toFixed(1)} ms, draw ${drawMs.toFixed(1)} ms`;
    hostMs += drawMs;
    const previous = this.drawn.get(editor);
    this.drawn.set(editor, { document, version });
    this.log.debug(`Cost decorations: ${blocks.length} blocks (${result.counted} counted, the rest cached) in ${hostMs.toFixed(1)} ms of extension-host time`);
    // Only redraws after an edit are summed up (not a file's first draw, not scrolling): the goal is per keystroke.
    if (previous?.document !== document || previous.version >= version) return;
    this.recentRedrawMs.push(hostMs);
    if (!this.slowest || hostMs > this.slowest.total) this.slowest = { total: hostMs, phases };
    // Every 20 redraws after an edit, one line at info level: what the host spent, for the log and the e2e test.
    if (this.recentRedrawMs.length >= 20) {
      const sorted = this.recentRedrawMs.splice(0).sort((a, b) => a - b);
      const at = (share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))].toFixed(2);
      this.log.info(`Cost decorations: ${sorted.length} redraws after an edit (${document.lineCount} lines, ${blocks.length} blocks shown) took ${at(0.5)} ms median, ${at(0.9)} ms p90, ${sorted[sorted.length - 1].toFixed(2)} ms max of extension-host time (slowest: ${this.slowest?.phases ?? '?'})`);
      this.slowest = undefined;
    }
  }

  scheduleSelection(editor: vscode.TextEditor): void {
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    if (!this.enabled) return;
    if (editor.selection.isEmpty) {
      editor.setDecorations(this.selectionType, []);
      return;
    }
    this.selectionTimer = setTimeout(() => {
      this.selectionTimer = undefined;
      void this.drawSelection(editor).catch((error: unknown) => this.log.debug(`Cost decorations (selection): ${error instanceof Error ? error.message : String(error)}`));
    }, REDRAW_DEBOUNCE_MS);
  }

  /** The held selection's figure, at its end. */
  private async drawSelection(editor: vscode.TextEditor): Promise<void> {
    const generation = ++this.selectionGeneration;
    const selection = editor.selection;
    const document = editor.document;
    if (selection.isEmpty) return;
    const chosen = this.tokenizers.chosenId;
    const reference = this.tokenizers.referenceModel;
    const block: Block = { startLine: selection.start.line, endLine: selection.end.line, start: document.offsetAt(selection.start), end: document.offsetAt(selection.end), kind: 'selection' };
    // Not cached: a selection changes with every drag, and its text is counted once when it is held.
    const counter = this.counter(document);
    const counts: Record<string, number> = {};
    for (const id of new Set([chosen, reference.tokenizer])) counts[id] = (await counter(id, [block]))[0];
    if (generation !== this.selectionGeneration || !editor.selection.isEqual(selection) || !this.enabled) return;
    const label = blockCostLabel({ chosenCount: counts[chosen], chosenTokenizer: chosen, referenceCount: counts[reference.tokenizer], reference, what: 'The selection' });
    // A selection of whole lines ends at column 0 of the next line: its figure goes at the end of its last line.
    const end = selection.end.character === 0 && selection.end.line > selection.start.line ? document.lineAt(selection.end.line - 1).range.end : selection.end;
    editor.setDecorations(this.selectionType, [{ range: new vscode.Range(end, end), hoverMessage: new vscode.MarkdownString(label.hover), renderOptions: { after: { contentText: `◂ ${label.text}` } } }]);
  }

  dispose(): void {
    this.debounce.dispose();
    if (this.selectionTimer) clearTimeout(this.selectionTimer);
    for (const disposable of this.disposables) disposable.dispose();
    this.blockType.dispose();
    this.selectionType.dispose();
  }
}
