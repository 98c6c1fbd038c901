/**
 * The one message protocol between the "What comes next?" panel (media/nextToken) and the extension
 * (src/vscode/probabilities/nextTokenPanel.ts). The extension sends the whole view state after each
 * change; the panel sends what the user does. Messages from the panel are checked on arrival.
 */
import type { BarRow } from '../probabilities/bars';
import type { Reshaping } from '../probabilities/distribution';

export interface NextTokenViewState {
  readonly modelLabel: string;
  /** The end of the text before the cursor, whitespace visible: what the model continues. */
  readonly contextTail: string;
  readonly reshaping: Reshaping;
  /** Seed of the next "Sample one". */
  readonly seed: number;
  /** Tokens inserted from this panel so far, whitespace visible, oldest first. */
  readonly steps: readonly string[];
  readonly rows: readonly BarRow[];
  readonly other: string;
  readonly candidates: string;
  readonly busy: boolean;
  /** What went wrong (no model, empty prompt, the editor closed), for the user. */
  readonly notice?: string;
  /** The last sample: its token and seed. */
  readonly lastSample?: { readonly label: string; readonly seed: number };
  /** Milliseconds the last refresh took, request to answer (extension side). */
  readonly refreshMs?: number;
}

export type NextTokenToWebview = { readonly type: 'state'; readonly state: NextTokenViewState };

export type NextTokenFromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'reshape'; readonly reshaping: Reshaping }
  | { readonly type: 'choose'; readonly id: number }
  | { readonly type: 'sample'; readonly seed: number }
  | { readonly type: 'greedy' };

const isNumber = (value: unknown, min: number, max: number): value is number => typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;

function isReshaping(value: unknown): value is Reshaping {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return isNumber(r.temperature, 0, 100) && isNumber(r.topP, Number.MIN_VALUE, 1) && isNumber(r.topK, 0, 1_000_000) && Number.isInteger(r.topK);
}

/** Messages from a webview are untrusted input: check the shape before acting on them. */
export function isNextTokenFromWebview(value: unknown): value is NextTokenFromWebview {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready':
    case 'greedy':
      return true;
    case 'reshape':
      return isReshaping(message.reshaping);
    case 'choose':
      return isNumber(message.id, 0, 10_000_000) && Number.isInteger(message.id);
    case 'sample':
      return isNumber(message.seed, 0, 2 ** 31 - 1) && Number.isInteger(message.seed);
    default:
      return false;
  }
}
