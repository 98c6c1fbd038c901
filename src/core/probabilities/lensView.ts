/**
 * What the surprise lens and confidence colouring draw, computed without an editor: the coloured
 * spans of scored tokens (a level per token, offsets in the document), which scores survive an
 * edit (a causal model's score of a token before the edit stands; everything from the edit on is
 * stale), and the hovers as Markdown: probability, log-probability, bits, and what the model
 * expected instead, as bars.
 */
import type { GeneratedTokenScores } from '../completions/types';
import { visibleWhitespace } from '../tokenizers/display';
import { codeSpan } from '../tokenLens/hoverMarkdown';
import { confidenceLevel, formatPercent, surpriseLevel } from './bars';
import { surprisalBits } from './distribution';
import type { ScoredSpan } from './modelProbabilities';

/** An alternative as the hovers show it. */
export interface ShownAlternative {
  readonly text: string;
  /** Whitespace visible. */
  readonly display: string;
  readonly logprob: number;
}

/** A scored token placed in a document: offsets are the document's (the scored text's + `base`). */
export interface PlacedScore {
  readonly start: number;
  readonly end: number;
  readonly logprob: number;
  /** The alternatives the model gave at this position. */
  readonly top: readonly ShownAlternative[];
}

export function placeScores(tokens: readonly ScoredSpan[], base: number): PlacedScore[] {
  return tokens.filter((token) => token.end > token.start).map((token) => ({ start: base + token.start, end: base + token.end, logprob: token.logprob, top: token.top }));
}

/**
 * An accepted completion's token scores placed in the document, where `text` (what was inserted)
 * starts at `insertStart`: the end of what was generated when typing along accepted only its rest.
 */
export function acceptedScores(text: string, scores: GeneratedTokenScores | undefined, insertStart: number): PlacedScore[] {
  if (!scores || !scores.generated.endsWith(text)) return [];
  const skipped = scores.generated.length - text.length;
  return scores.tokens
    .filter((token) => token.start >= skipped && token.end > token.start)
    .map((token) => ({ start: insertStart + token.start - skipped, end: insertStart + token.end - skipped, logprob: token.logprob, top: token.top.map((alt) => ({ text: alt.text, display: visibleWhitespace(alt.text), logprob: alt.logprob })) }));
}

/**
 * Scores after an edit of [start, start + removed) that inserted `inserted` characters: those the
 * edit touches are dropped (edited away), those after it move with the text.
 */
export function scoresAfterEdit(scores: readonly PlacedScore[], start: number, removed: number, inserted: number): PlacedScore[] {
  const end = start + removed;
  const shift = inserted - removed;
  const kept: PlacedScore[] = [];
  for (const score of scores) {
    if (score.end <= start) kept.push(score);
    else if (score.start >= end) kept.push({ ...score, start: score.start + shift, end: score.end + shift });
  }
  return kept;
}

/** The scores an edit at `editStart` leaves valid: tokens that end before it. */
export function scoresBefore(scores: readonly PlacedScore[], editStart: number): PlacedScore[] {
  return scores.filter((score) => score.end <= editStart);
}

/** Offsets to colour per level (index = level), for the surprise scale (bits) or the confidence scale (probability). */
export function spansByLevel(scores: readonly PlacedScore[], scale: 'surprise' | 'confidence', levels = 5): { start: number; end: number }[][] {
  const byLevel: { start: number; end: number }[][] = Array.from({ length: levels }, () => []);
  for (const score of scores) {
    const level = scale === 'surprise' ? surpriseLevel(surprisalBits(score.logprob)) : confidenceLevel(Math.exp(score.logprob));
    byLevel[Math.min(levels - 1, level)].push({ start: score.start, end: score.end });
  }
  return byLevel;
}

/** The score under an offset (binary search; scores are sorted by start and do not overlap). */
export function scoreAt(scores: readonly PlacedScore[], offset: number): PlacedScore | undefined {
  let low = 0;
  let high = scores.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const score = scores[mid];
    if (offset < score.start) high = mid - 1;
    else if (offset >= score.end) low = mid + 1;
    else return score;
  }
  return undefined;
}

const BAR_CELLS = 20;

function bar(probability: number): string {
  const cells = Math.round(Math.max(0, Math.min(1, probability)) * BAR_CELLS);
  return `${'█'.repeat(cells)}${'░'.repeat(BAR_CELLS - cells)}`;
}

function alternativesTable(top: readonly ShownAlternative[], actualText: string): string {
  if (top.length === 0) return '';
  const rows = top.map((alt) => `| ${codeSpan(alt.display || '(empty)').replace(/\|/g, '\\|')}${alt.text === actualText ? ' ✓' : ''} | \`${bar(Math.exp(alt.logprob))}\` | ${formatPercent(Math.exp(alt.logprob))} |`);
  return `| Token | | p |\n|---|---|---:|\n${rows.join('\n')}\n`;
}

/** The surprise lens's hover over a token of existing code. */
export function surpriseHoverMarkdown(score: PlacedScore, tokenText: string, tokenDisplay: string): string {
  const probability = Math.exp(score.logprob);
  const bits = surprisalBits(score.logprob);
  const verdict = bits <= 2 ? 'what the model expected' : bits <= 9 ? 'somewhat surprising to the model' : 'very surprising to the model: where it would likely not have written this';
  const expected = score.top.length > 0 ? `**The model expected:**\n\n${alternativesTable(score.top, tokenText)}` : '';
  return `**Surprise** ${codeSpan(tokenDisplay || '(empty)')}: **${bits.toFixed(1)} bits**, ${verdict}\n\np = ${formatPercent(probability)} · logprob ${score.logprob.toFixed(3)}\n\n${expected}`;
}

/** The colour scale of confidence colouring, in words (the hover's legend). */
export const CONFIDENCE_LEGEND = 'Colours: red < 10% · orange 10-30% · yellow 30-60% · light green 60-90% · green ≥ 90%';

/** Confidence colouring's hover over a generated token. */
export function confidenceHoverMarkdown(score: PlacedScore, tokenText: string, tokenDisplay: string): string {
  const probability = Math.exp(score.logprob);
  return `**Generated token** ${codeSpan(tokenDisplay || '(empty)')}: the model gave it **${formatPercent(probability)}** · logprob ${score.logprob.toFixed(3)} · ${surprisalBits(score.logprob).toFixed(1)} bits\n\n**Top alternatives at this step:**\n\n${alternativesTable(score.top, tokenText)}\n${CONFIDENCE_LEGEND}`;
}
