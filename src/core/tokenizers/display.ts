/**
 * How a token looks to a human: its own bytes as text with whitespace made visible (`·` space,
 * `→` tab, `↵` newline) and bytes that are only part of a character (an emoji split across
 * tokens) shown as `\xF0`. Shared by the CLI and the editor hover.
 */
import type { Tokenizer } from './types';

export interface TokenDisplay {
  /** Visible form: whitespace marked, control characters and partial bytes escaped. */
  readonly text: string;
  /** UTF-8 bytes the token stands for. */
  readonly byteLength: number;
  /** True where the token is only whitespace (spaces, tabs, newlines). */
  readonly whitespace: boolean;
  /** True where some bytes are only part of a multi-byte character. */
  readonly partial: boolean;
}

const VISIBLE: Readonly<Record<string, string>> = { ' ': '·', '\t': '→', '\n': '↵', '\r': '␍' };
/** ignoreBOM: a token that is U+FEFF must show it, not swallow it as a byte-order mark. */
const DECODER = new TextDecoder('utf-8', { ignoreBOM: true });

/** The bytes of token `id`, from the tokenizer when it can tell, else from decoding it alone. */
export function tokenBytesOf(tokenizer: Tokenizer, id: number): Uint8Array {
  return tokenizer.tokenBytes?.(id) ?? new TextEncoder().encode(tokenizer.decode([id]));
}

export function displayToken(tokenizer: Tokenizer, id: number): TokenDisplay {
  return displayBytes(tokenBytesOf(tokenizer, id));
}

export function displayBytes(bytes: Uint8Array): TokenDisplay {
  let text = '';
  let partial = false;
  let whitespace = bytes.length > 0;
  let index = 0;
  while (index < bytes.length) {
    const length = sequenceLength(bytes, index);
    if (length === 0) {
      text += `\\x${bytes[index].toString(16).toUpperCase().padStart(2, '0')}`;
      partial = true;
      whitespace = false;
      index++;
      continue;
    }
    const char = DECODER.decode(bytes.subarray(index, index + length));
    index += length;
    if (!/^\s$/u.test(char)) whitespace = false;
    text += VISIBLE[char] ?? escapeControl(char);
  }
  return { text, byteLength: bytes.length, whitespace, partial };
}

/** Whitespace made visible in any text (for counts of a line or selection shown beside tokens). */
export function visibleWhitespace(text: string): string {
  let out = '';
  for (const char of text) out += VISIBLE[char] ?? escapeControl(char);
  return out;
}

function escapeControl(char: string): string {
  const code = char.codePointAt(0) as number;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || code === 0xfeff || code === 0x2028 || code === 0x2029) {
    return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return char;
}

/** Length of the valid UTF-8 sequence starting at `index`, or 0 where it is invalid or cut off. */
function sequenceLength(bytes: Uint8Array, index: number): number {
  const first = bytes[index];
  let length: number;
  let min: number;
  if (first < 0x80) return 1;
  if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
    min = 0x80;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    min = 0x800;
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (index + length > bytes.length) return 0;
  let code = first & (0xff >> (length + 1));
  for (let offset = 1; offset < length; offset++) {
    const next = bytes[index + offset];
    if ((next & 0xc0) !== 0x80) return 0;
    code = (code << 6) | (next & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}
