/**
 * The top-level blocks of a file that the cost decorations price one by one: the language's
 * document symbols (functions, classes, methods) when it has them, passed in as plain data, else
 * paragraphs separated by blank lines. Only the blocks that touch a window of lines (the visible
 * ones) are found, so a 10,000-line file costs what its visible part costs. Pure: no editor.
 */

/** A top-level document symbol, as the editor's symbol provider gives it (0-based lines, inclusive). */
export interface SymbolData {
  readonly name: string;
  /** `function`, `class`, `method`, ... (the editor's SymbolKind name, lower case). */
  readonly kind: string;
  readonly startLine: number;
  readonly endLine: number;
}

/** Read access to a document's lines: a VS Code TextDocument fits through a two-line adapter. */
export interface LineSource {
  readonly lineCount: number;
  /** The text of a line, without its line break. */
  lineText(line: number): string;
  /** UTF-16 offset of the line's first character. */
  lineStart(line: number): number;
}

/** One block: lines [startLine, endLine] and their text as offsets [start, end) (no final line break). */
export interface Block {
  readonly startLine: number;
  readonly endLine: number;
  readonly start: number;
  readonly end: number;
  /** The symbol's name; undefined for a paragraph. */
  readonly name?: string;
  readonly kind: string;
}

/** A window of lines, inclusive (the visible range with a margin). */
export interface LineWindow {
  readonly firstLine: number;
  readonly lastLine: number;
}

const isBlank = (text: string) => text.trim().length === 0;

function blockOf(source: LineSource, startLine: number, endLine: number, kind: string, name?: string): Block {
  return { startLine, endLine, start: source.lineStart(startLine), end: source.lineStart(endLine) + source.lineText(endLine).length, kind, ...(name !== undefined ? { name } : {}) };
}

/**
 * The blocks touching `window` (the whole file when absent). With `symbols` the blocks are the
 * symbols, in line order, a symbol inside an earlier one skipped; with none (no provider, or a
 * provider that found nothing, as the editor reports both) they are blank-line paragraphs.
 */
export function detectBlocks(source: LineSource, symbols: readonly SymbolData[] | undefined, window?: LineWindow): Block[] {
  if (source.lineCount === 0) return [];
  const first = Math.max(0, window?.firstLine ?? 0);
  const last = Math.min(source.lineCount - 1, window?.lastLine ?? source.lineCount - 1);
  if (symbols !== undefined && symbols.length > 0) return symbolBlocks(source, symbols, first, last);
  return paragraphBlocks(source, first, last);
}

function symbolBlocks(source: LineSource, symbols: readonly SymbolData[], first: number, last: number): Block[] {
  const sorted = symbols
    .filter((symbol) => symbol.startLine >= 0 && symbol.endLine >= symbol.startLine && symbol.startLine < source.lineCount)
    .slice()
    .sort((a, b) => a.startLine - b.startLine || b.endLine - a.endLine);
  const blocks: Block[] = [];
  let coveredUntil = -1;
  for (const symbol of sorted) {
    if (symbol.startLine <= coveredUntil) continue; // nested in (or overlapping) the previous block
    const endLine = Math.min(symbol.endLine, source.lineCount - 1);
    coveredUntil = endLine;
    if (endLine < first || symbol.startLine > last) continue;
    blocks.push(blockOf(source, symbol.startLine, endLine, symbol.kind, symbol.name));
  }
  return blocks;
}

function paragraphBlocks(source: LineSource, first: number, last: number): Block[] {
  // Start at the beginning of the paragraph holding `first` (walk back over non-blank lines).
  let line = first;
  while (line > 0 && !isBlank(source.lineText(line)) && !isBlank(source.lineText(line - 1))) line--;
  const blocks: Block[] = [];
  while (line < source.lineCount && line <= last) {
    if (isBlank(source.lineText(line))) {
      line++;
      continue;
    }
    const startLine = line;
    while (line + 1 < source.lineCount && !isBlank(source.lineText(line + 1))) line++;
    blocks.push(blockOf(source, startLine, line, 'paragraph'));
    line++;
  }
  return blocks;
}

/** A LineSource over a string (tests, the CLI, the benchmark). */
export function textLineSource(text: string): LineSource {
  const starts = [0];
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) starts.push(index + 1);
  return {
    lineCount: starts.length,
    lineStart: (line) => starts[line],
    lineText: (line) => {
      const end = line + 1 < starts.length ? starts[line + 1] - 1 : text.length;
      const raw = text.slice(starts[line], end);
      return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    },
  };
}
