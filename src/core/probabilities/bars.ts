/**
 * How probabilities are drawn: the rows of the "What comes next?" bars (labels with whitespace
 * visible, percentages that never round a real chance to a plain 0 or 100, widths, the greyed
 * excluded rows and the "other tokens" row), and the colour scales of the surprise lens (bits) and
 * of confidence colouring (probability): a few steps, each a theme colour in package.json.
 */
import type { NextTokenResult } from './modelProbabilities';

export interface BarRow {
  readonly id: number;
  /** The token with whitespace and control characters visible; `(empty)` where it has no text. */
  readonly label: string;
  /** Sampling's chance with the current settings, as shown (`12.3%`, `<0.1%`, `0%` only when excluded). */
  readonly percent: string;
  /** Bar width in percent of the row: the sampling chance, or the tempered chance greyed out where excluded. */
  readonly width: number;
  readonly excluded: boolean;
  /** Hover text: both probabilities and the model's own logprob. */
  readonly title: string;
}

export interface BarsView {
  readonly rows: readonly BarRow[];
  /** `other tokens: 4.2%`: what the rows do not show, so rows + other = 100%. */
  readonly other: string;
  /** `12 of 8192 tokens can be sampled`. */
  readonly candidates: string;
}

/** A probability as a percentage that keeps "possible but rare" and "certain" apart from 0 and 100. */
export function formatPercent(probability: number): string {
  if (probability <= 0) return '0%';
  if (probability >= 1) return '100%';
  const percent = probability * 100;
  if (percent < 0.1) return '<0.1%';
  if (percent > 99.9) return '>99.9%';
  return `${percent.toFixed(1)}%`;
}

export function barsView(result: Pick<NextTokenResult, 'tokens' | 'otherProbability' | 'candidates' | 'vocabularySize'>): BarsView {
  const rows = result.tokens.map((token): BarRow => {
    const width = Math.round((token.excluded ? token.temperedProbability : token.probability) * 1000) / 10;
    const own = formatPercent(Math.exp(token.logprob));
    return {
      id: token.id,
      label: token.display.length > 0 ? token.display : '(empty)',
      percent: formatPercent(token.probability),
      width,
      excluded: token.excluded,
      title: token.excluded
        ? `Excluded by the sampling settings (would be ${formatPercent(token.temperedProbability)} after the temperature alone; the model's own: ${own}, logprob ${token.logprob.toFixed(3)})`
        : `${formatPercent(token.probability)} with these settings; the model's own: ${own} (logprob ${token.logprob.toFixed(3)})`,
    };
  });
  return {
    rows,
    other: `other tokens: ${formatPercent(result.otherProbability)}`,
    candidates: `${result.candidates.toLocaleString('en-US')} of ${result.vocabularySize.toLocaleString('en-US')} tokens can be sampled`,
  };
}

/** Steps of the surprise scale, in bits: up to 2 (expected), 5, 9, 14, more (very surprising). */
export const SURPRISE_STEPS_BITS = [2, 5, 9, 14] as const;

/** 0 (expected) .. 4 (very surprising) for a surprisal in bits. */
export function surpriseLevel(bits: number): number {
  let level = 0;
  while (level < SURPRISE_STEPS_BITS.length && bits > SURPRISE_STEPS_BITS[level]) level++;
  return level;
}

/** Steps of the confidence scale, in probability: below 10%, 30%, 60%, 90%, and above. */
export const CONFIDENCE_STEPS = [0.1, 0.3, 0.6, 0.9] as const;

/** 0 (unsure) .. 4 (sure) for a token's probability. */
export function confidenceLevel(probability: number): number {
  let level = 0;
  while (level < CONFIDENCE_STEPS.length && probability >= CONFIDENCE_STEPS[level]) level++;
  return level;
}
