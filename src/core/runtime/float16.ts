/** IEEE 754 half-precision decoding for fp16 logits (ONNX Runtime hands them over as Uint16Array). */

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let table: Float32Array | undefined;

/** Decodes halves into `out` through a 65536-entry table (256 KiB, built on first use). */
export function halfToFloatArray(halves: Uint16Array, out: Float32Array): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  const lookup = table;
  for (let i = 0; i < halves.length; i++) out[i] = lookup[halves[i]];
  return out;
}
