import type { TokenSpan } from './types';

/**
 * UTF-16 spans for tokens given only their UTF-8 byte lengths, for engines that return ids without
 * offsets (gpt-tokenizer). Walks the text once. Each token ends at the last character boundary its
 * bytes reach, so a token holding only the leading bytes of a character has start === end and the
 * character belongs to the token that completes it. Lone surrogates count as 3 bytes (U+FFFD), as
 * TextEncoder encodes them.
 */
export function spansFromByteLengths(text: string, ids: readonly number[], byteLength: (id: number) => number): TokenSpan[] {
  const spans = new Array<TokenSpan>(ids.length);
  let unit = 0;
  let bytePosition = 0;
  let tokenEnd = 0;
  let start = 0;
  for (let index = 0; index < ids.length; index++) {
    tokenEnd += byteLength(ids[index]);
    while (unit < text.length) {
      const code = text.charCodeAt(unit);
      let units = 1;
      let bytes: number;
      if (code < 0x80) bytes = 1;
      else if (code < 0x800) bytes = 2;
      else if (code >= 0xd800 && code <= 0xdbff && unit + 1 < text.length && (text.charCodeAt(unit + 1) & 0xfc00) === 0xdc00) {
        bytes = 4;
        units = 2;
      } else bytes = 3;
      if (bytePosition + bytes > tokenEnd) break;
      bytePosition += bytes;
      unit += units;
    }
    spans[index] = { id: ids[index], start, end: unit };
    start = unit;
  }
  return spans;
}
