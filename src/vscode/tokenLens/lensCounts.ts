import type * as vscode from 'vscode';
import type { LensDocuments } from './lensDocuments';
import type { LensTokenizers } from './lensTokenizers';

/**
 * Token counts of whole documents and of text, in any tokenizer. The chosen tokenizer's count of a
 * tracked document comes from its DocumentTokens (kept current per edit, free); other tokenizers
 * count the text once per document version and remember it.
 */
export class LensCounts {
  private readonly fileCounts = new Map<string, { version: number; count: number }>();

  constructor(
    private readonly tokenizers: LensTokenizers,
    private readonly documents: LensDocuments,
  ) {}

  /** Tokens of the whole document, or undefined while that tokenizer is still loading. */
  file(document: vscode.TextDocument, tokenizerId: string): number | undefined {
    const tokenizer = this.tokenizers.peek(tokenizerId);
    if (!tokenizer) return undefined;
    if (tokenizerId === this.tokenizers.chosenId) {
      const tokens = this.documents.peek(document, tokenizer);
      if (tokens) return tokens.tokenCount;
    }
    const key = `${tokenizerId}\u0000${document.uri.toString()}`;
    const cached = this.fileCounts.get(key);
    if (cached && cached.version === document.version) return cached.count;
    const count = tokenizer.count(document.getText());
    this.fileCounts.set(key, { version: document.version, count });
    if (this.fileCounts.size > 200) this.fileCounts.delete(this.fileCounts.keys().next().value as string);
    return count;
  }

  /** Tokens of a piece of text (a line, a selection), or undefined while the tokenizer loads. */
  text(text: string, tokenizerId: string): number | undefined {
    return this.tokenizers.peek(tokenizerId)?.count(text);
  }

  forget(document: vscode.TextDocument): void {
    for (const key of [...this.fileCounts.keys()]) if (key.endsWith(`\u0000${document.uri.toString()}`)) this.fileCounts.delete(key);
  }
}
