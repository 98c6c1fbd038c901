/**
 * What the model's next-token distribution looks like after the sampling settings re-shape it:
 * the shown tokens' probabilities (temperature, then top-k, then top-p, as sampling.ts samples),
 * which of them sampling could never pick (`excluded`), and the mass of every token not shown
 * ("other tokens: x%"), so that the shown and the hidden always sum to 1. The candidate set is
 * sampling.ts's own (`samplingCandidates`): what is shown as allowed is exactly what is drawn.
 * Also surprisal in bits, the unit of the surprise lens.
 */
import { argmax, logSumExp, pickToken, samplingCandidates, SeededRandom, topKIndices, type ResolvedSampling } from '../runtime/sampling';

/** The sampling settings that change the distribution (the repetition penalty is not one of them here). */
export interface Reshaping {
  /** 0: greedy (all mass on the most likely token). */
  readonly temperature: number;
  /** 1: off. */
  readonly topP: number;
  /** 0: off. */
  readonly topK: number;
}

export interface ShownToken {
  readonly id: number;
  /** Natural log of the model's own probability (softmax of the raw logits, temperature 1). */
  readonly logprob: number;
  /** The chance sampling picks it with these settings (0 where excluded). */
  readonly probability: number;
  /** Its probability after the temperature alone, before top-k / top-p cut (what a greyed bar shows). */
  readonly temperedProbability: number;
  /** Sampling with these settings can never pick it (cut by top-k, top-p, or greedy). */
  readonly excluded: boolean;
}

export interface Distribution extends Reshaping {
  /** Most likely first. */
  readonly tokens: readonly ShownToken[];
  /** Sampling's chance of a token not shown: 1 - the shown `probability`s (never below 0). */
  readonly otherProbability: number;
  /** Tokens sampling may pick (the size of the kept set). */
  readonly candidates: number;
  readonly vocabularySize: number;
}

export const DEFAULT_SHOWN_TOKENS = 20;

/** Checks reshaping settings as `resolveSampling` would (RangeError with the setting's name). */
export function checkReshaping(reshaping: Reshaping): Reshaping {
  const { temperature, topP, topK } = reshaping;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be 0 or more, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${topP}`);
  if (!(topK >= 0) || !Number.isInteger(topK)) throw new RangeError(`topK must be a whole number >= 0, got ${topK}`);
  return { temperature, topP, topK };
}

/**
 * The `shown` most likely tokens of `logits` and their probabilities under `reshaping`. Costs two
 * passes over the vocabulary and a partial selection; the full vocabulary is only walked token by
 * token where top-p keeps most of a flat distribution (as sampling does).
 */
export function reshapeDistribution(logits: Float32Array, reshaping: Reshaping, shown = DEFAULT_SHOWN_TOKENS): Distribution {
  const { temperature, topP, topK } = checkReshaping(reshaping);
  const vocabularySize = logits.length;
  const ids = topKIndices(logits, Math.max(1, Math.min(shown, vocabularySize)));
  const logTotal = logSumExp(logits, 1, logits[ids[0]]);
  const logprob = (id: number) => logits[id] - logTotal;
  let probabilityOf: (id: number) => number;
  let temperedOf: (id: number) => number;
  let candidates: number;
  if (temperature <= 0) {
    // Greedy: the most likely token always (first on ties, as argmax picks).
    const best = argmax(logits);
    probabilityOf = (id) => (id === best ? 1 : 0);
    temperedOf = probabilityOf;
    candidates = 1;
  } else {
    const inverse = 1 / temperature;
    const logTempered = logSumExp(logits, inverse, logits[ids[0]]);
    temperedOf = (id) => Math.exp(logits[id] * inverse - logTempered);
    if (topK > 0 || topP < 1) {
      const kept = new Map(samplingCandidates(logits, { temperature, topK, topP }).map((candidate) => [candidate.id, candidate.probability]));
      probabilityOf = (id) => kept.get(id) ?? 0;
      candidates = kept.size;
    } else {
      probabilityOf = temperedOf;
      candidates = vocabularySize;
    }
  }
  const tokens = ids.map((id): ShownToken => {
    const probability = probabilityOf(id);
    return { id, logprob: logprob(id), probability, temperedProbability: temperedOf(id), excluded: probability <= 0 };
  });
  const shownMass = tokens.reduce((sum, token) => sum + token.probability, 0);
  return { temperature, topP, topK, tokens, otherProbability: Math.max(0, 1 - shownMass), candidates, vocabularySize };
}

/**
 * One token drawn as generation would draw it with these settings and this seed (`pickToken`, no
 * repetition penalty): the same seed gives the same token.
 */
export function sampleToken(logits: Float32Array, reshaping: Reshaping, seed: number): number {
  const { temperature, topP, topK } = checkReshaping(reshaping);
  const sampling: ResolvedSampling = { temperature, topP, topK, repetitionPenalty: 1, seed };
  return pickToken(logits, sampling, new Set(), new SeededRandom(seed), new Float32Array(0));
}

/** −log₂ p: how surprised the model is by a token whose natural-log probability is `logprob`. */
export function surprisalBits(logprob: number): number {
  // max: a certain token is 0 bits, not -0.
  return Math.max(0, -logprob / Math.LN2);
}
