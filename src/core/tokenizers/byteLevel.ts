/**
 * GPT-2's byte-level alphabet, used by every byte-level BPE vocabulary (GPT-2, Qwen2, Llama 3,
 * DeepSeek-V3, SmolLM2): each of the 256 byte values is shown as one printable BMP character, so a
 * vocabulary entry such as `Ġfoo` stands for the bytes ` foo`. Printable Latin-1 bytes map to
 * themselves; the others (controls, space, 0x7F-0xA0, 0xAD) map to U+0100 upwards in byte order.
 */
function buildByteToChar(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const isPrintable = new Set(printable);
  const table = new Array<string>(256);
  let next = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = String.fromCharCode(isPrintable.has(b) ? b : 256 + next++);
  }
  return table;
}

/** `BYTE_TO_CHAR[b]` is the alphabet character of byte `b`. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** Char code of an alphabet character → its byte, -1 where the character is not in the alphabet. */
export const CHAR_CODE_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x144).fill(-1);
  BYTE_TO_CHAR.forEach((char, byte) => {
    table[char.charCodeAt(0)] = byte;
  });
  return table;
})();

/**
 * The bytes a byte-level vocabulary string stands for, or undefined when some character is outside
 * the alphabet (then the string is not a byte-level token: e.g. a special token kept in the vocab).
 */
export function byteLevelToBytes(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let index = 0; index < token.length; index++) {
    const code = token.charCodeAt(index);
    const byte = code < CHAR_CODE_TO_BYTE.length ? CHAR_CODE_TO_BYTE[code] : -1;
    if (byte < 0) return undefined;
    bytes[index] = byte;
  }
  return bytes;
}

/** The byte-level vocabulary string of some UTF-8 bytes. */
export function bytesToByteLevel(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  for (let index = start; index < end; index++) out += BYTE_TO_CHAR[bytes[index]];
  return out;
}
