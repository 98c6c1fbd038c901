import type { ChatBackend, ChatGenerateRequest, ChatTokenProbability, StopReason } from './backend';
import type { CostEstimator } from '../pricing/cost';
import { computeStats, type ChatStats } from './stats';
import { ThinkParser, type ThinkDelta } from './thinkParser';

export interface ThinkingSummary {
  readonly text: string;
  readonly tokens: number;
  readonly durationMs: number;
  /** False when generation stopped inside the trace (max tokens, Stop). */
  readonly complete: boolean;
}

/** Token probabilities kept per answer (past this the view shows the first ones and says so). */
export const maxTurnProbabilities = 8192;

export interface ChatTurnResult {
  readonly answer: string;
  /**
   * Every generated token (reasoning included, in order) with its probability and alternatives,
   * when the backend reported them; at most maxTurnProbabilities.
   */
  readonly probabilities?: readonly ChatTokenProbability[];
  readonly thinking?: ThinkingSummary;
  readonly stopReason: StopReason;
  readonly stats: ChatStats;
}

export interface ChatTurnOptions {
  /** Prices the exchange on the reference model (pricing's referenceCostEstimator). */
  readonly estimateCost?: CostEstimator;
  readonly now?: () => number;
  /** Called for every parsed piece, in order, as it streams. */
  readonly onDelta?: (delta: ThinkDelta) => void;
  /** Called with each setting the backend changed to fit the model (what was changed and why). */
  readonly onNotice?: (text: string) => void;
}

/**
 * Runs one answer: streams the backend's events through the `<think>` parser, times it and counts
 * tokens. Aborting `signal` ends it as `aborted` with what arrived so far (which is kept, not
 * lost). Backend errors propagate after the caller's `finally` blocks, like any other.
 */
export async function runChatTurn(backend: ChatBackend, request: ChatGenerateRequest, signal: AbortSignal, options: ChatTurnOptions = {}): Promise<ChatTurnResult> {
  const now = options.now ?? (() => performance.now());
  const startedAt = now();
  let firstTokenAt: number | undefined;
  let lastTokenAt: number | undefined;
  let promptTokens: number | undefined;
  let generatedTokens = 0;
  let reportedTokens: number | undefined;
  let stopReason: StopReason | undefined;
  let meanLogprob: number | undefined;
  let reasoningTokens: number | undefined;
  let parser: ThinkParser | undefined;
  const probabilities: ChatTokenProbability[] = [];
  const emit = (deltas: readonly ThinkDelta[]) => {
    for (const delta of deltas) options.onDelta?.(delta);
  };
  // A prompt ending in `<think>` means output starts inside the trace. Otherwise detection stays on:
  // some models write a bare `</think>` even when their template did not pre-fill the opening tag.
  const parserFor = (opensThinking: boolean | undefined) => new ThinkParser({ now, startsInThinking: opensThinking === true ? true : undefined });

  for await (const event of backend.generate(request, signal)) {
    if (event.type === 'start') {
      promptTokens = event.promptTokens;
      for (const notice of event.notices ?? []) options.onNotice?.(notice);
      parser ??= parserFor(event.promptOpensThinking);
    } else if (event.type === 'text') {
      parser ??= parserFor(undefined);
      const at = now();
      firstTokenAt ??= at;
      lastTokenAt = at;
      generatedTokens += event.tokens;
      for (const probability of event.probabilities ?? []) if (probabilities.length < maxTurnProbabilities) probabilities.push(probability);
      emit(parser.push(event.text, event.tokens));
    } else {
      reportedTokens = event.generatedTokens;
      stopReason = event.stopReason;
      if (event.promptTokens !== undefined) promptTokens = event.promptTokens;
      if (event.meanLogprob !== undefined) meanLogprob = event.meanLogprob;
      if (event.reasoningTokens !== undefined) reasoningTokens = event.reasoningTokens;
    }
  }
  parser ??= parserFor(undefined);
  emit(parser.finish());
  const endedAt = now();
  const parts = parser.snapshot();
  const usage = {
    promptTokens: promptTokens ?? (await backend.countPromptTokens(request.messages, request.thinking)),
    generatedTokens: reportedTokens ?? generatedTokens,
  };
  const thinkingTokens = parts.hasThinking ? (reasoningTokens ?? parts.thinkingTokens) : undefined;
  return {
    answer: parts.answer,
    ...(probabilities.length > 0 ? { probabilities } : {}),
    ...(parts.hasThinking ? { thinking: { text: parts.thinking, tokens: thinkingTokens ?? 0, durationMs: parts.thinkingDurationMs, complete: parts.thinkingComplete } } : {}),
    stopReason: stopReason ?? (signal.aborted ? 'aborted' : 'stop'),
    stats: computeStats(usage, { startedAt, ...(firstTokenAt !== undefined ? { firstTokenAt } : {}), ...(lastTokenAt !== undefined ? { lastTokenAt } : {}), endedAt }, options.estimateCost, meanLogprob, thinkingTokens),
  };
}
