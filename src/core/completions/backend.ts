/**
 * The narrow interface between the completion engine and whatever generates tokens: the model
 * process's RPC client in the product, a fake in tests. Aborting the signal must stop the generation
 * in the model process (not just stop reading it), so a superseded request frees the CPU at once.
 */
/**
 * One completion's request to a CompletionBackend: the prompt already built (ids, and the text forms
 * servers may need). The runtime's own request (runtime/types.ts GenerateRequest) is what
 * RuntimeCompletionBackend turns it into; chat's is ChatGenerateRequest.
 */
export interface CompletionGenerateRequest {
  /** The whole prompt as token ids (the model process reuses the KV cache of its longest common prefix). */
  readonly promptIds: readonly number[];
  /** Most tokens to generate. */
  readonly maxTokens: number;
  /** Token ids that end generation (not included in the output). */
  readonly stopTokenIds: readonly number[];
  /** The stop tokens as strings (servers that stop on text). */
  readonly stopStrings?: readonly string[];
  /** The prompt as text, control-token spellings in document text made inert (servers that cannot take ids). */
  readonly promptText?: string;
  /** Prefix and suffix alone, made inert (servers that build the FIM prompt themselves). */
  readonly fim?: { readonly prefix: string; readonly suffix: string };
}

export interface GeneratedChunk {
  /** Newly decoded text; may be empty while a multi-byte character is incomplete. */
  readonly text: string;
  /** Tokens this chunk stands for (1 when the backend streams token by token). */
  readonly tokens: number;
  /** Natural-log probability the model gave these tokens (summed), when the backend knows it. */
  readonly logprob?: number;
  /** The most likely tokens at this step (one-token chunks), when the backend knows them: confidence colouring's hover. */
  readonly alternatives?: readonly { readonly text: string; readonly logprob: number }[];
}

/** What the backend knows only at the end (optional: a fake may not know it). */
export interface GenerateSummary {
  /** Prompt tokens whose KV cache was reused from the previous request. */
  readonly reusedPromptTokens?: number;
  /** Prompt tokens that had to be run through the model (not reused). */
  readonly prefilledTokens?: number;
  /** Milliseconds from the request to its first generated token (prefill plus one step, as seen here). */
  readonly firstTokenMs?: number;
  /** Milliseconds spent on the prompt (prefill) in the model process. */
  readonly promptMs?: number;
  /** Generated tokens per second of decoding, prefill excluded. */
  readonly tokensPerSecond?: number;
  /** Prompt tokens as the backend counted them (a server's `usage`), when it says. */
  readonly promptTokens?: number;
  /** Generated tokens as the backend counted them, when it says. */
  readonly generatedTokens?: number;
  /** Why no token probabilities came back (e.g. the server sends no logprobs): no confidence then. */
  readonly noLogprobs?: string;
}

export interface CompletionBackend {
  /**
   * Streams generated text. Ends when a stop token or maxTokens is reached, or when the consumer
   * stops iterating (which must abort the request in the model process). Rejects with the signal's
   * reason when aborted.
   */
  generate(request: CompletionGenerateRequest, signal: AbortSignal): AsyncIterable<GeneratedChunk>;
  /** Summary of the last finished generation, if the backend reports one. */
  lastSummary?(): GenerateSummary | undefined;
}

/** Thrown (or used as an abort reason) when a newer request replaces an older one. */
export class SupersededError extends Error {
  constructor() {
    super('superseded by a newer completion request');
    this.name = 'AbortError';
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error instanceof SupersededError);
}
