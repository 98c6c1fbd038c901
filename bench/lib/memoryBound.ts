/**
 * The memory-bandwidth bound of a decode step, and how close a measured decode comes to it.
 *
 * A decode step reads at least `bytesPerToken` (every weight once, the KV cache once, one embedding
 * row), so it cannot run faster than readBandwidth / bytesPerToken tokens/s, where readBandwidth is
 * the fastest streaming read measured on this machine with the same threads over a working set of
 * that size. "Fastest measured" includes the decode itself: a decode that read bytesPerToken per
 * token at T tokens/s read bytesPerToken x T bytes/s, so if that beats the probe, the probe was not
 * the machine's best and the decode's own rate is the bound (reported as such, never as more than
 * 100%). So the percent of the bound is at most 100 by construction: it is a ratio x / y with
 * x <= y, which IEEE division cannot round above 1.
 */

export interface BoundInput {
  /** Bytes a decode step must read at least. */
  readonly bytesPerToken: number;
  /** Best streaming-read bandwidth of the probe, bytes/s. */
  readonly probeBytesPerSecond: number;
  /** The decode rate measured. */
  readonly tokensPerSecond: number;
}

export interface Bound {
  /** The bandwidth the bound is taken at: max(probe, what the decode itself read). */
  readonly bytesPerSecond: number;
  /** What the decode read per second (bytesPerToken x tokens/s). */
  readonly decodeBytesPerSecond: number;
  readonly boundTokensPerSecond: number;
  /** 0..100. */
  readonly percentOfBound: number;
  /** The decode read faster than the probe could: the probe under-measured (say so next to the figure). */
  readonly decodeBeatProbe: boolean;
}

function positive(name: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive finite number, got ${value}`);
}

export function memoryBound(input: BoundInput): Bound {
  positive('bytesPerToken', input.bytesPerToken);
  positive('probeBytesPerSecond', input.probeBytesPerSecond);
  positive('tokensPerSecond', input.tokensPerSecond);
  const decodeBytesPerSecond = input.bytesPerToken * input.tokensPerSecond;
  const bytesPerSecond = Math.max(input.probeBytesPerSecond, decodeBytesPerSecond);
  // x / y with x <= y: at most 1 after rounding; 100 * r with r <= 1: at most 100.
  const fraction = Math.min(1, decodeBytesPerSecond / bytesPerSecond);
  return {
    bytesPerSecond,
    decodeBytesPerSecond,
    boundTokensPerSecond: bytesPerSecond / input.bytesPerToken,
    percentOfBound: 100 * fraction,
    decodeBeatProbe: decodeBytesPerSecond > input.probeBytesPerSecond,
  };
}

/** KV-cache bytes one decode step reads at a context length (keys and values of every layer). */
export function kvBytesPerToken(layers: number, kvHeads: number, headDim: number, context: number, bytesPerValue: number): number {
  return 2 * layers * kvHeads * headDim * context * bytesPerValue;
}
