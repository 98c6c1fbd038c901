/**
 * Unicode normalization (NFC and friends, as tokenizer.json normalizers declare) that keeps a map
 * from offsets in the normalized text back to the original, so token offsets point into the text
 * the user sees.
 *
 * The text is cut into independent chunks: an ASCII character never composes with what precedes
 * it, is never reordered and never changes under any normalization form, so each maximal non-ASCII
 * run together with the one ASCII character before it (which may be the first half of a
 * composition, `e` + U+0301) normalizes on its own. Only chunks that change are recorded; an offset
 * strictly inside a changed chunk maps to the chunk's end, so the map is monotone and token spans
 * still tile the original text exactly.
 */
export type NormalizationForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

export interface OffsetMap {
  /** Maps an offset in the normalized text to one in the original text. */
  toOriginal(offset: number): number;
}

export interface NormalizedText {
  readonly text: string;
  /** Null when normalization changed nothing (the common case: offsets are identical). */
  readonly map: OffsetMap | null;
}

const NON_ASCII_RUN = /[^\x00-\x7f]+/g;

function applyForms(text: string, forms: readonly NormalizationForm[]): string {
  let out = text;
  for (const form of forms) out = out.normalize(form);
  return out;
}

export function normalizeWithOffsets(text: string, forms: readonly NormalizationForm[]): NormalizedText {
  // ASCII never changes under any form, and source code is mostly ASCII: normalize only the
  // non-ASCII runs (normalizing a whole megabyte costs tens of milliseconds).
  if (forms.length === 0) return { text, map: null };
  const normStarts: number[] = [];
  const normEnds: number[] = [];
  const origEnds: number[] = [];
  let out = '';
  let copiedUpTo = 0;
  NON_ASCII_RUN.lastIndex = 0;
  for (let match = NON_ASCII_RUN.exec(text); match !== null; match = NON_ASCII_RUN.exec(text)) {
    const chunkStart = match.index > 0 ? match.index - 1 : 0;
    const chunkEnd = match.index + match[0].length;
    const chunk = text.slice(chunkStart, chunkEnd);
    const normalized = applyForms(chunk, forms);
    if (normalized === chunk) continue;
    out += text.slice(copiedUpTo, chunkStart);
    normStarts.push(out.length);
    out += normalized;
    normEnds.push(out.length);
    origEnds.push(chunkEnd);
    copiedUpTo = chunkEnd;
  }
  if (normStarts.length === 0) return { text, map: null };
  out += text.slice(copiedUpTo);

  const toOriginal = (offset: number): number => {
    // Last changed chunk that starts strictly before `offset`.
    let low = 0;
    let high = normStarts.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (normStarts[mid] < offset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    if (found < 0) return offset;
    if (offset < normEnds[found]) return origEnds[found];
    return offset + (origEnds[found] - normEnds[found]);
  };
  return { text: out, map: { toOriginal } };
}
