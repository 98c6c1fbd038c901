/**
 * The words of the completion pipeline, shared by its stages (gates.ts, debounce.ts,
 * suggestionCache.ts, generation.ts) and by the engine that runs them (engine.ts): a model, the
 * settings, a request, and what comes back.
 */
import type { CompletionBackend } from './backend';
import type { CostLine } from '../pricing/cost';
import type { CursorPosition, DocumentLines } from './document';
import type { FimTemplate } from './fimTemplates';
import type { CompletionShape } from './postProcess';
import type { PromptBuilder } from './promptBuilder';

/** A loaded model as the completion engine sees it. */
export interface CompletionModel {
  /** Stable id (`mini`, a folder path) for cache keys. */
  readonly id: string;
  readonly label: string;
  /** Builds token-id prompts with the model's tokenizer (in this thread or a worker). */
  readonly prompts: PromptBuilder;
  readonly template: FimTemplate;
  /** max_position_embeddings of config.json. */
  readonly contextLength: number;
  /** eos ids of generation_config.json, also stop tokens. */
  readonly eosTokenIds: readonly number[];
  readonly backend: CompletionBackend;
}

export interface EngineSettings {
  readonly debounceMs: number;
  readonly maxTokens: number;
  readonly linesBefore: number;
  readonly linesAfter: number;
  readonly triggerInMiddleOfWord: boolean;
  readonly extraContext: boolean;
  /** Tokens of the local window (prefix + suffix). */
  readonly windowTokens: number;
  readonly extraContextTokens: number;
  /** Suggestions kept in the LRU cache (llama.vscode: 250). */
  readonly cacheSize: number;
  /** Pre-compute the next suggestion after an accept. */
  readonly speculative: boolean;
  /** Most lines of a multi-line suggestion. */
  readonly maxLines: number;
  /**
   * Prompt-processing time to aim for per request: the suffix (recomputed every time, unlike the
   * prefix) is capped to what the model prefills in this time, as measured on recent requests.
   */
  readonly prefillTargetMs: number;
  /**
   * Automatic suggestions whose confidence (see CompletionResult.confidence) is below this are not
   * shown; an explicit request (Alt+\\) shows them anyway. 0 shows everything.
   */
  readonly minConfidence: number;
}

export interface CompletionRequest {
  readonly document: DocumentLines;
  readonly position: CursorPosition;
  /** Path of the file, relative to the workspace where possible (repository context, logs). */
  readonly path: string;
  /** `explicit`: Alt+\ or the command; bypasses debounce and the mid-word rule. */
  readonly trigger: 'automatic' | 'explicit';
  readonly repoName?: string;
}

export interface GeneratedTokenScores {
  readonly generated: string;
  /** UTF-16 offsets into `generated`, in order. */
  readonly tokens: readonly { readonly start: number; readonly end: number; readonly logprob: number; readonly top: readonly { readonly text: string; readonly logprob: number }[] }[];
}

export type CompletionSource = 'model' | 'cache' | 'typing-along' | 'speculative';

export interface CompletionResult {
  /** Text to insert at the cursor. */
  readonly text: string;
  readonly source: CompletionSource;
  readonly shape: CompletionShape;
  /** From the call (the end of typing) to the suggestion, debounce included. */
  readonly latencyMs: number;
  /** The model's share: prompt building plus generation (0 for cache hits). */
  readonly modelLatencyMs: number;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly reusedPromptTokens?: number;
  readonly tokensPerSecond?: number;
  /**
   * How sure the model was: the geometric mean of the probabilities it gave each generated token
   * (exp of the mean log-probability), 0..1; undefined when the backend reports no probabilities.
   */
  readonly confidence?: number;
  /** Why there is no confidence (the server sent no token probabilities), to say so instead of staying silent. */
  readonly noConfidence?: string;
  /**
   * Each generated token's probability and alternatives, over `generated` (the model's text as
   * post-processed; `text` is it or, typing along, its end): confidence colouring. Absent when the
   * backend gave no probabilities or post-processing changed the text beyond cutting it.
   */
  readonly tokenScores?: GeneratedTokenScores;
  /** Template label, e.g. `Qwen2.5-Coder FIM`. */
  readonly template: string;
  readonly costs: readonly CostLine[];
  /** Cache key of the window this suggestion answers (see accept()). */
  readonly key: string;
}

/** One model request, as recorded for cost features and the benchmark. */
export interface CompletionRecord {
  readonly path: string;
  readonly template: string;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  readonly reusedPromptTokens?: number;
  readonly latencyMs: number;
  readonly speculative: boolean;
  readonly outcome: 'completed' | 'empty' | 'cancelled' | 'error';
  readonly costs: readonly CostLine[];
}
