/**
 * The narrow interface chat needs from a model. The real runtime (src/core/runtime, a forked
 * model process) is adapted to it in src/vscode/chat/runtimeBackend.ts; the replay backend
 * (replayBackend.ts) feeds recorded transcripts through the same path for tests.
 */

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export type ThinkingMode = 'auto' | 'on' | 'off';

export interface ChatBackendInfo {
  readonly label: string;
  /** False for completion-only models (the built-in mini model): chat must not run on them. */
  readonly canChat: boolean;
  /** The model writes `<think>` traces (or can be asked to, like Qwen3). */
  readonly supportsThinking: boolean;
  /** Tokens the model can attend to: prompt and answer together. */
  readonly contextWindow: number;
  /** When canChat is false: why, and what to do. */
  readonly notice?: string;
}

export interface ChatGenerateRequest {
  readonly messages: readonly ChatMessage[];
  readonly thinking: ThinkingMode;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number;
}

export type StopReason = 'stop' | 'length' | 'aborted';

/**
 * How likely the model found one generated token, and what else it considered: natural-log
 * probabilities from the model's own distribution (the raw logits at temperature 1), whatever
 * temperature drew the token. `top` is the likeliest tokens at that step (the chosen one among them
 * when it is that likely); a server sends only what it sends (maybe none).
 */
export interface ChatTokenProbability {
  readonly text: string;
  readonly logprob: number;
  readonly top: readonly { readonly text: string; readonly logprob: number }[];
}

/**
 * One streamed event. `text` events carry decoded text and the number of model tokens it holds
 * (usually 1); exactly one `end` closes a stream that was not aborted by an error.
 */
export type ChatStreamEvent =
  /** `notices`: settings the backend had to change to fit the model, each a sentence for the user. */
  | { readonly type: 'start'; readonly promptTokens: number; readonly promptOpensThinking: boolean; readonly notices?: readonly string[] }
  /** `probabilities`: one per token the text holds, when the backend has them. */
  | { readonly type: 'text'; readonly text: string; readonly tokens: number; readonly probabilities?: readonly ChatTokenProbability[] }
  | {
      readonly type: 'end';
      readonly generatedTokens: number;
      readonly stopReason: StopReason;
      /** Prompt tokens as the backend counted them (a server's `usage`), when no `start` said so. */
      readonly promptTokens?: number;
      /** Mean natural-log probability of the generated tokens, when the backend returned logprobs. */
      readonly meanLogprob?: number;
      /** Tokens of the reasoning trace as the backend counted them (a server's `reasoning_tokens`). */
      readonly reasoningTokens?: number;
    };

export interface ChatBackend {
  readonly info: ChatBackendInfo;
  /** Tokens in `text` with the model's tokenizer (attachment chips). Async: the tokenizer may live in the model process. */
  countTokens(text: string): Promise<number>;
  /** Tokens of the whole prompt the messages render to, chat template included ("context left"). */
  countPromptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): Promise<number>;
  /** Streams the answer. Aborting `signal` stops generation in the model and ends the stream with `aborted`. */
  generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
}

/** A backend for models that cannot chat: every call explains why instead of producing text. */
export class UnavailableChatBackend implements ChatBackend {
  readonly info: ChatBackendInfo;

  constructor(label: string, notice: string) {
    this.info = { label, canChat: false, supportsThinking: false, contextWindow: 0, notice };
  }

  async countTokens(text: string): Promise<number> {
    return approximateTokenCount(text);
  }

  async countPromptTokens(messages: readonly ChatMessage[]): Promise<number> {
    return messages.reduce((sum, message) => sum + approximateTokenCount(message.content) + 4, 0);
  }

  // eslint-disable-next-line require-yield
  async *generate(): AsyncIterable<ChatStreamEvent> {
    throw new Error(this.info.notice ?? `${this.info.label} cannot chat.`);
  }
}

/**
 * Word-piece-like tokens: a word with its leading space, a run of digits, one punctuation mark, a
 * newline. Close to BPE counts for English and code (within ~20%), for backends without a tokenizer.
 */
export const pseudoTokenPattern = /\s?[A-Za-z]{1,12}|\s?\d{1,3}|\n+|[ \t]+(?=\S|$)|\s?[^\sA-Za-z\d]|[\s\S]/g;

export function approximateTokenCount(text: string): number {
  return text.match(pseudoTokenPattern)?.length ?? 0;
}
