/**
 * What the editor shows of one attention result, computed without an editor: the row for the chosen
 * view (a layer and head, a layer's mean, or the mean of everything), the shading level of each
 * earlier token, stepping through layers and heads, and what each head looks at (the
 * heads-by-layers grid: previous token, itself, first token, start of line, matching bracket).
 */
import { attentionRow, type AttentionResult } from '../runtime/inspectTypes';

/** Which attention the editor shows: a layer (1-based) or all of them, a head or the mean. */
export interface AttentionSelection {
  readonly layer?: number;
  readonly head?: number;
}

export const SHADE_LEVELS = 5;

export function selectionLabel(selection: AttentionSelection): string {
  if (selection.layer === undefined) return 'all layers, mean of heads';
  return `layer ${selection.layer}, ${selection.head === undefined ? 'mean of heads' : `head ${selection.head}`}`;
}

/** The next layer (delta ±1): all layers → 1 → … → N → all layers. The head is kept. */
export function stepLayer(selection: AttentionSelection, delta: number, layers: number): AttentionSelection {
  const order = [undefined, ...Array.from({ length: layers }, (_, i) => i + 1)];
  const index = order.indexOf(selection.layer);
  const layer = order[(index + delta + order.length) % order.length];
  return layer === undefined ? {} : { layer, head: selection.head };
}

/** The next head (delta ±1): mean → 1 → … → H → mean; picks layer 1 when all layers were shown. */
export function stepHead(selection: AttentionSelection, delta: number, heads: number): AttentionSelection {
  const order = [undefined, ...Array.from({ length: heads }, (_, i) => i + 1)];
  const index = order.indexOf(selection.head);
  return { layer: selection.layer ?? 1, head: order[(index + delta + order.length) % order.length] };
}

export interface ShadedToken {
  readonly index: number;
  readonly weight: number;
  /** 1..SHADE_LEVELS, relative to the largest weight on an earlier token. */
  readonly level: number;
}

/** Earlier tokens worth shading (at least 1% of the weight), with their level; the cursor token itself is left out. */
export function shadedTokens(result: AttentionResult, selection: AttentionSelection, minWeight = 0.01): ShadedToken[] {
  const row = attentionRow(result, selection.layer, selection.head);
  const earlier = row.slice(0, result.position);
  // A loop, not Math.max(...earlier): a long window's row would overflow the call stack.
  const max = earlier.reduce((largest, weight) => (weight > largest ? weight : largest), 0);
  if (max <= 0) return [];
  return earlier.flatMap((weight, index) => (weight >= minWeight ? [{ index, weight, level: Math.max(1, Math.ceil((SHADE_LEVELS * weight) / max)) }] : []));
}

export type HeadRole = 'previous token' | 'itself' | 'first token' | 'start of line' | 'matching bracket' | 'spread out' | 'an earlier token';

export interface HeadSummary {
  readonly layer: number;
  readonly head: number;
  readonly role: HeadRole;
  /** The token it attends to most, and how much. */
  readonly target: number;
  readonly weight: number;
}

const OPENERS: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };

/** Index of the token holding the bracket that the cursor token's first closing bracket closes, if any. */
function matchingBracketToken(result: AttentionResult, text: string): number | undefined {
  const cursor = result.tokens[result.position];
  const closerAt = [...text.slice(cursor.start, cursor.end)].findIndex((char) => char in OPENERS);
  if (closerAt < 0) return undefined;
  const closer = text[cursor.start + closerAt];
  let depth = 0;
  for (let offset = cursor.start + closerAt - 1; offset >= result.tokens[0].start; offset--) {
    const char = text[offset];
    if (char === closer) depth++;
    else if (char === OPENERS[closer]) {
      if (depth === 0) return result.tokens.findIndex((token) => token.start <= offset && offset < token.end);
      depth--;
    }
  }
  return undefined;
}

/** The heads-by-layers grid: for each layer and head, where the cursor token looks most. `text` is what the token offsets index. */
export function summarizeHeads(result: AttentionResult, text: string): HeadSummary[][] {
  const bracket = matchingBracketToken(result, text);
  const lineStart = (index: number) => index > 0 && /\n\s*$/.test(text.slice(result.tokens[index - 1].start, result.tokens[index - 1].end)) && index;
  return result.weights.map((heads, layerIndex) =>
    heads.map((row, headIndex) => {
      let target = 0;
      for (let i = 1; i <= result.position; i++) if (row[i] > row[target]) target = i;
      const weight = row[target];
      const role: HeadRole =
        weight < 0.2
          ? 'spread out'
          : target === result.position
            ? 'itself'
            : target === result.position - 1
              ? 'previous token'
              : target === bracket
                ? 'matching bracket'
                : target === 0
                  ? 'first token'
                  : lineStart(target) === target
                    ? 'start of line'
                    : 'an earlier token';
      return { layer: layerIndex + 1, head: headIndex + 1, role, target, weight };
    }),
  );
}
