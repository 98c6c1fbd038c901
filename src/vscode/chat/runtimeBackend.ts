import type * as vscode from 'vscode';
import { UnavailableChatBackend, type ChatBackend } from '../../core/chat/backend';
import { modelLabel } from '../modelCommands';

/*
 * ADAPTER SPOT for the real model runtime (src/core/runtime, a forked model process behind typed
 * RPC). It is not in this build yet; when it lands, this function returns a ChatBackend that:
 *  - info: label from ModelInfo.label; canChat = ModelInfo.hasChatTemplate; supportsThinking =
 *    ModelInfo.templateSupportsThinking; contextWindow = ModelInfo.contextLength.
 *  - countTokens(text): the model tokenizer's encode(text).length (in the extension host, or via RPC).
 *  - countPromptTokens(messages, thinking): tokens of the chat-template rendering (the runtime's
 *    start event reports the exact number; this is only for the "context left" display).
 *  - generate(request, signal): runtime.generate({ prompt: { kind: 'chat', messages, variables:
 *    thinking === 'auto' ? {} : { enable_thinking: thinking === 'on' } }, maxTokens, sampling:
 *    { temperature, topP } }, signal) and maps its GenerationEvents:
 *      start  → { type: 'start', promptTokens, promptOpensThinking: rendered prompt ends with
 *               `<think>\n` (DeepSeek-R1 templates) }
 *      token  → { type: 'text', text: event.text, tokens: 1 }   (text may be '' mid-character)
 *      end    → { type: 'end', generatedTokens: timings.generatedTokens, stopReason: finishReason
 *               === 'length' || 'context' ? 'length' : 'stop' }
 *    and turns the runtime's AbortError (GenerationAbortedError) into { type: 'end', stopReason: 'aborted' }.
 * Everything else (the `<think>` parser, stats, history, annotations) already runs on this interface.
 */
export function createRuntimeChatBackend(model: string, log: vscode.LogOutputChannel): ChatBackend {
  log.debug(`Chat: no model runtime in this build; chat with ${model} is unavailable.`);
  return new UnavailableChatBackend(
    modelLabel(model),
    'Chat with a local model folder needs the model runtime, which is not part of this build yet. The chat view, Explain Selection and reasoning annotations are ready for it.',
  );
}
