/**
 * What an inspection of the model asks and answers (attention, logit lens, embeddings): plain JSON,
 * so the same types cross the model-process RPC and come out of the CLI. Layers and heads are
 * numbered from 1 here, as people count them (layer 1 is the first, the last is the output).
 */

export interface InspectTokenSpan {
  readonly id: number;
  /** UTF-16 offsets into the text of the request. */
  readonly start: number;
  readonly end: number;
}

export interface AttentionRequest {
  readonly kind: 'attention';
  /** The text the tokens come from (a window of the document). */
  readonly text: string;
  /** UTF-16 offset of the cursor in `text`: the token covering it is the one whose attention is shown. */
  readonly offset: number;
}

export interface AttentionResult {
  readonly kind: 'attention';
  readonly layers: number;
  readonly heads: number;
  /** The tokens the model ran over (the cursor token and what precedes it, a few after it). */
  readonly tokens: readonly InspectTokenSpan[];
  /** Index in `tokens` of the cursor token. */
  readonly position: number;
  /** [layer][head][token]: how much the cursor token attends to each token (each row sums to 1, 0 after `position`). Empty when unavailable. */
  readonly weights: readonly (readonly (readonly number[])[])[];
  /** Why the weights are missing (fused attention exports). */
  readonly unavailable?: string;
  readonly elapsedMs: number;
}

export interface LensRequest {
  readonly kind: 'lens';
  readonly prompt: string;
  /** Tokens per layer (default 5). */
  readonly top?: number;
}

export interface LensToken {
  readonly id: number;
  readonly text: string;
  readonly probability: number;
}

export interface LensResult {
  readonly kind: 'lens';
  /** From layer 1 to the output (the last layer's prediction is the model's own). */
  readonly layers: readonly { readonly layer: number; readonly tokens: readonly LensToken[] }[];
  readonly promptTokens: number;
  readonly unavailable?: string;
  readonly elapsedMs: number;
}

export interface NeighboursRequest {
  readonly kind: 'neighbours';
  /** Text of a token (or any text: its first token is used). Ignored when `at` is given. */
  readonly token: string;
  /** The token covering `offset` in `text`, as the model tokenizes the text (the editor's hover). */
  readonly at?: { readonly text: string; readonly offset: number };
  /** Neighbours to return (default 10). */
  readonly top?: number;
}

export interface NeighboursResult {
  readonly kind: 'neighbours';
  readonly token: string;
  readonly id: number;
  /** The first 8 numbers of the embedding vector. */
  readonly vector: readonly number[];
  readonly norm: number;
  readonly dimensions: number;
  /** How the export stores the matrix (it is dequantized to float32 for this). */
  readonly storage: string;
  /** The ids `token` encodes to, when it is more than one token (the first one is shown). */
  readonly encodedAs?: readonly number[];
  /** With `at`: where the token is in the text. */
  readonly span?: InspectTokenSpan;
  readonly neighbours: readonly { readonly id: number; readonly text: string; readonly cosine: number }[];
  readonly elapsedMs: number;
}

export type InspectRequest = AttentionRequest | LensRequest | NeighboursRequest;
export type InspectResult = AttentionResult | LensResult | NeighboursResult;
export type InspectResultFor<R extends InspectRequest> = R extends AttentionRequest ? AttentionResult : R extends LensRequest ? LensResult : NeighboursResult;

/**
 * Characters before the cursor worth sending for a model with this context: 8 per token is more
 * than code averages (3-4), so the window fills the context; the model process keeps the last
 * tokens that fit. Tokenizing a whole 32 KB window on every cursor move would cost more than the
 * forward pass of a 512-token model.
 */
export const charsBefore = (contextLength?: number): number => Math.min(32_000, 8 * (contextLength ?? 4_000));

/**
 * The part of a long document an attention request sends: enough text before the cursor to fill
 * the context window (`charsBefore`) and a little after it. `base` is where the window starts in
 * the document, to map token offsets back.
 */
export function attentionWindow(text: string, offset: number, contextLength?: number, after = 400): { readonly text: string; readonly offset: number; readonly base: number } {
  const base = Math.max(0, offset - charsBefore(contextLength));
  return { text: text.slice(base, Math.min(text.length, offset + after)), offset: offset - base, base };
}

/** One row of attention weights for a layer and head (1-based), or the mean over heads (and layers) left undefined. */
export function attentionRow(result: AttentionResult, layer?: number, head?: number): number[] {
  const layers = layer === undefined ? result.weights : [result.weights[layer - 1]];
  const rows = layers.flatMap((heads) => (head === undefined ? heads : [heads[head - 1]]));
  const out = new Array<number>(result.tokens.length).fill(0);
  for (const row of rows) for (let i = 0; i < out.length; i++) out[i] += row[i] / rows.length;
  return out;
}
