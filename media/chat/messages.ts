/** How a stored message looks in the chat transcript (the same for history and a finished answer). */
import type { StoredAssistantMessage, StoredUserMessage } from '../../src/core/webview/chatProtocol';
import { formatDuration, formatStats } from '../../src/core/chat/stats';
import { button, element, setMarkdown } from './dom';

export function renderUser(message: StoredUserMessage): HTMLElement {
  const node = element('div', 'message user');
  node.dataset.id = message.id;
  node.append(element('div', 'text', message.text));
  if (message.attachments?.length) {
    const list = element('div', 'attachments');
    for (const label of message.attachments) list.append(element('span', 'chip', label));
    node.append(list);
  }
  return node;
}

export function thinkingBlock(text: string, summary: string, open: boolean): HTMLDetailsElement {
  const details = element('details', 'thinking');
  details.open = open;
  const head = element('summary', '', summary);
  const body = element('div', 'thinking-body markdown');
  setMarkdown(body, text);
  details.append(head, body);
  return details;
}

export function stopLabel(message: StoredAssistantMessage): string | undefined {
  switch (message.stopReason) {
    case 'aborted':
      return 'Stopped.';
    case 'length':
      return message.thinking && !message.thinking.complete ? 'The model reached the token limit while still thinking (tokenscope.chat.maxTokens).' : 'Cut off at the token limit (tokenscope.chat.maxTokens).';
    case 'error':
      return message.error ?? 'Generation failed.';
    default:
      return undefined;
  }
}

/** An answer: its reasoning (folded), the answer, why it stopped, its stats, and Open trace. */
export function renderAssistant(message: StoredAssistantMessage, hasExplain: boolean, openTrace: (messageId: string) => void): HTMLElement {
  const node = element('div', 'message assistant');
  node.dataset.id = message.id;
  if (message.thinking) {
    const { tokens, durationMs, complete } = message.thinking;
    const summary = `Thinking · ${tokens} tokens · ${formatDuration(durationMs)}${complete ? '' : ' · unfinished'}`;
    // An unfinished trace is all there is: show it open rather than hide the only output.
    node.append(thinkingBlock(message.thinking.text, summary, !complete && message.text.trim() === ''));
  }
  const answer = element('div', 'answer markdown');
  setMarkdown(answer, message.text);
  node.append(answer);
  const note = stopLabel(message);
  if (note) node.append(element('p', message.stopReason === 'error' ? 'stop-note error' : 'stop-note', note));
  const footer = element('div', 'message-footer');
  if (message.stats) footer.append(element('span', 'stats', formatStats(message.stats)));
  if (message.thinking || hasExplain) {
    const open = button('link open-trace', 'Open trace', 'Open the whole reasoning trace as a document', () => openTrace(message.id));
    footer.append(open);
  }
  node.append(footer);
  return node;
}
