import type { GenerateRequest, GenerationEvent } from '../runtime/types';

/** Alternatives per generated token: what confidence colouring's hover shows (a partial selection per token, cheap). */
const COMPLETION_ALTERNATIVES = 5;
import type { CompletionBackend, CompletionGenerateRequest, GeneratedChunk, GenerateSummary } from './backend';

/**
 * Anything that generates like the runtime: the in-process LocalModel (CLI, benchmark) or the model
 * process's RPC client (extension). Aborting the signal stops the generation where it runs.
 */
export interface GenerationSource {
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent>;
}

/**
 * Adapts the runtime to the completion engine: the prompt goes as token ids (so the runtime reuses
 * the KV cache of the longest common prefix with the previous request), greedy decoding (the most
 * likely completion; sampling would only add noise to ghost text), stop ids from the FIM template.
 */
export class RuntimeCompletionBackend implements CompletionBackend {
  private summary: GenerateSummary | undefined;

  constructor(private readonly source: GenerationSource) {}

  async *generate(request: CompletionGenerateRequest, signal: AbortSignal): AsyncGenerator<GeneratedChunk> {
    this.summary = undefined;
    const requestedAt = performance.now();
    let start: { reusedPromptTokens: number; prefilledTokens: number } | undefined;
    const events = this.source.generate(
      { prompt: { kind: 'tokens', ids: request.promptIds }, maxTokens: request.maxTokens, stopTokenIds: request.stopTokenIds, sampling: { temperature: 0 }, reuseCache: true, topLogprobs: COMPLETION_ALTERNATIVES },
      signal,
    );
    for await (const event of events) {
      // Summaries are set as events arrive: the engine often stops reading before the end (a finished line).
      if (event.type === 'start') {
        start = { reusedPromptTokens: event.reusedTokens, prefilledTokens: event.promptTokens - event.reusedTokens };
        this.summary = start;
      } else if (event.type === 'token') {
        if (event.index === 0) this.summary = { ...start, firstTokenMs: performance.now() - requestedAt };
        yield { text: event.text, tokens: 1, logprob: event.logprob, alternatives: event.top.map((alt) => ({ text: alt.text, logprob: alt.logprob })) };
      } else {
        this.summary = { ...this.summary, promptMs: event.timings.prefillMs, tokensPerSecond: event.timings.tokensPerSecond };
      }
    }
  }

  lastSummary(): GenerateSummary | undefined {
    return this.summary;
  }
}
