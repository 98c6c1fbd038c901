/**
 * Line citations in model text: `L12`, `L5-L7`, `L5–7`, `lines 3-4`, `lines 3 to 4`, `line 7`,
 * `lines 3, 5 and 7`. The explain prompt numbers the selected lines with their real file line
 * numbers, so a citation is a 1-based file line; ones outside the selection are dropped.
 */

export interface LineRange {
  /** 1-based, inclusive. */
  readonly start: number;
  readonly end: number;
}

export interface Citation extends LineRange {
  /** Offsets of the citation in the text, for highlighting. */
  readonly index: number;
  readonly length: number;
}

/** Keeps citations from running away with a typo like `L5-L50000`. */
const maxRangeLength = 500;

const dash = String.raw`\s*(?:-|–|—|\.\.|to|through|thru)\s*`;
const lPattern = String.raw`\bL(\d{1,6})(?:${dash}L?(\d{1,6}))?\b`;
const wordPattern = String.raw`\b[Ll]ines?\s+(\d{1,6})((?:${dash}\d{1,6})|(?:(?:\s*,\s*|\s+and\s+|\s*,\s*and\s+)\d{1,6})+)?\b`;
const citationPattern = new RegExp(`${lPattern}|${wordPattern}`, 'g');

function range(a: number, b: number): LineRange | undefined {
  const start = Math.min(a, b);
  const end = Math.max(a, b);
  if (start < 1 || end - start > maxRangeLength) return undefined;
  return { start, end };
}

/** Every citation in `text`, in order. Text inside fenced code blocks is code, not citations. */
export function parseCitations(text: string): Citation[] {
  const citations: Citation[] = [];
  for (const { offset, text: prose } of proseRuns(text)) {
    citationPattern.lastIndex = 0;
    for (let match = citationPattern.exec(prose); match; match = citationPattern.exec(prose)) {
      const index = offset + match.index;
      const length = match[0].length;
      if (match[1] !== undefined) {
        const cited = range(Number(match[1]), Number(match[2] ?? match[1]));
        if (cited) citations.push({ ...cited, index, length });
        continue;
      }
      const first = Number(match[3]);
      const rest = match[4] ?? '';
      const numbers = rest.match(/\d{1,6}/g)?.map(Number) ?? [];
      if (numbers.length === 1 && new RegExp(`^${dash}\\d`).test(rest)) {
        const cited = range(first, numbers[0] ?? first);
        if (cited) citations.push({ ...cited, index, length });
        continue;
      }
      for (const line of [first, ...numbers]) {
        const cited = range(line, line);
        if (cited) citations.push({ ...cited, index, length });
      }
    }
  }
  return citations;
}

/** The parts of `text` outside fenced code blocks, with their offsets. */
export function proseRuns(text: string): { offset: number; text: string }[] {
  const runs: { offset: number; text: string }[] = [];
  let fence: string | undefined;
  let runStart = 0;
  let offset = 0;
  for (const line of text.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) {
      if (offset > runStart) runs.push({ offset: runStart, text: text.slice(runStart, offset) });
      fence = marker;
    } else if (fence !== undefined && marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
      fence = undefined;
      runStart = offset + line.length + 1;
    }
    offset += line.length + 1;
  }
  if (fence === undefined && runStart < text.length) runs.push({ offset: runStart, text: text.slice(runStart) });
  return runs;
}

/**
 * Clips citations to the selection `[first, last]` (file lines). A range reaching outside keeps
 * its inside part; one wholly outside is dropped. Duplicates are merged.
 */
export function citedLinesWithin(citations: readonly LineRange[], selection: LineRange): number[] {
  const lines = new Set<number>();
  for (const citation of citations) {
    const start = Math.max(citation.start, selection.start);
    const end = Math.min(citation.end, selection.end);
    for (let line = start; line <= end; line++) lines.add(line);
  }
  return [...lines].sort((a, b) => a - b);
}

/** `L3`, `L5-L7`: how Tokenscope writes a range back to the user. */
export function formatRange(range: LineRange): string {
  return range.start === range.end ? `L${range.start}` : `L${range.start}-L${range.end}`;
}
