/**
 * The typed RPC between the extension host (ModelProcessClient) and the model process
 * (src/model-process). Requests carry an id; every response and stream event echoes it. Plain
 * JSON over Node's IPC channel.
 */
import type { ModelErrorCode } from '../models/errors';
import type { NextTokenRequest, NextTokenResult, ScoreTextRequest, ScoreTextResult } from '../probabilities/modelProbabilities';
import type { InspectRequest, InspectResult } from '../runtime/inspectTypes';
import type { LastPrompt } from '../promptTokens/promptTokens';
import type { GenerateRequest, GenerationEvent, LoadModelRequest, ModelInfo, PromptInput } from '../runtime/types';

export const PROTOCOL_VERSION = 1;

/** Environment variable that enables the test-only requests below in the model process. */
export const TEST_HOOKS_ENV = 'TOKENSCOPE_MODEL_PROCESS_TEST_HOOKS';
/** Environment variable with the package root (where `models/` lives) for the model process. */
export const PACKAGE_ROOT_ENV = 'TOKENSCOPE_PACKAGE_ROOT';
/**
 * The environment that keeps ONNX Runtime's telemetry off (see ortTelemetry.ts), set for every
 * process that loads it before it loads: the model process, the CLI, benchmarks and test runners.
 */
export const ORT_TELEMETRY_OFF_ENV: Readonly<Record<string, string>> = { ORT_DISABLE_TELEMETRY: '1' };

export type ClientMessage =
  | { readonly type: 'load'; readonly id: number; readonly request: LoadModelRequest }
  | { readonly type: 'unload'; readonly id: number }
  | { readonly type: 'generate'; readonly id: number; readonly request: GenerateRequest }
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
  /** The generation `id` ended normally (after its `end` event). */
  | { readonly type: 'done'; readonly id: number }
  | { readonly type: 'encoded'; readonly id: number; readonly ids: number[] }
  | { readonly type: 'next-token-result'; readonly id: number; readonly result: NextTokenResult }
  | { readonly type: 'scored'; readonly id: number; readonly result: ScoreTextResult }
  | { readonly type: 'inspected'; readonly id: number; readonly result: InspectResult }
  | { readonly type: 'pong'; readonly id: number; readonly status: ProcessStatus }
  /** null: nothing was generated with the loaded model yet. */
  | { readonly type: 'last-prompt'; readonly id: number; readonly prompt: LastPrompt | null }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
  /** Sent every second while busy between forward passes: proves the process is not hung. */
  | { readonly type: 'heartbeat' }
  | { readonly type: 'log'; readonly level: 'debug' | 'info' | 'warn' | 'error'; readonly message: string; readonly data?: Record<string, unknown> };
