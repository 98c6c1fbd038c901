/**
 * `tokenscope serve`'s two generating routes, POST /v1/completions and POST /v1/chat/completions:
 * the prompt (a text prompt parsed with its special tokens as vLLM does, token ids, `suffix` as
 * fill-in-the-middle, or the chat template), `max_tokens` capped to the room the prompt leaves, a
 * turn on the model through the fair queue, and the answer in OpenAI's shape, streamed (SSE) or
 * whole, with logprobs in the legacy or the chat shape, `usage`, and llama.cpp's `timings`.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { encodeParts } from '../core/completions/promptBuilder';
import type { FairQueue } from '../core/openai/fairQueue';
import type { WireChatLogprobEntry, WireLegacyLogprobs } from '../core/openai/protocol';
import { RequestError, type ParsedChatRequest, type ParsedCompletionRequest } from '../core/openai/serveRequests';
import type { GenerateRequest, GenerationEnd, GenerationEvent, PromptInput, TokenEvent } from '../core/runtime/types';
import { sendJson } from './httpAnswers';
import type { ServedModel, ServedModelDescription } from './servedModel';
import { monotonicMs, type RequestTrace } from './serveTrace';
import { SseStream } from './sseStream';

/** llama.cpp's `timings` names, so its clients read ours too. */
function wireTimings(reused: number, timings: GenerationEnd['timings']) {
  return { cache_n: reused, prompt_n: timings.prefilledTokens, prompt_ms: timings.prefillMs, predicted_n: timings.generatedTokens, predicted_ms: timings.decodeMs };
}

function finishReason(reason: string): 'stop' | 'length' {
  return reason === 'length' || reason === 'context' ? 'length' : 'stop';
}

/** What a generation's end event puts in the answer: the finish reason, `usage`, llama.cpp's `timings`. */
interface EndSummary {
  readonly reason: 'stop' | 'length';
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number };
  readonly timings: ReturnType<typeof wireTimings> | undefined;
}

/** Until the end event arrives. */
const noEnd: EndSummary = { reason: 'stop', usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, timings: undefined };

function summarizeEnd(event: GenerationEnd, reused: number): EndSummary {
  return {
    reason: finishReason(event.finishReason),
    usage: { prompt_tokens: event.timings.promptTokens, completion_tokens: event.timings.generatedTokens, total_tokens: event.timings.promptTokens + event.timings.generatedTokens },
    timings: wireTimings(reused, event.timings),
  };
}

/** The stream's last events: the choice with its finish reason (and timings), `usage` when asked, `[DONE]`. */
function endStream(stream: SseStream, base: Record<string, unknown>, finalChoice: Record<string, unknown>, end: EndSummary, includeUsage: boolean): void {
  stream.event({ ...base, choices: [finalChoice], timings: end.timings });
  if (includeUsage) stream.event({ ...base, choices: [], usage: end.usage });
  stream.done();
}

export interface GenerationRoutesContext {
  readonly model: ServedModel;
  readonly served: ServedModelDescription;
  readonly queue: FairQueue;
  /** See OpenAIServerOptions.streamIntervalMs. */
  readonly streamIntervalMs: number;
}

export type GenerationRoute<T> = (res: ServerResponse, parsed: T, signal: AbortSignal, key: string, trace: RequestTrace | undefined) => Promise<void>;

export function createGenerationRoutes(context: GenerationRoutesContext): { readonly completion: GenerationRoute<ParsedCompletionRequest>; readonly chat: GenerationRoute<ParsedChatRequest> } {
  const { model, queue, streamIntervalMs } = context;
  const { modelId, meta, fim } = context.served;
  const info = model.info;

  const checkModel = (name: string | undefined) => {
    if (name && name !== modelId && name !== info.id) throw new RequestError(404, `The model "${name}" is not served here; this server serves "${modelId}".`, 'model', 'model_not_found');
  };

  const tokenText = (id: number) => model.tokenizer.decode([id]);
  const tokenBytes = (id: number) => Array.from(model.tokenizer.tokenBytes?.(id) ?? Buffer.from(tokenText(id), 'utf8'));

  /**
   * Waits for a turn (saying so in the stream), then streams the generation's events; aborting
   * `signal` ends either. When the generation fails, the tokens the stream holds go out before the error.
   */
  async function* run(key: string, request: GenerateRequest, signal: AbortSignal, stream: SseStream, trace: RequestTrace | undefined): AsyncGenerator<GenerationEvent> {
    if (queue.active > 0 || queue.waiting > 0) stream.comment(`queued: ${queue.waiting + 1} waiting`);
    const release = await queue.acquire(key, signal);
    try {
      // Tokens reach this process as often as the stream writes them, not once each (sseStream.ts).
      const transport = { coalesceMs: streamIntervalMs };
      if (!trace) {
        yield* model.generate(request, signal, transport);
        return;
      }
      trace.grantedAt = monotonicMs();
      for await (const event of model.generate(request, signal, transport)) {
        trace.events.push({ type: event.type, at: monotonicMs() });
        if (event.type === 'end') trace.modelMs = { prefill: event.timings.prefillMs, decode: event.timings.decodeMs };
        yield event;
      }
    } catch (error) {
      stream.flush();
      throw error;
    } finally {
      release();
    }
  }

  function completionPrompt(parsed: ParsedCompletionRequest): PromptInput {
    if (parsed.suffix !== undefined) {
      if (!fim.ok) throw new RequestError(400, `'suffix' needs a model with fill-in-the-middle tokens: ${fim.reason}`, 'suffix');
      const prefix = 'text' in parsed.prompt ? parsed.prompt.text : model.tokenizer.decode(parsed.prompt.ids);
      return { kind: 'tokens', ids: encodeParts(model.tokenizer, fim.template.build({ prefix, suffix: parsed.suffix })) };
    }
    // A text prompt is parsed like vLLM's and llama.cpp's: `<|fim_prefix|>` spelled out is the control token.
    if ('text' in parsed.prompt) return { kind: 'tokens', ids: model.tokenizer.encodeWithSpecialTokens(parsed.prompt.text) };
    return { kind: 'tokens', ids: parsed.prompt.ids };
  }

  /**
   * The runtime's request: the prompt as the ids encoded here (the model process does not tokenize
   * it again); max_tokens is capped to the room the prompt leaves (never cutting the prompt), as vLLM does.
   */
  function generateRequest(parsed: ParsedCompletionRequest | ParsedChatRequest, promptIds: readonly number[], topLogprobs: number): GenerateRequest {
    const room = info.contextLength - promptIds.length;
    if (room < 1) throw new RequestError(400, `The prompt is ${promptIds.length} tokens; ${modelId}'s context window is ${info.contextLength} tokens, leaving no room for an answer. Send a shorter prompt.`, parsed.kind === 'chat' ? 'messages' : 'prompt', 'context_length_exceeded');
    return { prompt: { kind: 'tokens', ids: promptIds }, maxTokens: Math.min(parsed.maxTokens, room), sampling: parsed.sampling, stop: parsed.stop, stopTokenIds: parsed.stopTokenIds, topLogprobs };
  }

  async function handleCompletion(res: ServerResponse, parsed: ParsedCompletionRequest, signal: AbortSignal, key: string, trace: RequestTrace | undefined): Promise<void> {
    checkModel(parsed.model);
    const prompt = completionPrompt(parsed);
    const promptIds = model.encodePrompt(prompt);
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const wantLogprobs = parsed.logprobs !== undefined;
    const request = generateRequest(parsed, promptIds, parsed.logprobs ?? 0);
    const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: modelId };
    let offset = 0;
    const logprobsOf = (tokens: readonly TokenEvent[]): WireLegacyLogprobs => {
      const result: WireLegacyLogprobs = {
        tokens: tokens.map((token) => tokenText(token.id)),
        token_logprobs: tokens.map((token) => token.logprob),
        top_logprobs: tokens.map((token) => (parsed.logprobs ? Object.fromEntries(token.top.map((alt) => [alt.text, alt.logprob])) : null)),
        text_offset: tokens.map((token) => {
          const at = offset;
          offset += token.text.length;
          return at;
        }),
      };
      return result;
    };
    const stream = new SseStream(res, {
      streaming: parsed.stream,
      intervalMs: streamIntervalMs,
      trace,
      renderTokens: (tokens) => ({ ...base, choices: [{ index: 0, text: tokens.map((token) => token.text).join(''), logprobs: wantLogprobs ? logprobsOf(tokens) : null, finish_reason: null }] }),
    });
    if (trace) trace.preparedAt = monotonicMs();
    let text = '';
    const tokens: TokenEvent[] = [];
    let reused = 0;
    let end = noEnd;
    for await (const event of run(key, request, signal, stream, trace)) {
      if (event.type === 'start') {
        reused = event.reusedTokens;
        if (parsed.stream && parsed.returnTokenIds) stream.event({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: null, prompt_token_ids: promptIds }] });
      } else if (event.type === 'token') {
        if (parsed.stream) stream.token(event);
        else tokens.push(event);
        text += event.text;
      } else {
        end = summarizeEnd(event, reused);
      }
    }
    if (parsed.stream) {
      endStream(stream, base, { index: 0, text: '', logprobs: null, finish_reason: end.reason }, end, parsed.includeUsage);
      return;
    }
    sendJson(res, 200, { ...base, choices: [{ index: 0, text, logprobs: wantLogprobs ? logprobsOf(tokens) : null, finish_reason: end.reason, ...(parsed.returnTokenIds ? { prompt_token_ids: promptIds } : {}) }], usage: end.usage, timings: end.timings });
  }

  async function handleChat(res: ServerResponse, parsed: ParsedChatRequest, signal: AbortSignal, key: string, trace: RequestTrace | undefined): Promise<void> {
    checkModel(parsed.model);
    if (!meta.hasChatTemplate) throw new RequestError(400, `${modelId} cannot chat (${meta.builtin ? 'the built-in model completes code; it was never trained to follow instructions' : 'it has no chat template: it completes code'}): use /v1/completions, or serve an instruct model.`, 'messages');
    const prompt: PromptInput = { kind: 'chat', messages: parsed.messages, addGenerationPrompt: true, variables: parsed.variables };
    // Rendering errors (a template that rejects the messages) are the request's fault: 400.
    let promptIds: number[];
    try {
      promptIds = model.encodePrompt(prompt);
    } catch (error) {
      throw new RequestError(400, `The chat template rejected these messages: ${error instanceof Error ? error.message : String(error)}`, 'messages');
    }
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const request = generateRequest(parsed, promptIds, parsed.logprobs ? parsed.topLogprobs : 0);
    const base = { id, object: parsed.stream ? 'chat.completion.chunk' : 'chat.completion', created: Math.floor(Date.now() / 1000), model: modelId };
    const entryOf = (token: TokenEvent): WireChatLogprobEntry => ({
      token: tokenText(token.id),
      logprob: token.logprob,
      bytes: tokenBytes(token.id),
      top_logprobs: token.top.slice(0, parsed.topLogprobs).map((alt) => ({ token: alt.text, logprob: alt.logprob, bytes: tokenBytes(alt.id) })),
    });
    const stream = new SseStream(res, {
      streaming: parsed.stream,
      intervalMs: streamIntervalMs,
      trace,
      renderTokens: (tokens) => ({ ...base, choices: [{ index: 0, delta: { content: tokens.map((token) => token.text).join('') }, logprobs: parsed.logprobs ? { content: tokens.map(entryOf) } : null, finish_reason: null }] }),
    });
    if (trace) trace.preparedAt = monotonicMs();
    let content = '';
    const entries: WireChatLogprobEntry[] = [];
    let reused = 0;
    let end = noEnd;
    for await (const event of run(key, request, signal, stream, trace)) {
      if (event.type === 'start') {
        reused = event.reusedTokens;
        if (parsed.stream) stream.event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      } else if (event.type === 'token') {
        content += event.text;
        if (parsed.stream) stream.token(event);
        else if (parsed.logprobs) entries.push(entryOf(event));
      } else {
        end = summarizeEnd(event, reused);
      }
    }
    if (parsed.stream) {
      endStream(stream, base, { index: 0, delta: {}, logprobs: null, finish_reason: end.reason }, end, parsed.includeUsage);
      return;
    }
    sendJson(res, 200, { ...base, choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: parsed.logprobs ? { content: entries } : null, finish_reason: end.reason }], usage: end.usage, timings: end.timings });
  }

  return { completion: handleCompletion, chat: handleChat };
}
