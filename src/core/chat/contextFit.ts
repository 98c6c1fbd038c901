/**
 * Fitting a conversation into the model's context window: the oldest exchanges go first, the new
 * message itself must fit, or the user is told what to remove.
 */
import type { ChatBackend, ChatMessage, ThinkingMode } from './backend';

export type ContextFit =
  /** `left`: how many older messages were left out of the prompt. */
  | { readonly messages: ChatMessage[]; readonly left: number }
  | { readonly problem: string };

/**
 * Drops the oldest exchanges (a question with its answer, or a lone message) until the prompt and
 * the answer's budget (maxTokens, at most half the window) fit. A window of 0 (unknown) fits all.
 */
export async function fitToContext(backend: Pick<ChatBackend, 'info' | 'countPromptTokens'>, messages: ChatMessage[], thinking: ThinkingMode, maxTokens: number): Promise<ContextFit> {
  const window = backend.info.contextWindow;
  if (window <= 0) return { messages, left: 0 };
  const budget = Math.max(1, window - Math.min(maxTokens, Math.floor(window / 2)));
  let kept = messages;
  let tokens = await backend.countPromptTokens(kept, thinking);
  while (kept.length > 1 && tokens > budget) {
    kept = kept.slice(kept[0]?.role === 'user' && kept[1]?.role === 'assistant' ? 2 : 1);
    tokens = await backend.countPromptTokens(kept, thinking);
  }
  if (tokens > budget) {
    return { problem: `This message is about ${tokens} tokens, but ${backend.info.label} has room for ${budget} prompt tokens (a ${window}-token window, less room for the answer). Remove attachments or select less code.` };
  }
  return { messages: kept, left: messages.length - kept.length };
}
