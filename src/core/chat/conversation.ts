/**
 * What a conversation is made of and what the model sees of it: the pure functions behind the chat
 * (src/core/chat/chatSession.ts). No I/O, no editor: each is unit-tested as data in, data out.
 */
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from './backend';
import type { ChatTurnResult } from './chatTurn';
import { fenceFor } from './explainPrompt';
import type { ExplainRef, StoredAssistantMessage, StoredConversation, StoredUserMessage } from './historyFormat';
import type { TraceDocumentInput } from './traceFormat';
import type { ContextChip } from '../webview/chatProtocol';

/** What a message with attachments and no text asks. */
export const attachedCodeQuestion = 'Explain the attached code.';

export function emptyConversation(now = Date.now()): StoredConversation {
  return { id: randomUUID(), title: 'New chat', createdAt: now, updatedAt: now, messages: [] };
}

/** What the model sees of earlier turns: questions as sent, answers without their reasoning. */
export function modelMessages(conversation: StoredConversation): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const message of conversation.messages) {
    if (message.role === 'user') messages.push({ role: 'user', content: message.prompt ?? message.text });
    else if (message.stopReason !== 'error' && message.text.trim() !== '') messages.push({ role: 'assistant', content: message.text });
    else messages.pop(); // a question without an answer is left out with it
  }
  return messages;
}

/** The prompt of a message with attached code: each chip as a fenced block, then the question. */
export function withAttachments(text: string, chips: readonly ContextChip[]): string {
  const blocks = chips.map((chip) => {
    const fence = fenceFor(chip.text);
    const what = chip.kind === 'selection' ? `Selected code from \`${chip.path}\` (from line ${chip.startLine ?? 1})` : `The file \`${chip.path}\``;
    return `${what}:\n${fence}${chip.languageId === 'plaintext' ? '' : chip.languageId}\n${chip.text.replace(/\n$/, '')}\n${fence}`;
  });
  return [...blocks, text || attachedCodeQuestion].join('\n\n');
}

/** The user message for what was typed in the chat (with its attachments); undefined when there is nothing to send. */
export function userMessageFrom(text: string, chips: readonly ContextChip[], now = Date.now()): StoredUserMessage | undefined {
  const trimmed = text.trim();
  if (!trimmed && chips.length === 0) return undefined;
  const prompt = chips.length > 0 ? withAttachments(trimmed, chips) : undefined;
  return {
    id: randomUUID(),
    role: 'user',
    text: trimmed || attachedCodeQuestion,
    ...(prompt ? { prompt } : {}),
    ...(chips.length > 0 ? { attachments: chips.map((chip) => chip.label) } : {}),
    createdAt: now,
  };
}

/** The stored answer of a turn that finished (stopped, cut at max tokens or aborted). */
export function answerMessage(id: string, result: ChatTurnResult, model: string, now = Date.now()): StoredAssistantMessage {
  return { id, role: 'assistant', text: result.answer, ...(result.thinking ? { thinking: result.thinking } : {}), stats: result.stats, stopReason: result.stopReason, model, createdAt: now };
}

/** The stored answer of a turn that failed: what arrived before the failure, and the reason. */
export function failedAnswerMessage(id: string, partial: { readonly thinking: string; readonly answer: string }, failure: Error | undefined, model: string, now = Date.now()): StoredAssistantMessage {
  return {
    id,
    role: 'assistant',
    text: partial.answer,
    ...(partial.thinking ? { thinking: { text: partial.thinking, tokens: 0, durationMs: 0, complete: false } } : {}),
    stopReason: 'error',
    error: `${failure?.message ?? 'Generation failed.'} See the Tokenscope log for details.`,
    model,
    createdAt: now,
  };
}

/** The explain request an answer belongs to (the nearest user message at or before it). */
export function explainRefFor(conversation: StoredConversation, messageId: string): ExplainRef | undefined {
  const index = conversation.messages.findIndex((message) => message.id === messageId);
  for (let i = index; i >= 0; i--) {
    const message = conversation.messages[i];
    if (message?.role === 'user') return message.explain;
  }
  return undefined;
}

/** The newest answer of a conversation. */
export function latestAnswerId(conversation: StoredConversation): string | undefined {
  return [...conversation.messages].reverse().find((message) => message.role === 'assistant')?.id;
}

/** What the trace document shows for an answer: its question as the title, reasoning, answer and stats. */
export function traceInputFor(conversation: StoredConversation, messageId: string): TraceDocumentInput | undefined {
  const index = conversation.messages.findIndex((message) => message.id === messageId);
  const message = conversation.messages[index];
  if (!message || message.role !== 'assistant') return undefined;
  const question = [...conversation.messages.slice(0, index)].reverse().find((candidate) => candidate.role === 'user');
  return {
    title: question?.text ?? conversation.title,
    model: message.model,
    createdAt: message.createdAt,
    ...(message.thinking ? { thinking: message.thinking } : {}),
    answer: message.error ? `${message.text}\n\n(error: ${message.error})` : message.text,
    ...(message.stats ? { stats: message.stats } : {}),
    stopReason: message.stopReason,
  };
}
