/**
 * Context attached to a chat message (an editor selection or a whole file) and the selection rule
 * that Explain Selection shares: pure, so the editor glue only reads the document.
 */
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { maxChipTextLength, type ContextChip } from '../webview/chatProtocol';

interface EditorPosition {
  readonly line: number;
  readonly character: number;
}

/**
 * The selection widened to whole lines (0-based, inclusive); a selection ending at column 0 leaves
 * that line out. Undefined for an empty selection.
 */
export function wholeLineSpan(selection: { readonly isEmpty: boolean; readonly start: EditorPosition; readonly end: EditorPosition }): { readonly startLine: number; readonly endLine: number } | undefined {
  if (selection.isEmpty) return undefined;
  const startLine = selection.start.line;
  const endLine = selection.end.character === 0 && selection.end.line > startLine ? selection.end.line - 1 : selection.end.line;
  return { startLine, endLine };
}

/** Where an attachment's text came from: `startLine` (1-based) and `endLine` for a selection. */
export interface AttachmentSource {
  readonly path: string;
  readonly languageId: string;
  readonly text: string;
  readonly lines?: { readonly startLine: number; readonly endLine: number };
}

/** The chip for an attachment, labelled `file.ts:2-14` (a selection) or `file.ts` (a file). */
export function attachmentChip(source: AttachmentSource, tokens: number): ContextChip {
  const name = basename(source.path);
  const common = { id: randomUUID(), path: source.path, languageId: source.languageId, text: source.text, tokens };
  return source.lines ? { ...common, kind: 'selection', label: `${name}:${source.lines.startLine}-${source.lines.endLine}`, startLine: source.lines.startLine } : { ...common, kind: 'file', label: name };
}

/** Why a chip cannot be attached (too large for the protocol), with what to do; undefined when it can. */
export function attachmentProblem(chip: ContextChip): string | undefined {
  if (chip.text.length <= maxChipTextLength) return undefined;
  return `${chip.label} is ${Math.round(chip.text.length / 1000)} KB; attachments are limited to ${maxChipTextLength / 1000} KB. Attach a selection instead.`;
}
