/**
 * Answers inspection requests (inspectTypes.ts) from an inspector's raw outputs: tokenizes the text
 * with offsets, picks the window the model runs over, turns lens logits into top tokens with
 * probabilities, looks up embeddings and their nearest tokens. No ONNX Runtime here: the inspector
 * is given as the interface it offers.
 */
import type { ModelTokenizer } from '../tokenizers/types';
import type { EmbeddingIndex } from './embeddings';
import type { AttentionRequest, InspectTokenSpan, AttentionResult, InspectRequest, InspectResult, LensRequest, LensResult, NeighboursRequest, NeighboursResult } from './inspectTypes';
import { logSumExp, topKIndices } from './sampling';

export interface Inspector {
  run(ids: readonly number[], position: number): Promise<{
    readonly heads: number;
    readonly attention: readonly Float32Array[];
    readonly lens: readonly Float32Array[];
    readonly attentionUnavailable?: string;
    readonly lensUnavailable?: string;
  }>;
  embeddingIndex(): Promise<EmbeddingIndex>;
}

export interface InspectionContext {
  readonly inspector: Inspector;
  readonly tokenizer: ModelTokenizer;
  readonly numLayers: number;
  readonly contextLength: number;
}

/** Tokens after the cursor token kept in the attention window (they show that no weight goes to them). */
const AFTER_CURSOR = 16;
const round = (value: number, digits = 6) => Number(value.toFixed(digits));

export async function answerInspection(context: InspectionContext, request: InspectRequest): Promise<InspectResult> {
  if (request.kind === 'attention') return attention(context, request);
  if (request.kind === 'lens') return lens(context, request);
  return neighbours(context, request);
}

async function attention(context: InspectionContext, request: AttentionRequest): Promise<AttentionResult> {
  const started = performance.now();
  const spans = context.tokenizer.encodeWithOffsets(request.text);
  if (spans.length === 0) throw new RangeError('There is no text to run the model over.');
  let cursor = spans.findIndex((span) => span.end > request.offset);
  if (cursor < 0) cursor = spans.length - 1;
  const room = context.contextLength - 1;
  const after = Math.min(spans.length - 1 - cursor, AFTER_CURSOR);
  const first = Math.max(0, cursor + after + 1 - room);
  const window = spans.slice(first, cursor + after + 1);
  const position = cursor - first;
  const run = await context.inspector.run(window.map((span) => span.id), position);
  const n = window.length;
  const weights = run.attention.map((rows) => Array.from({ length: run.heads }, (_, head) => Array.from(rows.subarray(head * n, (head + 1) * n), (value) => round(value))));
  return {
    kind: 'attention',
    layers: context.numLayers,
    heads: run.heads,
    tokens: window.map((span) => ({ id: span.id, start: span.start, end: span.end })),
    position,
    weights,
    ...(run.attentionUnavailable ? { unavailable: run.attentionUnavailable } : {}),
    elapsedMs: round(performance.now() - started, 2),
  };
}

async function lens(context: InspectionContext, request: LensRequest): Promise<LensResult> {
  const started = performance.now();
  const allIds = context.tokenizer.encode(request.prompt);
  if (allIds.length === 0) throw new RangeError('The prompt is empty: give the model at least one token of text.');
  const ids = allIds.slice(-(context.contextLength - 1));
  const run = await context.inspector.run(ids, ids.length - 1);
  const top = Math.max(1, Math.min(50, Math.floor(request.top ?? 5)));
  const layers = run.lens.map((logits, index) => {
    const total = logSumExp(logits);
    return { layer: index + 1, tokens: topKIndices(logits, top).map((id) => ({ id, text: context.tokenizer.decode([id]), probability: round(Math.exp(logits[id] - total)) })) };
  });
  return { kind: 'lens', layers, promptTokens: ids.length, ...(run.lensUnavailable ? { unavailable: run.lensUnavailable } : {}), elapsedMs: round(performance.now() - started, 2) };
}

/** The id of a token's text: a vocabulary entry as it is, else the first token the text encodes to. */
function tokenOf(tokenizer: ModelTokenizer, token: string): { id: number; encodedAs?: number[] } {
  const ids = tokenizer.encode(token);
  if (ids.length === 1) return { id: ids[0] };
  const direct = tokenizer.tokenToId(token) ?? tokenizer.specialTokens.get(token);
  if (direct !== undefined) return { id: direct };
  if (ids.length === 0) throw new RangeError('Give a token: the text is empty.');
  return { id: ids[0], encodedAs: ids };
}

async function neighbours(context: InspectionContext, request: NeighboursRequest): Promise<NeighboursResult> {
  const started = performance.now();
  const index = await context.inspector.embeddingIndex();
  let span: InspectTokenSpan | undefined;
  if (request.at) {
    const at = request.at.offset;
    span = context.tokenizer.encodeWithOffsets(request.at.text).find((token) => token.start <= at && at < token.end);
    if (!span) throw new RangeError('There is no token at that position.');
  }
  const { id, encodedAs } = span ? { id: span.id, encodedAs: undefined } : tokenOf(context.tokenizer, request.token);
  const vector = index.vector(id);
  const top = Math.max(1, Math.min(100, Math.floor(request.top ?? 10)));
  const nearest = index.nearest(vector, top, new Set([id]));
  return {
    kind: 'neighbours',
    token: context.tokenizer.decode([id]),
    id,
    vector: Array.from(vector.subarray(0, 8), (value) => round(value, 4)),
    norm: round(index.norm(id), 4),
    dimensions: index.matrix.dims,
    storage: index.matrix.storage,
    ...(encodedAs ? { encodedAs } : {}),
    ...(span ? { span: { id: span.id, start: span.start, end: span.end } } : {}),
    neighbours: nearest.map((entry) => ({ id: entry.id, text: context.tokenizer.decode([entry.id]), cosine: round(entry.cosine, 4) })),
    elapsedMs: round(performance.now() - started, 2),
  };
}
