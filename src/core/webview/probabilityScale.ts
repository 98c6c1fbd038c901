/**
 * The confidence scale ("how likely the model found this token") as the pages and webviews that
 * tint tokens draw it (Sample Side by Side, the chat's probability view): the editor's confidence
 * colouring's own steps and theme colours (src/core/probabilities/bars.ts, package.json's
 * `tokenscope.confidence0Background`..`4`), so a token has the same colour everywhere. Each band is
 * a CSS class `p0` (sure) .. `p4` (unsure).
 */
import { CONFIDENCE_STEPS, confidenceLevel, formatPercent } from '../probabilities/bars';

export { formatPercent };

const levels = CONFIDENCE_STEPS.length + 1;

/** The bands, sure first: `≥ 90%`, `60-90%`, `30-60%`, `10-30%`, `< 10%`. */
export const probabilityBands: readonly { readonly label: string }[] = Array.from({ length: levels }, (_, band) => {
  const level = levels - 1 - band;
  const low = CONFIDENCE_STEPS[level - 1];
  const high = CONFIDENCE_STEPS[level];
  const percent = (value: number) => `${Math.round(value * 100)}%`;
  return { label: high === undefined ? `≥ ${percent(low!)}` : low === undefined ? `< ${percent(high)}` : `${percent(low)}-${percent(high)}` };
});

/** The band (0 = sure, 4 = unsure) of a probability: the confidence level read the other way round. */
export function probabilityBand(probability: number): number {
  return levels - 1 - confidenceLevel(probability);
}

/** The tints, in CSS: the theme colours the editor's confidence colouring uses. */
export const probabilityBandCss = Array.from({ length: levels }, (_, band) => `.p${band} { background: var(--vscode-tokenscope-confidence${levels - 1 - band}Background); }`).join('\n');

/** A token's text with whitespace and control characters made visible (a lone newline is `\n`). */
export function visibleTokenText(text: string): string {
  return text.length === 0 ? '∅' : JSON.stringify(text).slice(1, -1);
}
