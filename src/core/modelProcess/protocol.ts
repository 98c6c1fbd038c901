/**
 * The typed RPC between the extension host (ModelProcessClient) and the model process
 * (src/model-process). Requests carry an id; every response and stream event echoes it. Plain
 * JSON over Node's IPC channel.
 */
import type { ModelErrorCode } from '../models/errors';
import type { NextTokenRequest, NextTokenResult, ScoredSpan, ScoreTextRequest, ScoreTextResult } from '../probabilities/modelProbabilities';
import type { InspectRequest, InspectResult } from '../runtime/inspectTypes';
import type { LastPrompt } from '../promptTokens/promptTokens';
import type { GenerateRequest, GenerationEvent, LoadModelRequest, ModelInfo, PromptInput } from '../runtime/types';

export const PROTOCOL_VERSION = 2;

/** Environment variable that enables the test-only requests below in the model process. */
export const TEST_HOOKS_ENV = 'TOKENSCOPE_MODEL_PROCESS_TEST_HOOKS';
/** Environment variable with the package root (where `models/` lives) for the model process. */
export const PACKAGE_ROOT_ENV = 'TOKENSCOPE_PACKAGE_ROOT';
/** Environment variable with the model process's scheduling priority (ModelProcessPriority; absent: normal). */
export const PRIORITY_ENV = 'TOKENSCOPE_MODEL_PROCESS_PRIORITY';
/**
 * `below-normal`: the OS runs the editor first whenever both want a core (a forward pass fills
 * every core it is given, and the extension host must answer keystrokes meanwhile); alone on the
 * machine the model runs as fast as at `normal`.
 */
export type ModelProcessPriority = 'normal' | 'below-normal';
/**
 * The environment that keeps ONNX Runtime's telemetry off (see ortTelemetry.ts), set for every
 * process that loads it before it loads: the model process, the CLI, benchmarks and test runners.
 */
export const ORT_TELEMETRY_OFF_ENV: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

export type ClientMessage =
  | { readonly type: 'load'; readonly id: number; readonly request: LoadModelRequest }
  | { readonly type: 'unload'; readonly id: number }
  /**
   * `coalesceMs`: tokens made within this long of the last token message travel together in one
   * `events` message (core/tokenCoalescer.ts; tokenscope serve asks for its SSE interval, so it
   * wakes once per event it writes). 0 or absent: one message per event, as the editor reads them.
   */
  | { readonly type: 'generate'; readonly id: number; readonly request: GenerateRequest; readonly coalesceMs?: number }
  /** Stops the generation started by request `id` (no reply of its own). */
  | { readonly type: 'cancel'; readonly id: number }
  | { readonly type: 'encode'; readonly id: number; readonly prompt: PromptInput }
  /** The next-token distribution after a prompt (cancellable like a generation). */
  | { readonly type: 'next-token'; readonly id: number; readonly request: NextTokenRequest }
  /** Per-token log-probabilities of a text (cancellable; re-scores from the first change since the last text). */
  | { readonly type: 'score'; readonly id: number; readonly request: ScoreTextRequest }
  /** Attention, logit lens or embedding neighbours of the loaded model (inspectTypes.ts). */
  | { readonly type: 'inspect'; readonly id: number; readonly request: InspectRequest }
  | { readonly type: 'ping'; readonly id: number }
  /** The last prompt fed to the model, as token pieces (Show Prompt Tokens). */
  | { readonly type: 'last-prompt'; readonly id: number }
  /** Test only: exit at once, as a native crash would. */
  | { readonly type: 'test-crash'; readonly id: number }
  /** Test only: block the event loop, as a hung native call would. */
  | { readonly type: 'test-hang'; readonly id: number; readonly ms: number }
  /** Test only: make every generated token take at least this long, blocking (0 to reset). */
  | { readonly type: 'test-slow-steps'; readonly id: number; readonly ms: number };

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: ModelErrorCode;
  readonly file?: string;
}

export interface ProcessStatus {
  readonly model: ModelInfo | null;
  /** Generations running or queued. */
  readonly activeGenerations: number;
  readonly rssBytes: number;
  readonly pid: number;
}

export type ProcessMessage =
  /** Sent once at start-up. */
  | { readonly type: 'ready'; readonly pid: number; readonly protocol: number }
  | { readonly type: 'loaded'; readonly id: number; readonly info: ModelInfo }
  | { readonly type: 'unloaded'; readonly id: number }
  | { readonly type: 'event'; readonly id: number; readonly event: GenerationEvent }
  /** Tokens of the generation `id` that came within its `coalesceMs`, in order. */
  | { readonly type: 'events'; readonly id: number; readonly events: readonly GenerationEvent[] }
  /** The generation `id` ended normally (after its `end` event). */
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'encoded'; readonly id: number; readonly ids: number[] }
  | { readonly type: 'next-token-result'; readonly id: number; readonly result: NextTokenResult }
  /** The first tokens of a score's answer, SCORED_PART_TOKENS at a time; `scored` brings the rest. */
  | { readonly type: 'scored-part'; readonly id: number; readonly tokens: readonly ScoredSpan[] }
  | { readonly type: 'scored'; readonly id: number; readonly result: ScoreTextResult }
  | { readonly type: 'inspected'; readonly id: number; readonly result: InspectResult }
  | { readonly type: 'pong'; readonly id: number; readonly status: ProcessStatus }
  /** null: nothing was generated with the loaded model yet. */
  | { readonly type: 'last-prompt'; readonly id: number; readonly prompt: LastPrompt | null }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
  /** Sent every second while busy between forward passes: proves the process is not hung. */
  | { readonly type: 'heartbeat' }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string; readonly data?: Record<string, unknown> };

/**
 * Tokens per message of a score's answer. A lens over a tall viewport scores ~1,000 tokens, each
 * with its alternatives (~300 bytes of JSON): one message would be parsed on the extension host's
 * thread in one go (4-6 ms for 220 KB on a loaded 2-core machine). In parts, each read of the
 * channel parses a bounded piece and the host's other work runs in between.
 */
export const SCORED_PART_TOKENS = 128;

/** A score's answer as the messages that carry it: `scored-part`s, then `scored` with the last tokens. */
export function scoredMessages(id: number, result: ScoreTextResult): ProcessMessage[] {
  const messages: ProcessMessage[] = [];
  let from = 0;
  for (; result.tokens.length - from > SCORED_PART_TOKENS; from += SCORED_PART_TOKENS) {
    messages.push({ type: 'scored-part', id, tokens: result.tokens.slice(from, from + SCORED_PART_TOKENS) });
  }
  messages.push({ type: 'scored', id, result: { ...result, tokens: result.tokens.slice(from) } });
  return messages;
}
