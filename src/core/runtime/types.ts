/**
 * The runtime's public vocabulary: what a generation request holds and what it streams back. All
 * plain JSON data, so the same types cross the model-process RPC unchanged.
 */
import type { ModelVariant } from '../models/modelFolder';

export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface LoadModelRequest {
  /** `mini`, or the absolute path of a Hugging Face ONNX model folder. */
  readonly model: string;
  readonly variant?: ModelVariant;
  /** intraOpNumThreads; 0 or absent: physical cores, at most 4. */
  readonly threads?: number;
  /**
   * `fast` (default): 4-bit matmuls compute with int8 activations (MatMulNBits accuracy_level 4,
   * as onnxruntime-genai does on CPU), ~1.4x faster; logits move by ~1e-2. `exact`: the graph as
   * exported (fp32 compute).
   */
  readonly matmulPrecision?: 'fast' | 'exact';
}

/** Two load requests ask for the same model loaded the same way (the settings that reload a model). */
export function sameLoadRequest(a: LoadModelRequest | undefined, b: LoadModelRequest | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.model === b.model && (a.variant ?? 'auto') === (b.variant ?? 'auto') && (a.threads ?? 0) === (b.threads ?? 0) && (a.matmulPrecision ?? 'fast') === (b.matmulPrecision ?? 'fast');
}

export interface ModelInfo {
  /** The reference it was loaded by (`mini` or the folder path). */
  readonly id: string;
  readonly label: string;
  readonly dir: string;
  readonly modelType: string;
  readonly variant: string;
  readonly onnxFile: string;
  readonly availableVariants: readonly string[];
  readonly weightBytes: number;
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  /** Data type of the KV cache the graph wants (float32 or float16). */
  readonly cacheType: string;
  /** Inputs the graph declares (what the runtime feeds). */
  readonly graphInputs: readonly string[];
  readonly eosTokenIds: readonly number[];
  readonly hasChatTemplate: boolean;
  /** The chat template knows `<think>` / `enable_thinking` (Qwen3, DeepSeek-R1 distills). */
  readonly templateSupportsThinking: boolean;
  /** Special tokens (`<|im_end|>` → id), for prompt builders in other processes. */
  readonly specialTokens: Readonly<Record<string, number>>;
  readonly threads: number;
  /** 4-bit matmul nodes switched to int8 compute (0: the graph runs as exported). */
  readonly int8ComputeNodes: number;
  readonly loadMs: number;
}

export interface ChatTemplateMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  /** Earlier reasoning of an assistant turn, for templates that render it (Qwen3). */
  readonly reasoning_content?: string;
}

export type PromptInput =
  /** Plain user text: special-token strings in it stay plain text. */
  | { readonly kind: 'text'; readonly text: string }
  /** Token ids built by a prompt builder (e.g. fill-in-the-middle). */
  | { readonly kind: 'tokens'; readonly ids: readonly number[] }
  /** Messages rendered with the model's chat template; message contents can never become control tokens. */
  | {
      readonly kind: 'chat';
      readonly messages: readonly ChatTemplateMessage[];
      /** Defaults to true: end with the assistant turn's opening. */
      readonly addGenerationPrompt?: boolean;
      /** Extra template variables, e.g. `{ enable_thinking: false }` for Qwen3. */
      readonly variables?: Readonly<Record<string, JsonValue>>;
    };

export interface SamplingOptions {
  /** 0 picks the most likely token (greedy). Default: the model's generation_config (greedy when do_sample is false). */
  readonly temperature?: number;
  /** Keep only the k most likely tokens (0: off). */
  readonly topK?: number;
  /** Nucleus: keep the most likely tokens whose probabilities sum to p (1: off). */
  readonly topP?: number;
  /** > 1 discourages tokens already in the prompt or output (CTRL-style, as Hugging Face). */
  readonly repetitionPenalty?: number;
  /** Seed of the sampler's PRNG; the same seed and request give the same tokens. */
  readonly seed?: number;
}

export interface GenerateRequest {
  readonly prompt: PromptInput;
  /** Most tokens to generate (default 256). */
  readonly maxTokens?: number;
  readonly sampling?: SamplingOptions;
  /** Text that ends generation; it is not included in the output. */
  readonly stop?: readonly string[];
  /** Token ids that end generation besides the model's eos ids (not included in the output). */
  readonly stopTokenIds?: readonly number[];
  /** Keep generating past eos tokens (benchmarks). */
  readonly ignoreEos?: boolean;
  /** Alternatives reported per token, 0-20 (default 0). */
  readonly topLogprobs?: number;
  /** Reuse the KV cache of the previous request's shared prefix (default true). */
  readonly reuseCache?: boolean;
}

export interface TokenAlternative {
  readonly id: number;
  readonly text: string;
  /** Natural log of the model's probability (softmax of raw logits, temperature 1). */
  readonly logprob: number;
}

export interface TokenEvent {
  readonly type: 'token';
  /** 0-based position in the output. */
  readonly index: number;
  readonly id: number;
  /**
   * Text this token adds to the output. Empty when it holds only the first bytes of a multi-byte
   * character (the token that completes the character carries it); cut short when a stop
   * sequence starts inside it.
   */
  readonly text: string;
  readonly logprob: number;
  /** The most likely tokens at this step, most likely first (topLogprobs of them). */
  readonly top: readonly TokenAlternative[];
}

export interface GenerationStart {
  readonly type: 'start';
  /** Prompt tokens the model sees (after truncation). */
  readonly promptTokens: number;
  /** Of those, tokens whose KV cache was reused from the previous request. */
  readonly reusedTokens: number;
  /** Prompt tokens dropped from the start to fit the context window (0 if none). */
  readonly truncatedTokens: number;
  /** Effective maximum of new tokens (may be lowered to fit the context window). */
  readonly maxTokens: number;
  /** The sampler seed used (report it to reproduce a sampled answer). */
  readonly seed: number;
}

export type FinishReason =
  /** An eos token of the model. */
  | 'eos'
  /** A stop sequence or stop token id. */
  | 'stop'
  /** maxTokens reached. */
  | 'length'
  /** The context window is full. */
  | 'context';

export interface GenerationTimings {
  readonly prefillMs: number;
  readonly decodeMs: number;
  readonly promptTokens: number;
  /** Prompt tokens actually run through the model (not reused from the cache). */
  readonly prefilledTokens: number;
  readonly generatedTokens: number;
  /** Generated tokens per second of decoding (the prefill excluded). */
  readonly tokensPerSecond: number;
}

export interface GenerationEnd {
  readonly type: 'end';
  readonly finishReason: FinishReason;
  /** The stop sequence or token that ended generation, if any. */
  readonly stopSequence?: string;
  /** All generated text (stop sequence excluded). */
  readonly text: string;
  readonly timings: GenerationTimings;
}

export type GenerationEvent = GenerationStart | TokenEvent | GenerationEnd;

/** Structured logging hook: the extension passes its LogOutputChannel, the CLI stderr or nothing. */
export interface RuntimeLogger {
  debug(message: string, data?: Readonly<Record<string, unknown>>): void;
  info(message: string, data?: Readonly<Record<string, unknown>>): void;
  warn(message: string, data?: Readonly<Record<string, unknown>>): void;
  error(message: string, data?: Readonly<Record<string, unknown>>): void;
}

export const silentLogger: RuntimeLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The error an aborted generation rejects with (`name` is `AbortError`, as fetch's). */
export class GenerationAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(message = 'Generation was cancelled.') {
    super(message);
  }
}
