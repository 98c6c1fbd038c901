import type { RepoFile } from './fimTemplates';

export interface ContextChunk extends RepoFile {
  /** Trimmed, non-empty lines, for near-duplicate detection. */
  readonly lineSet: ReadonlySet<string>;
}

export interface ExtraContextOptions {
  /** Chunks kept at most (llama.vscode: 16). */
  readonly maxChunks: number;
  /** Lines per chunk (llama.vscode: 64). */
  readonly chunkLines: number;
  /** Jaccard similarity of line sets above which an older chunk counts as a duplicate and is evicted. */
  readonly duplicateSimilarity: number;
}

export const defaultExtraContextOptions: ExtraContextOptions = { maxChunks: 16, chunkLines: 64, duplicateSimilarity: 0.9 };

/** Jaccard similarity |A∩B| / |A∪B| of two line sets. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const line of small) if (large.has(line)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * A bounded ring buffer of chunks from other open and recently edited files, given to models that
 * support repository context. Newest last; adding a chunk evicts near-duplicates (the same region
 * seen again after a few edits) so the buffer holds distinct code. The buffer changes only when the
 * editor reports an event, never per keystroke in the current file, so the prompt's start (and the
 * model's KV cache of it) stays stable while the user types.
 */
export class ExtraContextBuffer {
  private chunks: ContextChunk[] = [];

  constructor(readonly options: ExtraContextOptions = defaultExtraContextOptions) {}

  /**
   * Adds the chunk of `lines` around `aroundLine` (or the file's start) of a file. Returns false when
   * the chunk held no code.
   */
  addFromLines(path: string, lines: readonly string[], aroundLine = 0): boolean {
    const half = Math.floor(this.options.chunkLines / 2);
    const start = Math.max(0, Math.min(aroundLine - half, lines.length - this.options.chunkLines));
    const slice = lines.slice(start, start + this.options.chunkLines);
    return this.add(path, slice.join('\n'));
  }

  add(path: string, content: string): boolean {
    const lineSet = new Set(content.split('\n').map((line) => line.trim()).filter((line) => line.length > 0));
    if (lineSet.size === 0) return false;
    this.chunks = this.chunks.filter((chunk) => jaccard(chunk.lineSet, lineSet) < this.options.duplicateSimilarity);
    this.chunks.push({ path, content, lineSet });
    if (this.chunks.length > this.options.maxChunks) this.chunks.splice(0, this.chunks.length - this.options.maxChunks);
    return true;
  }

  /** Drops every chunk of a file (closed, deleted, or it is the file being completed). */
  removeFile(path: string): void {
    this.chunks = this.chunks.filter((chunk) => chunk.path !== path);
  }

  /** Chunks, oldest first, excluding the file being completed. */
  snapshot(excludePath?: string): readonly ContextChunk[] {
    return excludePath === undefined ? [...this.chunks] : this.chunks.filter((chunk) => chunk.path !== excludePath);
  }

  get size(): number {
    return this.chunks.length;
  }

  clear(): void {
    this.chunks = [];
  }
}
