/**
 * The editor-independent view of a document the completion core needs. VS Code's TextDocument and
 * the CLI's file both fit it without copying the whole text on every keystroke.
 */
export interface DocumentLines {
  readonly lineCount: number;
  /** Text of a line without its line break. */
  lineText(line: number): string;
}

/** Zero-based line and UTF-16 character, as VS Code positions. */
export interface CursorPosition {
  readonly line: number;
  readonly character: number;
}

/** A document held in memory as lines (CLI, tests, benchmark). Accepts `\n` and `\r\n` text. */
export class TextLines implements DocumentLines {
  readonly lines: string[];

  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
  }

  get lineCount(): number {
    return this.lines.length;
  }

  lineText(line: number): string {
    return this.lines[line] ?? '';
  }

  /** The cursor position at a UTF-16 offset of the `\n`-joined text. */
  positionAt(offset: number): CursorPosition {
    let remaining = offset;
    for (let line = 0; line < this.lines.length; line++) {
      if (remaining <= this.lines[line].length) return { line, character: remaining };
      remaining -= this.lines[line].length + 1;
    }
    const last = this.lines.length - 1;
    return { line: last, character: this.lines[last].length };
  }

  /** Inserts text at a position (used by the benchmark and tests to simulate typing and accepting). */
  insert(position: CursorPosition, inserted: string): CursorPosition {
    const line = this.lines[position.line];
    const before = line.slice(0, position.character);
    const after = line.slice(position.character);
    const pieces = (before + inserted).split('\n');
    const endLine = position.line + pieces.length - 1;
    const endCharacter = pieces[pieces.length - 1].length;
    pieces[pieces.length - 1] += after;
    // Not splice(..., ...pieces): a paste of 100,000+ lines would overflow the call stack.
    const following = this.lines.splice(position.line + 1);
    this.lines.length = position.line;
    for (const piece of pieces) this.lines.push(piece);
    for (const rest of following) this.lines.push(rest);
    return { line: endLine, character: endCharacter };
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** Checks a position against a document, with a message that says what is valid. */
export function validatePosition(document: DocumentLines, position: CursorPosition): string | undefined {
  if (!Number.isInteger(position.line) || position.line < 0 || position.line >= document.lineCount) {
    return `line ${position.line} is outside the document (0-based, valid 0..${document.lineCount - 1})`;
  }
  const length = document.lineText(position.line).length;
  if (!Number.isInteger(position.character) || position.character < 0 || position.character > length) {
    return `character ${position.character} is outside line ${position.line} (0-based, valid 0..${length})`;
  }
  return undefined;
}
