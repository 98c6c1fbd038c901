/**
 * The shared start of two token id sequences: how much of a KV cache (or of earlier scores) a new
 * request can keep. Apart from kvCache.ts so code that never loads ONNX Runtime can use it.
 */

/** Length of the common prefix of two id sequences. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
