/**
 * Chat and Explain with a server's model, behind the ChatBackend the local runtime serves: POST
 * /chat/completions with `stream: true`, reasoning from `reasoning_content` / `reasoning` (or
 * `<think>` tags left in the text) into the Thinking block, `usage` into the counts and the cost
 * line (counted locally with the model's tokenizer when the server sends none), logprobs into the
 * answer's confidence where the server returns them. Stop aborts the HTTP request.
 */
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatMessage, ChatStreamEvent, ChatTokenProbability, ThinkingMode } from '../chat/backend';
import { approximateTokenCount } from '../chat/backend';
import { encodeChat } from '../prompt/chatTemplate';
import { ServerError } from './client';
import type { ChatCompletionChunk, ChatCompletionRequestBody, WireChatLogprobEntry } from './protocol';

/** A server's logprob entry in the chat's words (alternatives as the server sent them, maybe none). */
function tokenProbability(entry: WireChatLogprobEntry): ChatTokenProbability {
  return { text: entry.token, logprob: entry.logprob, top: (entry.top_logprobs ?? []).filter((alternative) => Number.isFinite(alternative.logprob)).map((alternative) => ({ text: alternative.token, logprob: alternative.logprob })) };
}
import { capabilitiesOf, type ResolvedTokenizer, type ServerConnection, type ServerFlavour, type ServerModel } from './server';

export interface RemoteChatOptions {
  readonly connection: ServerConnection;
  /** Model name on the server; empty: the server's first. */
  readonly model: string;
  /** Logged once per problem (e.g. the server rejected logprobs and was asked again without). */
  readonly log?: (message: string) => void;
}

interface Resolved {
  readonly model: ServerModel;
  readonly flavour: ServerFlavour;
  readonly tokenizer: ResolvedTokenizer | undefined;
}

/** Per message: the chat template's role markers, for local estimates without a template. */
const perMessageOverhead = 4;

export class RemoteChatBackend implements ChatBackend {
  private resolved: Resolved | undefined;
  private resolving: Promise<Resolved> | undefined;
  /** Set when the server rejected `logprobs`: asked without from then on. */
  private logprobsRejected = false;

  constructor(private readonly options: RemoteChatOptions) {}

  get info(): ChatBackendInfo {
    const { connection, model } = this.options;
    const resolved = this.resolved;
    const label = `${resolved?.model.id ?? (model || 'model')} @ ${connection.name}`;
    if (!resolved) return { label, canChat: true, supportsThinking: false, contextWindow: 0 };
    const capabilities = capabilitiesOf(resolved.flavour);
    const supportsThinking = resolved.model.tokenscope?.supportsThinking ?? (capabilities.chatTemplateKwargs || capabilities.reasoningEffort);
    return { label, canChat: resolved.model.tokenscope?.hasChatTemplate ?? true, supportsThinking, contextWindow: resolved.model.contextLength ?? 0, ...(resolved.model.tokenscope?.hasChatTemplate === false ? { notice: `${resolved.model.id} on ${connection.name} has no chat template: it completes code but cannot chat. Connect chat to an instruct model.` } : {}) };
  }

  /** Fetches the model list and the tokenizer once (the chat header then shows what the model can do). */
  resolve(signal?: AbortSignal): Promise<Resolved> {
    if (this.resolved) return Promise.resolve(this.resolved);
    this.resolving ??= (async () => {
      const { connection } = this.options;
      const model = await connection.model(this.options.model, signal);
      const flavour = await connection.flavour(signal);
      const tokenizer = await connection.tokenizerFor(model, signal).catch((error: unknown) => {
        this.options.log?.(`No tokenizer for ${model.id}: ${error instanceof Error ? error.message : String(error)}; token counts are estimates.`);
        return undefined;
      });
      this.resolved = { model, flavour, tokenizer };
      return this.resolved;
    })();
    this.resolving.catch(() => (this.resolving = undefined));
    return this.resolving;
  }

  async countTokens(text: string): Promise<number> {
    const resolved = await this.resolve().catch(() => undefined);
    return resolved?.tokenizer ? resolved.tokenizer.tokenizer.count(text) : approximateTokenCount(text);
  }

  async countPromptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): Promise<number> {
    const resolved = await this.resolve().catch(() => undefined);
    const tokenizer = resolved?.tokenizer;
    if (tokenizer?.chatTemplate) {
      try {
        return encodeChat(tokenizer.tokenizer, tokenizer.chatTemplate, {
          messages: messages.map((m) => ({ role: m.role, content: m.content })),
          addGenerationPrompt: true,
          variables: thinking === 'auto' ? {} : { enable_thinking: thinking === 'on' },
        }).ids.length;
      } catch {
        // A template our renderer cannot run: count the texts instead.
      }
    }
    const count = (text: string) => (tokenizer ? tokenizer.tokenizer.count(text) : approximateTokenCount(text));
    return messages.reduce((sum, message) => sum + count(message.content) + perMessageOverhead, 0);
  }

  async *generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const { connection } = this.options;
    const resolved = await this.resolve(signal);
    const capabilities = capabilitiesOf(resolved.flavour);
    const thinkingSwitch =
      request.thinking === 'auto'
        ? {}
        : capabilities.chatTemplateKwargs
          ? { chat_template_kwargs: { enable_thinking: request.thinking === 'on' } }
          : capabilities.reasoningEffort && request.thinking === 'off'
            ? { reasoning_effort: 'none' }
            : {};
    const body = (withLogprobs: boolean): ChatCompletionRequestBody => ({
      model: resolved.model.id,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      ...(withLogprobs ? { logprobs: true } : {}),
      ...thinkingSwitch,
    });

    let chunks = 0;
    let scoredTokens = 0;
    let logprobSum = 0;
    let generatedText = '';
    let inReasoning = false;
    let sawContent = false;
    let usage: ChatCompletionChunk['usage'];
    let finish: string | undefined;
    const wantLogprobs = capabilities.chatLogprobs && !this.logprobsRejected;
    let attemptLogprobs = wantLogprobs;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        for await (const chunk of connection.client.stream<ChatCompletionChunk>('/chat/completions', body(attemptLogprobs), signal)) {
          if (chunk.usage) usage = chunk.usage;
          const choice = chunk.choices?.[0];
          if (!choice) continue;
          if (choice.finish_reason) finish = choice.finish_reason;
          const delta = choice.delta ?? choice.message;
          const reasoning = delta?.reasoning_content ?? delta?.reasoning ?? '';
          const content = delta?.content ?? '';
          const entries = choice.logprobs?.content;
          if (Array.isArray(entries)) {
            for (const entry of entries) {
              if (Number.isFinite(entry.logprob)) {
                logprobSum += entry.logprob;
                scoredTokens++;
              }
            }
          }
          const tokens = Array.isArray(entries) && entries.length > 0 ? entries.length : 1;
          // The chunk's token probabilities go with its first text event (a chunk is usually one token).
          let probabilities: ChatTokenProbability[] | undefined = Array.isArray(entries) && entries.length > 0 ? entries.filter((entry) => Number.isFinite(entry.logprob)).map(tokenProbability) : undefined;
          const withProbabilities = () => {
            const attached = probabilities && probabilities.length > 0 ? { probabilities } : {};
            probabilities = undefined;
            return attached;
          };
          // Reasoning in its own field goes into the trace as if the model had written <think> tags:
          // the same parser then fills the Thinking block and the line annotations.
          let tokensLeft = tokens;
          if (reasoning && !sawContent) {
            chunks++;
            const text = inReasoning ? reasoning : `<think>${reasoning}`;
            inReasoning = true;
            generatedText += reasoning;
            yield { type: 'text', text, tokens: tokensLeft, ...withProbabilities() };
            tokensLeft = 0;
          }
          if (content) {
            chunks++;
            const text = inReasoning ? `</think>${content}` : content;
            inReasoning = false;
            sawContent = true;
            generatedText += content;
            yield { type: 'text', text, tokens: tokensLeft, ...withProbabilities() };
          }
        }
        break;
      } catch (error) {
        if (signal.aborted || (error instanceof Error && error.name === 'AbortError')) {
          if (inReasoning) yield { type: 'text', text: '</think>', tokens: 0 };
          yield { type: 'end', generatedTokens: usage?.completion_tokens ?? chunks, stopReason: 'aborted', ...(usage?.prompt_tokens !== undefined ? { promptTokens: usage.prompt_tokens } : {}) };
          return;
        }
        // DeepSeek's reasoner (and some gateways) reject logprobs: ask once more without, before anything streamed.
        if (attempt === 0 && attemptLogprobs && chunks === 0 && error instanceof ServerError && error.kind === 'bad-request' && /logprob/i.test(error.message)) {
          this.logprobsRejected = true;
          attemptLogprobs = false;
          this.options.log?.(`${connection.name} rejected logprobs for ${resolved.model.id} (${error.message}); asking without, so answers from it show no confidence.`);
          continue;
        }
        throw error;
      }
    }
    if (inReasoning) yield { type: 'text', text: '</think>', tokens: 0 };
    if (attemptLogprobs && scoredTokens === 0 && chunks > 0) this.options.log?.(`${connection.name} sent no token probabilities (logprobs) for ${resolved.model.id}: answers show no confidence.`);
    const generatedTokens = usage?.completion_tokens ?? (scoredTokens > 0 ? scoredTokens : resolved.tokenizer ? resolved.tokenizer.tokenizer.count(generatedText) : chunks);
    yield {
      type: 'end',
      generatedTokens,
      stopReason: finish === 'length' ? 'length' : 'stop',
      ...(usage?.prompt_tokens !== undefined ? { promptTokens: usage.prompt_tokens } : {}),
      ...(scoredTokens > 0 ? { meanLogprob: logprobSum / scoredTokens } : {}),
      ...(typeof usage?.completion_tokens_details?.reasoning_tokens === 'number' ? { reasoningTokens: usage.completion_tokens_details.reasoning_tokens } : {}),
    };
  }
}
