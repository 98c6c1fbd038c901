/**
 * Choosing the next token from logits, over vocabularies of 150k entries without sorting them:
 * top-k by a bounded heap, nucleus (top-p) on a candidate set that grows only when needed, and
 * log-probabilities from one max pass and one exp pass. Also what a request's sampling resolves
 * to against the model's defaults (`resolveSampling`).
 */
import type { GenerationDefaults } from '../models/modelFolder';
import type { SamplingOptions } from './types';

export interface ResolvedSampling {
  /** 0: greedy. */
  readonly temperature: number;
  /** 0: off. */
  readonly topK: number;
  /** 1: off. */
  readonly topP: number;
  /** 1: off. */
  readonly repetitionPenalty: number;
  readonly seed: number;
}

/**
 * The sampling a request runs with: what it asks for, else the model's generation_config defaults
 * (greedy when `do_sample` is false), checked; a random seed when none is given.
 */
export function resolveSampling(given: SamplingOptions = {}, defaults: GenerationDefaults): ResolvedSampling {
  const temperature = given.temperature ?? (defaults.doSample ? (defaults.temperature ?? 1) : 0);
  const topK = given.topK ?? (defaults.doSample ? (defaults.topK ?? 0) : 0);
  const topP = given.topP ?? (defaults.doSample ? (defaults.topP ?? 1) : 1);
  const repetitionPenalty = given.repetitionPenalty ?? defaults.repetitionPenalty ?? 1;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be 0 or more, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  if (!(topK >= 0) || !Number.isInteger(topK)) throw new RangeError(`topK must be a whole number >= 0, got ${topK}`);
  if (!(repetitionPenalty > 0) || !Number.isFinite(repetitionPenalty)) throw new RangeError(`repetitionPenalty must be more than 0, got ${repetitionPenalty}`);
  const seed = given.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  return { temperature, topK, topP, repetitionPenalty, seed };
}

/** xoshiro128**: fast, seedable, good statistical quality; state from splitmix32 of the seed. */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Index of the largest value (first on ties). */
export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = values[0];
  for (let i = 1; i < values.length; i++) {
    if (values[i] > bestValue) {
      bestValue = values[i];
      best = i;
    }
  }
  return best;
}

/**
 * Terms more than this far below the maximum (in natural-log units) are left out of sums of
 * exponentials: each is < e^-24 = 3.8e-11 of the largest, so even 150k of them change a
 * log-probability by less than 6e-6, while skipping their Math.exp makes a peaked distribution
 * (what real models produce) several times cheaper to normalize.
 */
export const NEGLIGIBLE_LOG_RATIO = 24;

const EXP_STEPS = 1024;
const twoToMinusFraction = Float64Array.from({ length: EXP_STEPS + 1 }, (_, i) => 2 ** (-i / EXP_STEPS));
const twoToMinusWhole = Float64Array.from({ length: 64 }, (_, n) => 2 ** -n);
const STEPS_PER_NAT = Math.LOG2E * EXP_STEPS;

/**
 * e^d for -NEGLIGIBLE_LOG_RATIO < d <= 0, relative error < 6e-8 (2^-y from a 1024-step table with
 * linear interpolation). About 5x faster than Math.exp, which matters: normalizing 150k logits
 * every token took a third of a small model's step time.
 */
export function expOfNonPositive(d: number): number {
  const y = d * -STEPS_PER_NAT;
  const whole = y | 0;
  const step = whole & (EXP_STEPS - 1);
  const low = twoToMinusFraction[step];
  return twoToMinusWhole[whole >> 10] * (low + (twoToMinusFraction[step + 1] - low) * (y - whole));
}

/**
 * log(sum(exp(values * scale))) computed stably: one pass for the max (skipped when the caller
 * knows it, e.g. the logit greedy decoding just picked), one for the sum.
 */
export function logSumExp(values: Float32Array, scale = 1, knownMax?: number): number {
  let max = knownMax ?? -Infinity;
  if (knownMax === undefined) for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  const scaledMax = max * scale;
  const floor = -NEGLIGIBLE_LOG_RATIO;
  for (let i = 0; i < values.length; i++) {
    const exponent = values[i] * scale - scaledMax;
    if (exponent > floor) sum += expOfNonPositive(exponent);
  }
  return scaledMax + Math.log(sum);
}

/**
 * Greedy decoding's two needs in one pass over the logits: the index of the largest value (first
 * on ties) and log(sum(exp(values))). The sum is kept relative to the running maximum and rescaled
 * (with Math.exp, so no table error compounds) when a larger value appears, which happens about
 * ln(vocabulary) times in a typical order. Same terms left out as logSumExp's.
 */
export function argmaxLogSumExp(values: Float32Array): { readonly index: number; readonly logSumExp: number } {
  let index = 0;
  let max = values[0];
  let sum = 1;
  const floor = -NEGLIGIBLE_LOG_RATIO;
  for (let i = 1; i < values.length; i++) {
    const value = values[i];
    if (value > max) {
      const shift = max - value;
      sum = (shift > floor ? sum * Math.exp(shift) : 0) + 1;
      max = value;
      index = i;
    } else {
      const exponent = value - max;
      if (exponent > floor) sum += expOfNonPositive(exponent);
    }
  }
  return { index, logSumExp: max === -Infinity ? -Infinity : max + Math.log(sum) };
}

/**
 * Indices of the k largest values, largest first (ties: lower index first). A size-k min-heap:
 * O(V + k log k) with a cheap threshold test for most entries.
 */
export function topKIndices(values: Float32Array, k: number): number[] {
  const n = Math.min(k, values.length);
  if (n <= 0) return [];
  const heap = new Int32Array(n);
  let size = 0;
  // Heap order: smaller value at the top; among equal values the higher index is "smaller" so it leaves first.
  const less = (i: number, j: number) => values[i] < values[j] || (values[i] === values[j] && i > j);
  const siftDown = (start: number) => {
    let pos = start;
    for (;;) {
      const left = 2 * pos + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && less(heap[right], heap[left]) ? right : left;
      if (!less(heap[child], heap[pos])) return;
      const tmp = heap[pos];
      heap[pos] = heap[child];
      heap[child] = tmp;
      pos = child;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (size < n) {
      let pos = size++;
      heap[pos] = i;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!less(heap[pos], heap[parent])) break;
        const tmp = heap[pos];
        heap[pos] = heap[parent];
        heap[parent] = tmp;
        pos = parent;
      }
    } else if (values[i] > values[heap[0]]) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return Array.from(heap.subarray(0, size)).sort((i, j) => values[j] - values[i] || i - j);
}

/**
 * Applies Hugging Face's repetition penalty in place: logits of tokens already seen are divided
 * by the penalty when positive, multiplied when negative.
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of seen) {
    if (id < 0 || id >= logits.length) continue;
    const value = logits[id];
    logits[id] = value > 0 ? value / penalty : value * penalty;
  }
}

export interface Candidate {
  readonly id: number;
  /** Probability after temperature, top-k and top-p, renormalized over the kept set. */
  readonly probability: number;
}

/**
 * The tokens sampling may pick and their probabilities, as Hugging Face's warpers compute them:
 * temperature, then top-k, then top-p over what top-k kept. Without top-k the candidate set
 * starts at 64 tokens and grows until it holds the top-p mass, so the full vocabulary is sorted
 * only for a flat distribution.
 */
export function samplingCandidates(logits: Float32Array, sampling: Pick<ResolvedSampling, 'temperature' | 'topK' | 'topP'>): Candidate[] {
  const inverseTemperature = 1 / sampling.temperature;
  const topP = sampling.topP > 0 && sampling.topP < 1 ? sampling.topP : 1;
  if (sampling.topK > 0) {
    const ids = topKIndices(logits, sampling.topK);
    const max = logits[ids[0]] * inverseTemperature;
    const weights = ids.map((id) => Math.exp(logits[id] * inverseTemperature - max));
    const total = weights.reduce((a, b) => a + b, 0);
    return nucleus(
      ids.map((id, i) => ({ id, probability: weights[i] / total })),
      topP,
    );
  }
  const logTotal = logSumExp(logits, inverseTemperature);
  if (topP === 1) {
    // Plain temperature sampling: every token is a candidate.
    const all: Candidate[] = new Array(logits.length);
    for (let id = 0; id < logits.length; id++) all[id] = { id, probability: Math.exp(logits[id] * inverseTemperature - logTotal) };
    return all;
  }
  for (let k = 64; ; k *= 4) {
    const ids = topKIndices(logits, k);
    let mass = 0;
    const candidates: Candidate[] = [];
    for (const id of ids) {
      const probability = Math.exp(logits[id] * inverseTemperature - logTotal);
      candidates.push({ id, probability });
      mass += probability;
      if (mass >= topP) return nucleus(candidates, 1);
    }
    if (ids.length >= logits.length) return nucleus(candidates, 1);
  }
}

/** Keeps the most likely candidates (sorted, largest first) whose mass reaches topP; renormalizes. */
function nucleus(sorted: Candidate[], topP: number): Candidate[] {
  let mass = 0;
  let keep = sorted.length;
  if (topP < 1) {
    for (let i = 0; i < sorted.length; i++) {
      mass += sorted[i].probability;
      if (mass >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  const kept = sorted.slice(0, Math.max(1, keep));
  const total = kept.reduce((sum, candidate) => sum + candidate.probability, 0);
  return kept.map((candidate) => ({ id: candidate.id, probability: candidate.probability / total }));
}

/** Draws from candidates with a uniform number in [0, 1). */
export function drawCandidate(candidates: readonly Candidate[], uniform: number): number {
  let cumulative = 0;
  for (const candidate of candidates) {
    cumulative += candidate.probability;
    if (uniform < cumulative) return candidate.id;
  }
  return candidates[candidates.length - 1].id;
}

/**
 * Picks the next token. `scratch` receives a copy of the logits when the repetition penalty has
 * to modify them (the raw logits stay intact for log-probabilities).
 */
export function pickToken(logits: Float32Array, sampling: ResolvedSampling, seen: ReadonlySet<number>, random: SeededRandom, scratch: Float32Array): number {
  let working = logits;
  if (sampling.repetitionPenalty !== 1 && seen.size > 0) {
    scratch.set(logits);
    working = scratch.subarray(0, logits.length);
    applyRepetitionPenalty(working, seen, sampling.repetitionPenalty);
  }
  if (sampling.temperature <= 0) return argmax(working);
  if (sampling.topK <= 0 && !(sampling.topP > 0 && sampling.topP < 1)) {
    // Plain temperature sampling: walk the cumulative distribution without building candidates.
    const inverseTemperature = 1 / sampling.temperature;
    const logTotal = logSumExp(working, inverseTemperature);
    const target = random.next();
    let cumulative = 0;
    const floor = -NEGLIGIBLE_LOG_RATIO;
    for (let id = 0; id < working.length; id++) {
      const exponent = working[id] * inverseTemperature - logTotal;
      if (exponent <= floor) continue;
      cumulative += expOfNonPositive(Math.min(0, exponent));
      if (target < cumulative) return id;
    }
    return argmax(working);
  }
  return drawCandidate(samplingCandidates(working, sampling), random.next());
}
