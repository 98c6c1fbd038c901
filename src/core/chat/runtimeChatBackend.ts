import { fitGenerationSettings } from '../runtime/requestLimits';
import type { GenerateRequest, GenerationEvent, JsonValue, ModelInfo, PromptInput } from '../runtime/types';
import type { ChatBackend, ChatBackendInfo, ChatGenerateRequest, ChatMessage, ChatStreamEvent, ThinkingMode } from './backend';

/** What chat needs of the model runtime (the extension's ModelService; a fake in tests). */
export interface ChatRuntime {
  /** The model currently loaded in the process, if any. */
  readonly loadedModel: ModelInfo | undefined;
  /** Loads the configured model if it is not loaded; rejects with the runtime's message. */
  ensureLoaded(): Promise<ModelInfo>;
  encodePrompt(prompt: PromptInput, signal?: AbortSignal): Promise<number[]>;
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent>;
}

/** Qwen3's switch; other templates ignore the variable (DeepSeek-R1 always thinks). */
export function thinkingVariables(thinking: ThinkingMode): Readonly<Record<string, JsonValue>> {
  return thinking === 'auto' ? {} : { enable_thinking: thinking === 'on' };
}

/**
 * True when the rendered prompt ends inside an opened trace: DeepSeek-R1-Distill templates end
 * with `<think>\n`, so the model writes only the closing tag. (Qwen3 with thinking off pre-fills a
 * closed, empty `<think>\n\n</think>`; that is not open.)
 */
export function promptOpensThinking(ids: readonly number[], specialTokens: Readonly<Record<string, number>>): boolean {
  const open = specialTokens['<think>'];
  if (open === undefined) return false;
  const close = specialTokens['</think>'];
  const lastOpen = ids.lastIndexOf(open);
  return lastOpen >= 0 && lastOpen >= ids.length - 3 && (close === undefined || ids.lastIndexOf(close) < lastOpen);
}

/** Alternatives kept per generated token for the chat's probability view. */
export const chatTopAlternatives = 5;

/** The chat's settings as the user sees them (package.json). */
const chatSettingNames = { maxTokens: 'tokenscope.chat.maxTokens', temperature: 'tokenscope.chat.temperature', topP: 'tokenscope.chat.topP' };

export function noChatTemplateNotice(label: string): string {
  return `${label} has no chat template (its tokenizer_config.json has no "chat_template"): it is a base model for code completion, not a chat model, and its "answers" would not follow your question. Choose an instruct or chat model folder (e.g. Qwen2.5-Coder-Instruct or Qwen3) to chat.`;
}

/**
 * Chat over the local model runtime (the forked model process): chat-template prompts, token
 * streaming, exact prompt counts from the process's own encoding, and Stop through the signal.
 */
export class RuntimeChatBackend implements ChatBackend {
  constructor(
    private readonly model: string,
    private readonly label: string,
    private readonly runtime: ChatRuntime,
  ) {}

  /**
   * What is known before the model loads is its name (the same short label as the status bar);
   * what it can do comes from ModelInfo once loaded.
   */
  get info(): ChatBackendInfo {
    const loaded = this.runtime.loadedModel;
    if (!loaded || loaded.id !== this.model) return { label: this.label, canChat: true, supportsThinking: false, contextWindow: 0 };
    if (!loaded.hasChatTemplate) return { label: this.label, canChat: false, supportsThinking: false, contextWindow: loaded.contextLength, notice: noChatTemplateNotice(this.label) };
    return { label: this.label, canChat: true, supportsThinking: loaded.templateSupportsThinking, contextWindow: loaded.contextLength };
  }

  async countTokens(text: string): Promise<number> {
    await this.runtime.ensureLoaded();
    return (await this.runtime.encodePrompt({ kind: 'text', text })).length;
  }

  async countPromptTokens(messages: readonly ChatMessage[], thinking: ThinkingMode): Promise<number> {
    const info = await this.runtime.ensureLoaded();
    if (!info.hasChatTemplate) return (await this.runtime.encodePrompt({ kind: 'text', text: messages.map((m) => m.content).join('\n\n') })).length;
    return (await this.runtime.encodePrompt(this.prompt(messages, thinking))).length;
  }

  private prompt(messages: readonly ChatMessage[], thinking: ThinkingMode): PromptInput {
    return { kind: 'chat', messages: messages.map((m) => ({ role: m.role, content: m.content })), addGenerationPrompt: true, variables: thinkingVariables(thinking) };
  }

  async *generate(request: ChatGenerateRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const info = await this.runtime.ensureLoaded();
    if (!info.hasChatTemplate) throw new Error(noChatTemplateNotice(this.label));
    const prompt = this.prompt(request.messages, request.thinking);
    let generated = 0;
    try {
      const ids = await this.runtime.encodePrompt(prompt, signal);
      const opensThinking = promptOpensThinking(ids, info.specialTokens);
      // The settings, fitted to this model: topP 0 would throw in the runtime, and a maxTokens past the context would cut the prompt.
      const fitted = fitGenerationSettings(
        { maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP },
        { modelLabel: this.label, contextLength: info.contextLength, promptTokens: ids.length },
        chatSettingNames,
      );
      // Five alternatives per token: what the chat's probability view shows (a partial sort of the logits per step).
      const runtimeRequest: GenerateRequest = { prompt, maxTokens: fitted.settings.maxTokens, sampling: { temperature: fitted.settings.temperature, topP: fitted.settings.topP }, topLogprobs: chatTopAlternatives };
      for await (const event of this.runtime.generate(runtimeRequest, signal)) {
        if (event.type === 'start') {
          yield { type: 'start', promptTokens: event.promptTokens, promptOpensThinking: opensThinking, ...(fitted.changes.length > 0 ? { notices: fitted.changes } : {}) };
        } else if (event.type === 'token') {
          generated++;
          // An empty text is half a character: still one token for the counts.
          yield { type: 'text', text: event.text, tokens: 1, probabilities: [{ text: event.text, logprob: event.logprob, top: event.top.map((alternative) => ({ text: alternative.text, logprob: alternative.logprob })) }] };
        } else {
          yield { type: 'end', generatedTokens: event.timings.generatedTokens, stopReason: event.finishReason === 'length' || event.finishReason === 'context' ? 'length' : 'stop' };
        }
      }
    } catch (error) {
      // Stop: the runtime rejects with an AbortError; what streamed so far is the answer.
      if (signal.aborted || (error instanceof Error && error.name === 'AbortError')) {
        yield { type: 'end', generatedTokens: generated, stopReason: 'aborted' };
        return;
      }
      throw error;
    }
  }
}
