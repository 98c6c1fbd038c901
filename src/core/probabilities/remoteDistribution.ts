/**
 * The next-token distribution from what an OpenAI-compatible server sends: at most 20 alternatives
 * with their log-probabilities (`logprobs` / `top_logprobs`), not the whole vocabulary. What can be
 * shown exactly from that is shown; what cannot is refused with the reason, never guessed: a
 * temperature other than 1 needs every token's logit; a top-k above the alternatives sent, or a
 * top-p whose nucleus reaches past them, needs tokens the server did not send.
 */
import { checkReshaping, type Reshaping } from './distribution';

export interface RemoteAlternative {
  readonly text: string;
  /** ln p as the server reports it (temperature 1). */
  readonly logprob: number;
}

export interface RemoteToken {
  readonly text: string;
  readonly logprob: number;
  readonly probability: number;
  readonly excluded: boolean;
}

export interface RemoteDistribution extends Reshaping {
  readonly tokens: readonly RemoteToken[];
  /** Mass of every token the server did not send (or sampling's chance of one, after top-k / top-p). */
  readonly otherProbability: number;
}

/** Why a re-shaping cannot be shown from `sent` alternatives, or undefined when it can. */
export function remoteReshapingProblem(reshaping: Reshaping, alternatives: readonly RemoteAlternative[]): string | undefined {
  const { temperature, topP, topK } = checkReshaping(reshaping);
  if (temperature !== 1 && temperature !== 0) return `a server sends only the ${alternatives.length} most likely tokens, and temperature ${temperature} re-weighs every token of the vocabulary: only temperature 1 (the model's own distribution) or 0 (greedy) can be shown`;
  if (topK > alternatives.length) return `top-k ${topK} needs the ${topK} most likely tokens, and the server sent ${alternatives.length}`;
  if (topP < 1) {
    const mass = alternatives.slice(0, topK > 0 ? topK : undefined).reduce((sum, alt) => sum + Math.exp(alt.logprob), 0);
    if (topK === 0 && mass < topP) return `the top-p ${topP} nucleus reaches past the ${alternatives.length} tokens the server sent (they hold ${(mass * 100).toFixed(1)}%)`;
  }
  return undefined;
}

/** The shown distribution over the server's alternatives (most likely first); throws RangeError with the reason where it cannot be exact. */
export function remoteDistribution(sent: readonly RemoteAlternative[], reshaping: Reshaping): RemoteDistribution {
  const alternatives = sent.slice().sort((a, b) => b.logprob - a.logprob);
  const problem = remoteReshapingProblem(reshaping, alternatives);
  if (problem) throw new RangeError(problem);
  const { temperature, topP, topK } = reshaping;
  const raw = alternatives.map((alt) => Math.exp(alt.logprob));
  let kept = alternatives.length;
  let restKept = true;
  if (temperature === 0) {
    kept = 1;
    restKept = false;
  } else {
    if (topK > 0) {
      kept = topK;
      restKept = false;
    }
    if (topP < 1) {
      // Top-k first, then the nucleus over what it kept, renormalized (as sampling.ts).
      const base = raw.slice(0, kept).reduce((a, b) => a + b, 0);
      let mass = 0;
      for (let i = 0; i < kept; i++) {
        mass += raw[i] / (restKept ? 1 : base);
        if (mass >= topP) {
          kept = i + 1;
          break;
        }
      }
      restKept = false;
    }
  }
  // Without any cut the unsent tokens keep their own mass; with one, sampling's chances renormalize over the kept.
  const total = restKept ? 1 : raw.slice(0, kept).reduce((a, b) => a + b, 0);
  const tokens = alternatives.map((alt, i) => ({ text: alt.text, logprob: alt.logprob, probability: i < kept ? raw[i] / total : 0, excluded: i >= kept }));
  const shown = tokens.reduce((sum, token) => sum + token.probability, 0);
  return { temperature, topP, topK, tokens, otherProbability: Math.max(0, 1 - shown) };
}
