/**
 * The OpenAI-compatible wire format, as the servers Tokenscope talks to speak it (vLLM, llama.cpp
 * server, Ollama's /v1, LM Studio, hosted APIs) and as `tokenscope serve` answers it. Only the fields
 * Tokenscope sends or reads are declared; every server adds its own, which are ignored. The shapes
 * were checked against each server's source (the fixtures in test/unit/openai/fixtures/ cite where):
 *
 * - legacy completions logprobs: `{tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}`
 *   (OpenAI, vLLM, `tokenscope serve`); llama.cpp answers completions with the chat shape instead;
 * - chat logprobs: `{content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}`;
 * - reasoning: `delta.reasoning_content` (DeepSeek API, llama.cpp `--reasoning-format deepseek`,
 *   older vLLM) or `delta.reasoning` (vLLM since 0.10, Ollama);
 * - errors: `{"error": {"message", "type", "param", "code"}}`, older vLLM flat `{"object":"error","message"}`.
 */

export interface WireUsage {
  readonly prompt_tokens?: number;
  readonly completion_tokens?: number;
  readonly total_tokens?: number;
  readonly completion_tokens_details?: { readonly reasoning_tokens?: number } | null;
  readonly prompt_tokens_details?: { readonly cached_tokens?: number } | null;
}

/** One alternative in the chat logprobs shape. */
export interface WireTokenLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly bytes?: readonly number[] | null;
}

export interface WireChatLogprobEntry extends WireTokenLogprob {
  readonly top_logprobs?: readonly WireTokenLogprob[];
}

export interface WireChatLogprobs {
  readonly content?: readonly WireChatLogprobEntry[] | null;
}

export interface WireLegacyLogprobs {
  readonly tokens?: readonly string[];
  readonly token_logprobs?: readonly (number | null)[];
  readonly top_logprobs?: readonly (Readonly<Record<string, number>> | null)[] | null;
  readonly text_offset?: readonly number[];
}

export interface WireMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string;
}

export interface ChatCompletionRequestBody {
  readonly model: string;
  readonly messages: readonly WireMessage[];
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly seed?: number;
  readonly stop?: string | readonly string[];
  readonly logprobs?: boolean;
  readonly top_logprobs?: number;
  /** vLLM and llama.cpp pass these to the chat template (Qwen3's `enable_thinking`). */
  readonly chat_template_kwargs?: Readonly<Record<string, unknown>>;
  readonly user?: string;
}

export interface CompletionRequestBody {
  readonly model: string;
  /** Text, or token ids (OpenAI's legacy API, vLLM, llama.cpp and `tokenscope serve` accept ids). */
  readonly prompt: string | readonly number[];
  /** Server-side fill-in-the-middle (Ollama, the DeepSeek API's /beta). */
  readonly suffix?: string;
  readonly stream?: boolean;
  readonly stream_options?: { readonly include_usage?: boolean };
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly seed?: number;
  readonly stop?: string | readonly string[];
  /** Legacy shape: how many alternatives per token (0 still returns the chosen token's logprob). */
  readonly logprobs?: number;
  /** vLLM's extension (also honoured by `tokenscope serve`): token ids that end generation. */
  readonly stop_token_ids?: readonly number[];
  readonly user?: string;
}

export interface ChatCompletionChunk {
  readonly id?: string;
  readonly object?: string;
  readonly model?: string;
  readonly choices?: readonly {
    readonly index?: number;
    readonly delta?: { readonly role?: string; readonly content?: string | null; readonly reasoning_content?: string | null; readonly reasoning?: string | null };
    /** Non-streaming responses carry `message` instead of `delta`. */
    readonly message?: { readonly role?: string; readonly content?: string | null; readonly reasoning_content?: string | null; readonly reasoning?: string | null };
    readonly logprobs?: WireChatLogprobs | null;
    readonly finish_reason?: string | null;
  }[];
  readonly usage?: WireUsage | null;
  readonly error?: unknown;
}

/** llama.cpp's (and `tokenscope serve`'s) per-request timings on the last chunk. */
export interface WireTimings {
  /** Prompt tokens processed (not reused from the cache). */
  readonly prompt_n?: number;
  readonly prompt_ms?: number;
  readonly predicted_n?: number;
  readonly predicted_ms?: number;
  /** Prompt tokens reused from the KV cache. */
  readonly cache_n?: number;
}

export interface CompletionChunk {
  readonly timings?: WireTimings;
  readonly id?: string;
  readonly object?: string;
  readonly model?: string;
  readonly choices?: readonly {
    readonly index?: number;
    readonly text?: string;
    readonly logprobs?: WireLegacyLogprobs | WireChatLogprobs | null;
    readonly finish_reason?: string | null;
  }[];
  readonly usage?: WireUsage | null;
  readonly error?: unknown;
}

/** What `tokenscope serve` adds to each /v1/models entry: enough for a client to build token-id prompts. */
export interface TokenscopeModelMeta {
  readonly modelType: string;
  /** Tokenscope's built-in model (its completion prompt format differs from its vocabulary's). */
  readonly builtin: boolean;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  readonly hasChatTemplate: boolean;
  readonly supportsThinking: boolean;
  /** Path (relative to the base URL) of `{tokenizer, config}`: the model's tokenizer.json and tokenizer_config.json. */
  readonly tokenizerPath: string;
  /** SHA-256 of tokenizer.json as served, so a client can cache it. */
  readonly tokenizerSha256: string;
}

export interface WireModel {
  readonly id: string;
  readonly object?: string;
  readonly created?: number;
  readonly owned_by?: string;
  /** vLLM. */
  readonly max_model_len?: number | null;
  /** llama.cpp: `{n_ctx, n_ctx_train, n_vocab, ...}`. */
  readonly meta?: { readonly n_ctx?: number; readonly n_ctx_train?: number } | null;
  /** LM Studio's /api/v0 and some gateways. */
  readonly max_context_length?: number;
  readonly context_length?: number;
  readonly tokenscope?: TokenscopeModelMeta;
}

export interface WireModelList {
  readonly object?: string;
  readonly data?: readonly WireModel[];
}

export interface WireErrorBody {
  readonly error?: { readonly message?: string; readonly type?: string; readonly param?: string | null; readonly code?: string | number | null } | string;
  /** Older vLLM: `{object: "error", message, type, code}` at the top level. */
  readonly message?: string;
  readonly object?: string;
  readonly detail?: unknown;
}

/** The server-side tokenizer files `tokenscope serve` hands out at TokenscopeModelMeta.tokenizerPath. */
export interface WireTokenizerFiles {
  readonly tokenizer: unknown;
  readonly config: unknown;
}

/** The message of an error body in any of the shapes servers send, if there is one. */
export function errorMessageOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { error, message, detail } = body as WireErrorBody;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && typeof error.message === 'string') return error.message;
  if (typeof message === 'string') return message;
  if (typeof detail === 'string') return detail;
  return undefined;
}

/** The context window a /v1/models entry reports, if any (vLLM, llama.cpp, LM Studio, `tokenscope serve`). */
export function contextLengthOf(model: WireModel): number | undefined {
  const candidates = [model.tokenscope?.contextLength, model.max_model_len, model.meta?.n_ctx, model.max_context_length, model.context_length, model.meta?.n_ctx_train];
  return candidates.find((value): value is number => typeof value === 'number' && Number.isFinite(value) && value > 0);
}
