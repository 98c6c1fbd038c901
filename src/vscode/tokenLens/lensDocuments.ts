import * as vscode from 'vscode';
import type { CountsOf, CountTarget, ParamsOf, ResultOf, TokenizerSpec, TokenRun } from '../../core/tokenizerWorker/protocol';
import { readConfig } from '../config';
import type { LensTokenizers } from './lensTokenizers';

/**
 * The Token lens' documents, mirrored into the tokenizer worker: a document goes there whole the
 * first time a view asks about it, then edit by edit, and the worker keeps its tokens current in the
 * chosen tokenizer (re-tokenizing only the chunk an edit touches). Files over
 * `tokenscope.tokenLens.maxFileSizeKB` are mirrored for counting only, with no tokens kept. Every
 * question names the document version it is about; an answer for a version the editor has moved
 * past comes back as undefined (the view asks again after the edit).
 */
export class LensDocuments implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.TextDocument>();
  /** Fires when a document the lens knows was edited. */
  readonly onDidChange = this.changed.event;
  private readonly known = new Set<string>();

  constructor(private readonly tokenizers: LensTokenizers) {
    const worker = tokenizers.worker;
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => {
        const uri = event.document.uri.toString();
        if (!this.known.has(uri) || event.contentChanges.length === 0) return;
        worker.editDocument(
          uri,
          event.document.version,
          event.contentChanges.map((change) => ({ offset: change.rangeOffset, length: change.rangeLength, text: change.text })),
          textLength(event.document),
        );
        this.changed.fire(event.document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => {
        const uri = document.uri.toString();
        this.known.delete(uri);
        worker.closeDocument(uri);
      }),
      this.changed,
    );
  }

  /** Whether a document is small enough to keep its tokens (boundaries, free counts). */
  isTracked(document: vscode.TextDocument): boolean {
    return textLength(document) <= readConfig().tokenLens.maxFileSizeKB * 1024;
  }

  /** The tokens overlapping `range` in the chosen tokenizer; undefined for an untracked document or a stale version. */
  async tokens(document: vscode.TextDocument, range: { start: number; end: number }): Promise<TokenRun | undefined> {
    const chosen = this.tokenizers.spec(this.tokenizers.chosenId);
    if (!chosen || !this.isTracked(document)) return undefined;
    return this.ask(document, 'tokens', { uri: document.uri.toString(), version: document.version, tokenizer: chosen, range });
  }

  /** The hovered token (chosen tokenizer) and counts of `targets` in each of `countIn`, waiting up to `waitMs` for loads. */
  async hover(document: vscode.TextDocument, offset: number, countIn: readonly TokenizerSpec[], targets: readonly CountTarget[], waitMs: number): Promise<ResultOf<'hover'> | undefined> {
    const chosen = this.tokenizers.spec(this.tokenizers.chosenId);
    if (!chosen) return undefined;
    return this.ask(document, 'hover', { uri: document.uri.toString(), version: document.version, offset, tokenizer: chosen, countIn, targets, waitMs });
  }

  async counts(document: vscode.TextDocument, countIn: readonly TokenizerSpec[], targets: readonly CountTarget[], waitMs = 0): Promise<Readonly<Record<string, CountsOf>> | undefined> {
    return this.ask(document, 'count', { uri: document.uri.toString(), version: document.version, countIn, targets, waitMs });
  }

  private async ask<M extends 'tokens' | 'hover' | 'count'>(document: vscode.TextDocument, method: M, params: ParamsOf<M>): Promise<ResultOf<M> | undefined> {
    const uri = document.uri.toString();
    this.known.add(uri);
    const tracked = this.isTracked(document) ? this.tokenizers.spec(this.tokenizers.chosenId) : undefined;
    const version = document.version;
    try {
      return await this.tokenizers.worker.documentRequest({ uri, version, text: () => document.getText(), tokenizer: tracked }, method, params);
    } catch (error) {
      // Edited meanwhile: the edit's listeners ask again. Closed: nothing to show.
      if (document.version !== version || document.isClosed) return undefined;
      throw error;
    }
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The document's length in UTF-16 units, without copying its text. */
export function textLength(document: vscode.TextDocument): number {
  return document.offsetAt(document.lineAt(document.lineCount - 1).range.end);
}
