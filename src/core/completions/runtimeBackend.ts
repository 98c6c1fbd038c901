import type { GenerateRequest as RuntimeGenerateRequest, GenerationEvent } from '../runtime/types';
import type { CompletionBackend, GeneratedChunk, GenerateRequest, GenerateSummary } from './backend';

/**
 * Anything that generates like the runtime: the in-process LocalModel (CLI, benchmark) or the model
 * process's RPC client (extension). Aborting the signal stops the generation where it runs.
 */
export interface GenerationSource {
  generate(request: RuntimeGenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent>;
}

/**
 * Adapts the runtime to the completion engine: the prompt goes as token ids (so the runtime reuses
 * the KV cache of the longest common prefix with the previous request), greedy decoding (the most
 * likely completion; sampling would only add noise to ghost text), stop ids from the FIM template.
 */
export class RuntimeCompletionBackend implements CompletionBackend {
  private summary: GenerateSummary | undefined;

  constructor(private readonly source: GenerationSource) {}

  async *generate(request: GenerateRequest, signal: AbortSignal): AsyncGenerator<GeneratedChunk> {
    this.summary = undefined;
    let reused: number | undefined;
    const events = this.source.generate(
      { prompt: { kind: 'tokens', ids: request.promptIds }, maxTokens: request.maxTokens, stopTokenIds: request.stopTokenIds, sampling: { temperature: 0 }, reuseCache: true },
      signal,
    );
    for await (const event of events) {
      // Set at the start too: the engine often stops reading before the end (a finished line).
      if (event.type === 'start') this.summary = { reusedPromptTokens: (reused = event.reusedTokens) };
      else if (event.type === 'token') yield { text: event.text, tokens: 1 };
      else this.summary = { reusedPromptTokens: reused, promptMs: event.timings.prefillMs, tokensPerSecond: event.timings.tokensPerSecond };
    }
  }

  lastSummary(): GenerateSummary | undefined {
    return this.summary;
  }
}
