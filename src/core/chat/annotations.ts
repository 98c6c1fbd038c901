import { citedLinesWithin, parseCitations, type LineRange } from './citations';
import type { SegmentKind } from './thinkParser';

/** One piece of the trace or answer that talks about a line, for display beside that line. */
export interface LineNote {
  readonly kind: SegmentKind;
  /** The sentence that cites the line, as plain one-line text. */
  readonly summary: string;
  /** The whole paragraph or list item the sentence belongs to (Markdown), for the hover. */
  readonly segment: string;
}

export interface LineAnnotation {
  /** 1-based file line. */
  readonly line: number;
  readonly notes: readonly LineNote[];
}

/** Paragraphs and list items outside code fences: the units a hover shows whole. */
export function textBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    const block = current.join('\n').trim();
    if (block) blocks.push(block);
    current = [];
  };
  for (const line of text.split('\n')) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence !== undefined) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
      continue;
    }
    if (marker) {
      flush();
      fence = marker;
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A list item or heading starts its own block.
    if (/^\s*(?:[-*+]|\d{1,3}[.)])\s+/.test(line) || /^\s{0,3}#{1,6}\s/.test(line)) flush();
    current.push(line);
  }
  flush();
  return blocks;
}

/** Sentences of a block; a citation such as `L5-L7.` never ends one early. */
export function sentences(block: string): string[] {
  return block
    .split(/(?<=[.!?])\s+(?=[A-Z`*_("[])/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence !== '');
}

/** Markdown to one plain line: what fits after a line of code. */
export function plainSummary(markdown: string, maxLength = 120): string {
  const plain = markdown
    .replace(/^\s*(?:[-*+]|\d{1,3}[.)]|#{1,6})\s+/, '')
    .replace(/\*\*|__|`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > maxLength ? `${plain.slice(0, maxLength - 1).trimEnd()}…` : plain;
}

/**
 * Notes for each selected line that the trace or the answer cites. Answer notes come first on a
 * line (they are the conclusion); a sentence citing a range annotates every line of it.
 */
export function annotateLines(parts: { readonly thinking: string; readonly answer: string }, selection: LineRange): LineAnnotation[] {
  const byLine = new Map<number, LineNote[]>();
  const add = (kind: SegmentKind, text: string) => {
    for (const block of textBlocks(text)) {
      for (const sentence of sentences(block)) {
        const lines = citedLinesWithin(parseCitations(sentence), selection);
        for (const line of lines) {
          const notes = byLine.get(line) ?? [];
          const note: LineNote = { kind, summary: plainSummary(sentence), segment: block };
          if (!notes.some((existing) => existing.kind === kind && existing.summary === note.summary)) notes.push(note);
          byLine.set(line, notes);
        }
      }
    }
  };
  add('answer', parts.answer);
  add('thinking', parts.thinking);
  return [...byLine.entries()].sort(([a], [b]) => a - b).map(([line, notes]) => ({ line, notes }));
}
