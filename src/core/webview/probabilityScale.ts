/**
 * The one colour scale for "how likely the model found this token", shared by every page and view
 * that tints tokens (Sample Side by Side, the chat's probability view): five bands from sure to
 * surprised, each a CSS class `p0`..`p4` whose tint the page mixes from the theme's chart colours.
 */

export const probabilityBands: readonly { readonly min: number; readonly label: string }[] = [
  { min: 0.9, label: '≥ 90%' },
  { min: 0.5, label: '50-90%' },
  { min: 0.2, label: '20-50%' },
  { min: 0.05, label: '5-20%' },
  { min: 0, label: '< 5%' },
];

/** The band (0 = sure, 4 = surprised) of a probability. */
export function probabilityBand(probability: number): number {
  const band = probabilityBands.findIndex((candidate) => probability >= candidate.min);
  return band < 0 ? probabilityBands.length - 1 : band;
}

/** The tints, in CSS: mixed from the theme's own chart colours, so every theme keeps its contrast. */
export const probabilityBandCss = `.p0 { background: color-mix(in srgb, var(--vscode-charts-green) 22%, transparent); }
.p1 { background: color-mix(in srgb, var(--vscode-charts-green) 10%, transparent); }
.p2 { background: color-mix(in srgb, var(--vscode-charts-yellow) 28%, transparent); }
.p3 { background: color-mix(in srgb, var(--vscode-charts-orange) 35%, transparent); }
.p4 { background: color-mix(in srgb, var(--vscode-charts-red) 40%, transparent); }`;

/** A probability as a short percentage: 43%, 4.2%, 0.031%. */
export function formatProbability(probability: number): string {
  const value = probability * 100;
  return value >= 10 || value === 0 ? `${value.toFixed(0)}%` : value >= 1 ? `${value.toFixed(1)}%` : `${value.toPrecision(2)}%`;
}

/** A token's text with whitespace and control characters made visible (a lone newline is `\n`). */
export function visibleTokenText(text: string): string {
  return text.length === 0 ? '∅' : JSON.stringify(text).slice(1, -1);
}
