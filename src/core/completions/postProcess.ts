/**
 * Turns raw model output into a suggestion that fits at the cursor, or into nothing. The rules
 * answer the complaints users have about peers' completions: text after the cursor typed twice,
 * brackets closed that were never opened, whole functions suggested mid-expression, and blank
 * suggestions that block Tab.
 */

export interface CursorContext {
  /** The cursor line's text before the cursor. */
  readonly linePrefix: string;
  /** The cursor line's text after the cursor. */
  readonly lineSuffix: string;
  /** Full lines after the cursor line (the start is enough). */
  readonly nextLines: readonly string[];
  /** Text before the cursor (its last ~2000 characters are scanned for open brackets). */
  readonly prefix: string;
  /** Stop strings (the model's stop tokens as text). */
  readonly stopStrings: readonly string[];
  /** Most lines of a multi-line suggestion. */
  readonly maxLines?: number;
}

export type CompletionShape = 'single-line' | 'multi-line';

const blockOpeners = [':', '{', '(', '[', '=>', '->'];
const openerOf: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };
const closerOf: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
/** What may follow the cursor on its line for a multi-line suggestion to still make sense. */
const onlyClosers = /^[\s)\]}'"`;,]*$/;

/**
 * Multi-line only where the cursor starts a block (its line ends with `:`, `{`, `(`, `[`, `=>`) or sits
 * on an empty line, and nothing but closing punctuation follows it; everywhere else one line.
 */
export function completionShape(linePrefix: string, lineSuffix: string): CompletionShape {
  if (!onlyClosers.test(lineSuffix)) return 'single-line';
  const trimmed = linePrefix.trimEnd();
  if (trimmed.length === 0) return 'multi-line';
  return blockOpeners.some((opener) => trimmed.endsWith(opener)) ? 'multi-line' : 'single-line';
}

/** Indentation width, tabs counted as 4 columns. */
export function indentWidth(line: string): number {
  let width = 0;
  for (const char of line) {
    if (char === ' ') width += 1;
    else if (char === '\t') width += 4;
    else break;
  }
  return width;
}

const isBlank = (line: string) => line.trim().length === 0;

/** Cuts raw output at the first stop string (or control character). */
export function cutAtStop(raw: string, stopStrings: readonly string[]): { text: string; stopped: boolean } {
  // Control characters and U+FFFD (bytes that decode to no character) never belong in code: stop there.
  const junk = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.exec(raw);
  let end = junk ? junk.index : raw.length;
  for (const stop of stopStrings) {
    if (stop.length === 0) continue;
    const index = raw.indexOf(stop);
    if (index !== -1 && index < end) end = index;
  }
  return { text: raw.slice(0, end), stopped: end < raw.length };
}

export interface ShapedText {
  readonly text: string;
  /** True when more generated tokens cannot change the result (the engine stops generating then). */
  readonly complete: boolean;
}

/**
 * Applies the line/block rules to text generated so far. Single-line: the first line. Multi-line:
 * lines while they stay inside the block (indented deeper than the opener's line, or at least as deep
 * as the cursor on an empty line), plus a closing bracket line at the opener's indentation.
 */
export function shapeCompletion(raw: string, context: CursorContext): ShapedText {
  const { text: stoppedText, stopped } = cutAtStop(raw, context.stopStrings);
  const shape = completionShape(context.linePrefix, context.lineSuffix);
  const lines = stoppedText.split('\n');
  if (shape === 'single-line') {
    return { text: lines[0], complete: stopped || lines.length > 1 };
  }
  const maxLines = context.maxLines ?? 16;
  const onEmptyLine = isBlank(context.linePrefix);
  const baseIndent = indentWidth(context.linePrefix);
  const kept = [lines[0]];
  let blankRun = 0;
  // Only complete lines (those followed by '\n') are judged; the last one may still be growing.
  const judged = stopped ? lines.length : lines.length - 1;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index];
    if (index >= judged) {
      // The growing last line: its indentation is known once it has a character; a dedent that is
      // not a closing bracket already ends the block (a closing line may still grow, e.g. `} else {`).
      const known = !isBlank(line);
      const indent = indentWidth(line);
      const endsBlock = known && (onEmptyLine ? indent < baseIndent : indent < baseIndent || (indent === baseIndent && !/^[)\]}]/.test(line.trim())));
      if (endsBlock) return { text: kept.join('\n'), complete: true };
      kept.push(line);
      break;
    }
    if (kept.length >= maxLines) return { text: kept.join('\n'), complete: true };
    if (isBlank(line)) {
      blankRun++;
      // Two blank lines end a suggestion at the top level, where indentation says nothing.
      if (blankRun >= 2) return { text: kept.join('\n'), complete: true };
      kept.push(line);
      continue;
    }
    blankRun = 0;
    const indent = indentWidth(line);
    if (onEmptyLine) {
      if (indent < baseIndent) return { text: kept.join('\n'), complete: true };
    } else if (indent <= baseIndent) {
      // The block's closing line (`}`, `)`, `]`) at the opener's indentation belongs to it; anything else ends it.
      if (indent === baseIndent && /^[)\]}]/.test(line.trim())) kept.push(line);
      return { text: kept.join('\n'), complete: true };
    }
    kept.push(line);
  }
  return { text: kept.join('\n'), complete: stopped };
}

/**
 * Brackets open before the cursor, innermost last. Skips string literals and line comments roughly;
 * a mismatch resets nothing, it only pops what it can, since the prefix may start mid-construct.
 */
export function openBrackets(prefix: string): string[] {
  const stack: string[] = [];
  for (const { char } of codeCharacters(prefix.slice(-2000), true)) {
    if (closerOf[char]) stack.push(char);
    else if (openerOf[char]) {
      const at = stack.lastIndexOf(openerOf[char]);
      if (at !== -1) stack.length = at;
    }
  }
  return stack;
}

/**
 * The characters of `text` outside string literals ('…', "…", `…`; a backslash escapes the next
 * character; a line break ends all but a template literal), and with `skipLineComments` outside
 * `//` and `#` comments too: what the bracket scans look at. Rough on purpose: the text may start
 * in the middle of a construct.
 */
function* codeCharacters(text: string, skipLineComments: boolean): Generator<{ readonly index: number; readonly char: string }> {
  let quote: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote || (char === '\n' && quote !== '`')) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (skipLineComments && ((char === '/' && text[index + 1] === '/') || (char === '#' && (index === 0 || /\s/.test(text[index - 1]))))) {
      const newline = text.indexOf('\n', index);
      if (newline === -1) return;
      index = newline;
    } else yield { index, char };
  }
}

/**
 * Cuts the suggestion before the first closing bracket that closes nothing open (in the suggestion
 * or before the cursor), and returns how many of each closer the suggestion adds beyond its own openers.
 */
function balanceBrackets(text: string, open: readonly string[]): { text: string; extraClosers: Map<string, number> } {
  const stack = [...open];
  const ownDepth = new Map<string, number>();
  for (const { index, char } of codeCharacters(text, false)) {
    if (closerOf[char]) {
      stack.push(char);
      ownDepth.set(char, (ownDepth.get(char) ?? 0) + 1);
    } else if (openerOf[char]) {
      const opener = openerOf[char];
      if (stack[stack.length - 1] !== opener) return { text: text.slice(0, index), extraClosers: closersBeyond(ownDepth) };
      stack.pop();
      ownDepth.set(opener, (ownDepth.get(opener) ?? 0) - 1);
    }
  }
  return { text, extraClosers: closersBeyond(ownDepth) };
}

function closersBeyond(depth: ReadonlyMap<string, number>): Map<string, number> {
  const extra = new Map<string, number>();
  for (const [opener, value] of depth) if (value < 0) extra.set(closerOf[opener], -value);
  return extra;
}

/**
 * Removes the end of the suggestion where it repeats what already follows the cursor: the whole rest
 * of the line, closing punctuation the document already has (when the suggestion closes more than it
 * opens), or the next lines of the document.
 */
function trimRepeatedSuffix(text: string, context: CursorContext, extraClosers: ReadonlyMap<string, number>): string {
  let result = text;
  const rest = context.lineSuffix.trim();
  if (rest.length > 0) {
    const onlyClosing = /^[)\]}'"`;,\s]+$/.test(rest);
    if (!onlyClosing && result.trimEnd().endsWith(rest)) {
      result = result.trimEnd().slice(0, result.trimEnd().length - rest.length);
    } else {
      // Partial overlap of closing punctuation: `foo(|)` with suggestion `a, b)` → `a, b`.
      for (let length = Math.min(rest.length, result.length); length > 0; length--) {
        const overlap = rest.slice(0, length);
        if (!/^[)\]}'"`;,]+$/.test(overlap) || !result.endsWith(overlap)) continue;
        const closersNeeded = [...overlap].filter((char) => openerOf[char]);
        const allExtra = closersNeeded.every((char) => (extraClosers.get(char) ?? 0) >= closersNeeded.filter((other) => other === char).length);
        if (allExtra) {
          result = result.slice(0, result.length - length);
          break;
        }
      }
    }
  }
  // Trailing lines that repeat the document's next lines.
  const lines = result.split('\n');
  const following = context.nextLines.filter((line) => !isBlank(line)).map((line) => line.trim());
  if (lines.length > 1 && following.length > 0) {
    let cut = lines.length;
    for (let take = Math.min(lines.length - 1, following.length); take > 0; take--) {
      const tail = lines.slice(lines.length - take).map((line) => line.trim());
      if (tail.every((line, index) => line === following[index])) {
        cut = lines.length - take;
        break;
      }
    }
    result = lines.slice(0, cut).join('\n');
  }
  return result;
}

/**
 * Small models fall into loops (`0000…`, `)))))…`, `foo.foo.foo.…`): a unit of 1-8 characters,
 * not all whitespace, repeated 6 more times in a row is cut where the loop starts. Code rarely does
 * that for real (`=======` rulers lose only their ghost text).
 */
export function cutRepetition(text: string): string {
  const loops = /(.{1,8}?)\1{6,}/gs;
  for (let loop = loops.exec(text); loop; loop = loops.exec(text)) {
    // Indentation and blank lines repeat whitespace legitimately.
    if (/\S/.test(loop[1])) return text.slice(0, loop.index);
    loops.lastIndex = loop.index + 1;
  }
  return cutRepeatedLines(text);
}

/**
 * The same loop at line scale: a block of 1-4 lines (not all blank) that comes three times in a row
 * (`if c == 1:\n    return 1` over and over) keeps its first copy. Real code that repeats a block
 * three times verbatim is rare; a small model doing it is common.
 */
function cutRepeatedLines(text: string): string {
  const lines = text.split('\n');
  const loopsAt = (start: number, size: number): boolean => {
    if (start + 3 * size > lines.length) return false;
    const block = lines.slice(start, start + size);
    if (block.every((line) => line.trim() === '')) return false;
    const same = (offset: number) => block.every((line, index) => lines[offset + index] === line);
    return same(start + size) && same(start + 2 * size);
  };
  const indent = (line: string) => line.length - line.trimStart().length;
  for (let start = 0; start < lines.length; start++) {
    for (let size = 1; size <= 4; size++) {
      if (!loopsAt(start, size)) continue;
      // A loop can be read from any of its lines: keep the copy that starts at its outermost line,
      // so the kept text ends with a whole block (`if …:` + body), not with a dangling header.
      // (Three copies from `start` hold at least two from any shift within the first one.)
      let best = start;
      for (let shift = 1; shift < size; shift++) {
        if (indent(lines[start + shift]) < indent(lines[best])) best = start + shift;
      }
      return lines.slice(0, best + size).join('\n');
    }
  }
  return text;
}

/**
 * The file's indentation step in columns (a tab counts 4, as in {@link indentWidth}): the most
 * common increase of indentation from one non-blank line to the next in the lines before the
 * cursor, as editors detect it; one-column increases (` * ` lines of doc comments) count only when
 * there is nothing else. 4 when those lines never indent.
 */
export function indentStep(prefix: string): number {
  // Whole lines only: the cursor line is the editor's own indentation, and a cut line would measure nothing.
  const start = prefix.length > 4000 ? prefix.indexOf('\n', prefix.length - 4000) + 1 : 0;
  const lines = prefix.slice(start).split('\n').slice(0, -1).filter((line) => !isBlank(line));
  const votes = new Map<number, number>();
  for (let index = 1; index < lines.length; index++) {
    const increase = indentWidth(lines[index]) - indentWidth(lines[index - 1]);
    if (increase > 0) votes.set(increase, (votes.get(increase) ?? 0) + 1);
  }
  if (votes.size > 1) votes.delete(1);
  let step = 4;
  let best = 0;
  for (const [increase, count] of votes) {
    if (count > best || (count === best && increase < step)) {
      step = increase;
      best = count;
    }
  }
  return step;
}

/** Removes up to `columns` columns of spaces from the end of a line's indentation (a tab is never split). */
function dedentBy(line: string, columns: number): string {
  const indentation = /^[ \t]*/.exec(line)?.[0] ?? '';
  let keep = indentation.length;
  let removed = 0;
  while (removed < columns && keep > 0 && indentation[keep - 1] === ' ') {
    keep--;
    removed++;
  }
  return indentation.slice(0, keep) + line.slice(indentation.length);
}

/**
 * On a line where the editor already put the indentation (only spaces or tabs before the cursor),
 * the suggestion's first line must start on an indentation step. Small models often begin with a
 * space that their tokenizer attaches to the next word (`\s+(?!\S)` splits eight spaces and `n`
 * into seven spaces and ` n`), so after the editor's eight spaces they answer ` n = 1`: one column
 * too far. Leading whitespace that ends between two steps is cut back to the step before it (whole
 * extra steps stay), and the lines the model indented under that first line move with it.
 */
export function fitToIndentation(text: string, context: Pick<CursorContext, 'linePrefix' | 'prefix'>): string {
  if (!/^[ \t]+$/.test(context.linePrefix)) return text;
  const lead = /^[ \t]*/.exec(text)?.[0] ?? '';
  if (lead.length === 0 || lead.length === text.length) return text;
  const editorColumn = indentWidth(context.linePrefix);
  const modelColumn = editorColumn + indentWidth(lead);
  const step = indentStep(context.prefix);
  const extra = modelColumn % step;
  if (extra === 0) return text;
  const lines = text.split('\n');
  lines[0] = modelColumn - extra <= editorColumn ? lines[0].slice(lead.length) : dedentBy(lines[0], extra);
  const shift = modelColumn - Math.max(editorColumn, modelColumn - extra);
  for (let index = 1; index < lines.length; index++) {
    if (!isBlank(lines[index]) && indentWidth(lines[index]) >= modelColumn) lines[index] = dedentBy(lines[index], shift);
  }
  return lines.join('\n');
}

/**
 * The whole pipeline: stop strings, shape (single/multi-line and block end), loops, leading
 * whitespace that fits what the editor already inserted, bracket balance, repeated-suffix trimming,
 * and never whitespace-only. Returns undefined when nothing useful is left.
 */
export function postProcess(raw: string, context: CursorContext): string | undefined {
  const shaped = shapeCompletion(raw, context);
  let shapedText = cutRepetition(shaped.text);
  // After `return ` the model's own leading spaces would only double the space already typed.
  if (/\S[ \t]$/.test(context.linePrefix)) shapedText = shapedText.replace(/^[ \t]+/, '');
  shapedText = fitToIndentation(shapedText, context);
  const balanced = balanceBrackets(shapedText, openBrackets(context.prefix));
  let text = trimRepeatedSuffix(balanced.text, context, balanced.extraClosers);
  // Trailing whitespace is noise, except a line break that puts closing text after the cursor on its own line.
  const lineSuffixBlank = isBlank(context.lineSuffix);
  text = lineSuffixBlank ? text.replace(/\s+$/, '') : text.replace(/[ \t]+$/, '');
  if (isBlank(text)) return undefined;
  return text;
}
