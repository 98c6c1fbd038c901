import * as vscode from 'vscode';
import { DocumentTokens } from '../../core/tokenizers/documentTokens';
import type { Tokenizer } from '../../core/tokenizers/types';
import { readConfig } from '../config';

/** Characters tokenized per slice while building a document's tokens (~a few ms each). */
const BUILD_SLICE_CHARS = 32_768;

interface Entry {
  readonly tokenizer: Tokenizer;
  readonly tokens: DocumentTokens;
  /** Document version the tokens describe (undefined while building). */
  version: number | undefined;
  /** Resolves when the first build finished (or was abandoned). */
  readonly ready: Promise<void>;
  cancelled: boolean;
}

/**
 * The tokens of open documents in the chosen tokenizer, built in time slices (a big file never
 * freezes the editor) and kept current edit by edit (DocumentTokens re-tokenizes only the chunk an
 * edit touches). Files over `tokenscope.tokenLens.maxFileSizeKB` are not tracked: callers count
 * them on demand instead.
 */
export class LensDocuments implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a document's tokens are (re)built or updated by an edit. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => this.onEdit(event)),
      vscode.workspace.onDidCloseTextDocument((document) => this.drop(document)),
      this.changed,
    );
  }

  /** Whether a document is small enough to track (boundaries, incremental counts). */
  isTracked(document: vscode.TextDocument): boolean {
    return textLength(document) <= readConfig().tokenLens.maxFileSizeKB * 1024;
  }

  /**
   * The document's tokens for `tokenizer` if they are built and current; otherwise starts (or keeps)
   * building them and returns undefined. Listen to {@link onDidChange} for when they are ready.
   */
  peek(document: vscode.TextDocument, tokenizer: Tokenizer): DocumentTokens | undefined {
    const entry = this.entryFor(document, tokenizer);
    return entry && entry.version === document.version ? entry.tokens : undefined;
  }

  /** The document's tokens, waiting for the build; undefined for untracked (too large) documents. */
  async get(document: vscode.TextDocument, tokenizer: Tokenizer): Promise<DocumentTokens | undefined> {
    const entry = this.entryFor(document, tokenizer);
    if (!entry) return undefined;
    await entry.ready;
    return entry.version === document.version ? entry.tokens : undefined;
  }

  /** Forgets every document (the chosen tokenizer changed). */
  clear(): void {
    for (const entry of this.entries.values()) entry.cancelled = true;
    this.entries.clear();
  }

  private entryFor(document: vscode.TextDocument, tokenizer: Tokenizer): Entry | undefined {
    const key = document.uri.toString();
    const existing = this.entries.get(key);
    if (existing && existing.tokenizer === tokenizer) return existing;
    if (existing) existing.cancelled = true;
    if (!this.isTracked(document)) {
      this.entries.delete(key);
      return undefined;
    }
    const tokens = new DocumentTokens(tokenizer, document.getText(), { deferBuild: true });
    let markReady!: () => void;
    const entry: Entry = { tokenizer, tokens, version: undefined, ready: new Promise<void>((resolve) => (markReady = resolve)), cancelled: false };
    this.entries.set(key, entry);
    void this.build(document, entry).finally(markReady);
    return entry;
  }

  /** Builds in slices, yielding to the event loop; restarts if the document changes meanwhile. */
  private async build(document: vscode.TextDocument, entry: Entry): Promise<void> {
    const started = performance.now();
    const version = document.version;
    const tokens = entry.tokens;
    // Start on the next tick: the caller is in the middle of a redraw or hover.
    await new Promise((resolve) => setImmediate(resolve));
    for (const _ of tokens.buildSteps(BUILD_SLICE_CHARS)) {
      await new Promise((resolve) => setImmediate(resolve));
      if (entry.cancelled) return;
      if (document.version !== version) break;
    }
    if (entry.cancelled) return;
    if (document.version !== version) {
      // Edited while building: start over on the new text (listeners peek again and rebuild).
      this.entries.delete(document.uri.toString());
      this.changed.fire(document);
      return;
    }
    entry.version = version;
    this.log.debug(`Token lens: ${tokens.tokenCount} ${tokens.tokenizer.id} tokens in ${document.uri.fsPath || document.uri.toString()} (${Math.round(performance.now() - started)} ms, cut rule ${tokens.rule})`);
    this.changed.fire(document);
  }

  private onEdit(event: vscode.TextDocumentChangeEvent): void {
    if (event.contentChanges.length === 0) return;
    const key = event.document.uri.toString();
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.version === undefined) {
      // Still building the previous text: the build notices the new version and gives up.
      return;
    }
    if (entry.version !== event.document.version - 1) {
      // An event we did not see (should not happen): rebuild rather than apply an edit to the wrong text.
      this.drop(event.document);
      return;
    }
    if (!this.isTracked(event.document)) {
      this.drop(event.document);
      return;
    }
    // All changes of one event are relative to the text before it: their hull is what changed.
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    for (const change of event.contentChanges) {
      start = Math.min(start, change.rangeOffset);
      end = Math.max(end, change.rangeOffset + change.rangeLength);
    }
    entry.tokens.update(event.document.getText(), start, end);
    entry.version = event.document.version;
    this.changed.fire(event.document);
  }

  private drop(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    const entry = this.entries.get(key);
    if (entry) entry.cancelled = true;
    this.entries.delete(key);
  }

  dispose(): void {
    this.clear();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The document's length in UTF-16 units, without copying its text. */
export function textLength(document: vscode.TextDocument): number {
  return document.offsetAt(document.lineAt(document.lineCount - 1).range.end);
}
