/**
 * One model request of the completion pipeline: the prompt is built (templating, in the tokenizer
 * worker or on this thread), the answer streams until its shape is complete, and post-processing
 * cuts it to what is inserted. Every request ends in a record, and a non-speculative one in
 * `onRequestEnd`, whatever happens.
 */
import { isAbortError, SupersededError, type GenerateSummary } from './backend';
import type { CostEstimator } from '../pricing/cost';
import { defaultPromptBudget } from './defaults';
import { noteSync, type EngineStats } from './engineStats';
import type { ExtraContextBuffer } from './extraContext';
import { completionShape, cutRepetition, postProcess, shapeCompletion, type CursorContext } from './postProcess';
import type { LocalWindow } from './promptBuilder';
import type { CacheEntry } from './suggestionCache';
import type { CompletionModel, CompletionRecord, CompletionResult, EngineSettings, GeneratedTokenScores } from './types';

/** The suffix never shrinks below this many tokens, however slow the model: FIM needs some right context. */
const minimumSuffixTokens = 32;

/**
 * Prompt tokens per millisecond the model prefills (a moving average over requests that prefilled
 * enough to measure), which caps the suffix to what fits the prefill target.
 */
export class PrefillRate {
  private rate: number | undefined;

  learn(prefilledTokens: number | undefined, firstTokenMs: number | undefined): void {
    // Few tokens measure mostly fixed overhead (one decode step, IPC): they would understate the rate.
    if (prefilledTokens === undefined || firstTokenMs === undefined || prefilledTokens < 32 || firstTokenMs <= 0) return;
    const rate = prefilledTokens / firstTokenMs;
    this.rate = this.rate === undefined ? rate : this.rate * 0.7 + rate * 0.3;
  }

  /** Most suffix tokens for a request (undefined before the first measurement: no cap). */
  maxSuffixTokens(prefillTargetMs: number): number | undefined {
    return this.rate === undefined ? undefined : Math.max(minimumSuffixTokens, Math.round(this.rate * prefillTargetMs));
  }

  /** Prompt tokens per second, as measured (undefined before the first request). */
  get tokensPerSecond(): number | undefined {
    return this.rate === undefined ? undefined : this.rate * 1000;
  }
}

/** What a request needs from the engine around it. */
export interface GenerationContext {
  readonly settings: EngineSettings;
  readonly extraContext?: ExtraContextBuffer;
  readonly costs?: CostEstimator;
  readonly now: () => number;
  readonly stats: EngineStats;
  readonly prefill: PrefillRate;
  /** Where the answer is kept (an empty one too: asking again at the same spot would only waste the CPU). */
  readonly remember: (key: string, entry: CacheEntry) => void;
  readonly onRecord?: (record: CompletionRecord) => void;
  readonly onRequestStart?: () => void;
  readonly onRequestEnd?: (outcome: { readonly result?: CompletionResult; readonly error?: unknown; readonly cancelled: boolean }) => void;
}

export interface GenerationJob {
  readonly model: CompletionModel;
  readonly window: LocalWindow;
  readonly key: string;
  readonly signal: AbortSignal;
  readonly speculative: boolean;
  /** When the call that led here started (latency includes debounce). */
  readonly startedAt: number;
}

/**
 * Runs one request. Resolves with the suggestion, or undefined when the answer was empty or the
 * request was aborted; rejects only on a real failure (the model crashed, the server refused).
 */
export async function generateSuggestion(context: GenerationContext, job: GenerationJob): Promise<CompletionResult | undefined> {
  const { settings, now, stats } = context;
  const { model, window, key, signal, speculative, startedAt } = job;
  const modelStart = now();
  stats.modelRequests++;
  const buildStart = now();
  const built = model.prompts.build({
    window,
    budget: { ...settings, prefixShare: defaultPromptBudget.prefixShare, extraContextTokens: settings.extraContext ? settings.extraContextTokens : 0 },
    contextLength: model.contextLength,
    maxTokens: settings.maxTokens,
    extraChunks: settings.extraContext ? context.extraContext?.snapshot(window.path).map((chunk) => ({ path: chunk.path, content: chunk.content })) : undefined,
    eosTokenIds: model.eosTokenIds,
    maxSuffixTokens: context.prefill.maxSuffixTokens(settings.prefillTargetMs),
  });
  // A local builder works on this thread (count it); a worker's build is waited for, not blocking.
  if (!(built instanceof Promise)) noteSync(stats, buildStart, now());
  const prompt = await built;
  const cursor: CursorContext = {
    linePrefix: window.linePrefix,
    lineSuffix: window.lineSuffix,
    nextLines: window.nextLines,
    prefix: window.prefix,
    stopStrings: prompt.stopStrings,
    maxLines: settings.maxLines,
  };
  const shape = completionShape(window.linePrefix, window.lineSuffix);
  let raw = '';
  let generatedTokens = 0;
  let logprobSum = 0;
  let scoredTokens = 0;
  /** Each one-token chunk with a probability, by its offset in `raw` (confidence colouring). */
  const pieces: { start: number; end: number; logprob: number; top: readonly { text: string; logprob: number }[] }[] = [];
  let outcome: CompletionRecord['outcome'] = 'completed';
  let failure: unknown;
  let result: CompletionResult | undefined;
  let summary: GenerateSummary | undefined;
  // Stopping early (a single line is complete) aborts the rest of the generation in the model process.
  const early = new AbortController();
  const onAbort = () => early.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (!speculative) context.onRequestStart?.();
  try {
    const stream = model.backend.generate({ promptIds: prompt.ids, maxTokens: settings.maxTokens, stopTokenIds: prompt.stopTokenIds, stopStrings: prompt.stopStrings, promptText: prompt.text, fim: prompt.fim }, early.signal);
    for await (const chunk of stream) {
      if (signal.aborted) break;
      if (chunk.tokens === 1 && chunk.logprob !== undefined) pieces.push({ start: raw.length, end: raw.length + chunk.text.length, logprob: chunk.logprob, top: chunk.alternatives ?? [] });
      raw += chunk.text;
      generatedTokens += chunk.tokens;
      if (chunk.logprob !== undefined) {
        logprobSum += chunk.logprob;
        scoredTokens += chunk.tokens;
      }
      const shaped = shapeCompletion(raw, cursor);
      // Done when the shape is complete, or the model fell into a loop (the rest would be cut anyway).
      if (shaped.complete || cutRepetition(shaped.text).length < shaped.text.length) break;
    }
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new SupersededError();
    const postStart = now();
    const text = postProcess(raw, cursor);
    noteSync(stats, postStart, now());
    const modelLatencyMs = now() - modelStart;
    summary = model.backend.lastSummary?.();
    context.prefill.learn(summary?.prefilledTokens, summary?.firstTokenMs);
    // A server counts what it really received (and a text prompt has no ids here).
    const promptTokens = summary?.promptTokens ?? prompt.ids.length;
    if (summary?.generatedTokens !== undefined) generatedTokens = summary.generatedTokens;
    result = {
      text: text ?? '',
      source: speculative ? 'speculative' : 'model',
      shape,
      latencyMs: now() - startedAt,
      modelLatencyMs,
      promptTokens,
      generatedTokens,
      reusedPromptTokens: summary?.reusedPromptTokens,
      tokensPerSecond: summary?.tokensPerSecond ?? (generatedTokens > 0 && modelLatencyMs > 0 ? generatedTokens / (modelLatencyMs / 1000) : undefined),
      confidence: scoredTokens > 0 ? Math.exp(logprobSum / scoredTokens) : undefined,
      ...(scoredTokens === 0 && summary?.noLogprobs ? { noConfidence: summary.noLogprobs } : {}),
      ...(text ? withTokenScores(text, raw, pieces) : {}),
      template: model.template.label,
      costs: context.costs?.({ promptTokens, generatedTokens }) ?? [],
      key,
    };
    context.remember(key, { text: result.text, result });
    if (text === undefined) {
      outcome = 'empty';
      return undefined;
    }
    return result;
  } catch (error) {
    if (signal.aborted || isAbortError(error)) {
      outcome = 'cancelled';
      stats.cancelledRequests++;
      stats.wastedTokens += generatedTokens;
      return undefined;
    }
    outcome = 'error';
    failure = error;
    stats.errors++;
    throw error;
  } finally {
    early.abort(new SupersededError());
    signal.removeEventListener('abort', onAbort);
    context.onRecord?.({
      path: window.path,
      template: model.template.label,
      promptTokens: prompt.ids.length,
      generatedTokens,
      reusedPromptTokens: (summary ?? model.backend.lastSummary?.())?.reusedPromptTokens,
      latencyMs: now() - modelStart,
      speculative,
      outcome,
      costs: context.costs?.({ promptTokens: prompt.ids.length, generatedTokens }) ?? [],
    });
    if (!speculative) context.onRequestEnd?.({ result, error: failure, cancelled: outcome === 'cancelled' });
  }
}

/**
 * The generated tokens' scores over the post-processed text, where post-processing only cut the
 * model's text (the usual case: a finished line, a closed block); the tokens cut away are dropped
 * and one cut in two keeps its score over the part that stays.
 */
function withTokenScores(text: string, raw: string, pieces: readonly { start: number; end: number; logprob: number; top: readonly { text: string; logprob: number }[] }[]): { tokenScores?: GeneratedTokenScores } {
  if (pieces.length === 0 || !raw.startsWith(text)) return {};
  const tokens = pieces.filter((piece) => piece.start < text.length && piece.end > piece.start).map((piece) => ({ ...piece, end: Math.min(piece.end, text.length) }));
  return { tokenScores: { generated: text, tokens } };
}
