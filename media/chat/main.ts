import type { ChatModelStatus, ContextChip, ExtensionToWebview, PendingTurn, StoredAssistantMessage, StoredConversation, StoredUserMessage, ThinkingMode, WebviewToExtension } from '../../src/core/webview/chatProtocol';
import { formatDuration } from '../../src/core/chat/stats';
import { button, element, flash, StreamedMarkdown } from './dom';
import { renderAssistant, renderUser, thinkingBlock } from './messages';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What survives the view being hidden or reloaded, before the extension's `init` arrives. */
interface ViewState {
  readonly conversation?: StoredConversation;
  readonly draft?: string;
  readonly chips?: readonly ContextChip[];
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const openTrace = (messageId: string) => vscode.postMessage({ type: 'openTrace', messageId });

// ---- layout ---------------------------------------------------------------------------------
const header = element('div', 'status');
const transcript = element('div', 'transcript');
transcript.setAttribute('role', 'log');
transcript.setAttribute('aria-live', 'polite');
transcript.setAttribute('aria-label', 'Conversation');
const empty = element('p', 'empty', 'Ask about your code, or select code and run "Explain Selection" (Ctrl+Alt+E).');
const form = element('form', 'composer');
const chipRow = element('div', 'chips');
chipRow.setAttribute('aria-label', 'Attached context');
const input = element('textarea', 'input');
const chatPlaceholder = 'Ask about your code… (Enter to send, Shift+Enter for a new line)';
input.placeholder = chatPlaceholder;
input.rows = 3;
input.setAttribute('aria-label', 'Message');
const promptInfo = element('div', 'prompt-info');
promptInfo.setAttribute('aria-live', 'polite');
const actions = element('div', 'composer-actions');
const attachSelection = button('secondary', 'Attach selection', 'Attach the editor selection to the next message', () => vscode.postMessage({ type: 'attach', kind: 'selection' }));
const attachFile = button('secondary', 'Attach file', 'Attach the whole active file to the next message', () => vscode.postMessage({ type: 'attach', kind: 'file' }));
const send = element('button', 'send', 'Send');
send.type = 'submit';
const stop = button('stop', 'Stop', 'Stop generating (Escape)', () => stopGeneration());
stop.hidden = true;
actions.append(attachSelection, attachFile, element('span', 'spacer'), stop, send);
form.append(chipRow, input, promptInfo, actions);
app.append(header, transcript, form);

// ---- state ----------------------------------------------------------------------------------
let status: ChatModelStatus | undefined;
let conversation: StoredConversation | undefined;
let chips: ContextChip[] = [];
let requestCounter = 0;
let measureCounter = 0;

interface StreamingTurn {
  requestId: string;
  thinking: string;
  answer: string;
  thinkingStartedAt?: number;
  /** The user opened or closed the Thinking block: stop auto-collapsing it. */
  userToggled: boolean;
  /** The open state this script last gave the block; a toggle to anything else was the user. */
  expectedOpen: boolean;
  node: HTMLElement;
  frame?: number;
  /** The answer and the trace, rendered incrementally while they grow. */
  answerMarkdown?: StreamedMarkdown;
  thinkingMarkdown?: StreamedMarkdown;
  /** Not before this time (performance.now()): a render that took T ms waits 2T before the next. */
  nextRenderAt: number;
  timer?: ReturnType<typeof setTimeout>;
}
let streaming: StreamingTurn | undefined;

function saveState(): void {
  const state: ViewState = { ...(conversation ? { conversation } : {}), draft: input.value, chips };
  vscode.setState(state);
}

// ---- rendering ------------------------------------------------------------------------------
function renderStatus(next: ChatModelStatus): void {
  status = next;
  header.replaceChildren();
  const row = element('div', 'status-row');
  row.append(element('span', 'model', next.modelLabel));
  if (next.canChat && next.supportsThinking) {
    const label = element('label', 'thinking-setting', 'Thinking ');
    const select = element('select', '');
    select.setAttribute('aria-label', 'Ask the model to think before answering');
    for (const mode of ['auto', 'on', 'off'] as const) {
      const option = element('option', '', mode);
      option.value = mode;
      option.selected = mode === next.thinking;
      select.append(option);
    }
    select.addEventListener('change', () => vscode.postMessage({ type: 'setThinking', mode: select.value as ThinkingMode }));
    label.append(select);
    row.append(label);
  }
  header.append(row);
  if (!next.canChat) {
    // Plain: why, and the one thing to do about it; the composer below is visibly off.
    header.append(element('p', 'notice', next.notice ?? 'This model cannot chat.'), button('choose-model', 'Choose a Chat Model…', 'Choose a chat-capable model', () => vscode.postMessage({ type: 'command', command: 'chooseModel' })));
  }
  app.classList.toggle('cannot-chat', !next.canChat);
  input.disabled = !next.canChat;
  input.placeholder = next.canChat ? chatPlaceholder : `${next.modelLabel} cannot chat. Choose a chat model above to ask questions here.`;
  send.disabled = !next.canChat;
  attachSelection.disabled = !next.canChat;
  attachFile.disabled = !next.canChat;
  scheduleMeasure();
}

/** Draws the eye to something already on screen instead of repeating it. */
function renderNotice(text: string, action?: 'chooseModel'): void {
  // Said already: the header's "cannot chat" notice (Explain Selection with a completion-only model),
  // or the notice just above. Point at it rather than adding a copy per attempt.
  const headerNotice = header.querySelector('.notice');
  if (headerNotice && headerNotice.textContent === text) {
    flash(headerNotice);
    header.querySelector<HTMLButtonElement>('button.choose-model')?.focus();
    return;
  }
  const last = transcript.lastElementChild;
  if (last?.classList.contains('notice') && last.querySelector('span')?.textContent === text) {
    flash(last);
    return;
  }
  const node = element('div', 'message notice');
  node.setAttribute('role', 'status');
  node.append(element('span', '', text));
  if (action === 'chooseModel') node.append(button('link', 'Choose a chat model…', 'Choose a chat-capable model', () => vscode.postMessage({ type: 'command', command: 'chooseModel' })));
  transcript.append(node);
  updateEmpty();
  scrollToEnd();
}

function renderConversation(next: StoredConversation): void {
  conversation = next;
  transcript.replaceChildren();
  let explainBefore = false;
  for (const message of next.messages) {
    if (message.role === 'user') {
      explainBefore = message.explain !== undefined;
      transcript.append(renderUser(message));
    } else {
      transcript.append(renderAssistant(message, explainBefore, openTrace));
    }
  }
  updateEmpty();
  scrollToEnd(true);
}

function updateEmpty(): void {
  if (transcript.children.length === 0) transcript.append(empty);
  else if (transcript.children.length > 1 && empty.parentElement) empty.remove();
}

let stickToBottom = true;
transcript.addEventListener('scroll', () => {
  stickToBottom = transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < 40;
});
function scrollToEnd(force = false): void {
  if (force || stickToBottom) transcript.scrollTop = transcript.scrollHeight;
}

// ---- streaming ------------------------------------------------------------------------------
function setBusy(busy: boolean): void {
  stop.hidden = !busy;
  send.hidden = busy;
}

function startTurn(requestId: string, user: StoredUserMessage, thinking = '', answer = ''): void {
  if (conversation) conversation = { ...conversation, messages: [...conversation.messages, user] };
  transcript.append(renderUser(user));
  const node = element('div', 'message assistant streaming');
  node.dataset.requestId = requestId;
  node.setAttribute('aria-busy', 'true');
  transcript.append(node);
  streaming = { requestId, thinking, answer, userToggled: false, expectedOpen: true, node, nextRenderAt: 0, ...(thinking ? { thinkingStartedAt: Date.now() } : {}) };
  renderStreaming();
  setBusy(true);
  updateEmpty();
  scrollToEnd(true);
  saveState();
}

/**
 * Renders the streaming answer at most once a frame, and never more than a third of the time: a
 * long unfinished block (a big code block) that takes T ms to render waits 2T for the next.
 */
function scheduleStreamingRender(): void {
  const turn = streaming;
  if (!turn || turn.frame !== undefined || turn.timer !== undefined) return;
  const wait = turn.nextRenderAt - performance.now();
  const render = () => {
    turn.timer = undefined;
    turn.frame = requestAnimationFrame(() => {
      turn.frame = undefined;
      if (streaming !== turn) return;
      const started = performance.now();
      renderStreaming();
      turn.nextRenderAt = performance.now() + 2 * (performance.now() - started);
    });
  };
  if (wait > 0) turn.timer = setTimeout(render, wait);
  else render();
}

function renderStreaming(): void {
  const turn = streaming;
  if (!turn) return;
  let details = turn.node.querySelector<HTMLDetailsElement>('details.thinking');
  if (turn.thinking) {
    const answering = turn.answer.trim() !== '';
    const seconds = turn.thinkingStartedAt ? ` · ${formatDuration(Date.now() - turn.thinkingStartedAt)}` : '';
    const summary = answering ? `Thinking${seconds}` : `Thinking…${seconds}`;
    if (!details) {
      const block = thinkingBlock(turn.thinking, summary, true);
      turn.expectedOpen = true;
      // `toggle` fires asynchronously, also for changes made here: compare with what we set.
      block.addEventListener('toggle', () => {
        if (block.open !== turn.expectedOpen) turn.userToggled = true;
      });
      turn.node.prepend(block);
      details = block;
    } else {
      const head = details.querySelector('summary');
      if (head) head.textContent = summary;
      const body = details.querySelector<HTMLElement>('.thinking-body');
      if (body) (turn.thinkingMarkdown ??= new StreamedMarkdown(body)).show(turn.thinking);
    }
    // Collapse the trace once the answer begins, unless the user chose otherwise.
    if (answering && details.open && !turn.userToggled) {
      turn.expectedOpen = false;
      details.open = false;
    }
  } else if (details) {
    details.remove();
  }
  let answer = turn.node.querySelector<HTMLElement>('.answer');
  if (!answer) {
    answer = element('div', 'answer markdown');
    turn.node.append(answer);
  }
  turn.answerMarkdown ??= new StreamedMarkdown(answer);
  if (turn.answer) turn.answerMarkdown.show(turn.answer);
  else {
    turn.answerMarkdown.clear();
    answer.replaceChildren(element('span', 'typing', turn.thinking ? '' : 'Generating…'));
  }
  scrollToEnd();
}

function endTurn(requestId: string, message: StoredAssistantMessage): void {
  if (streaming?.requestId === requestId && streaming.frame !== undefined) cancelAnimationFrame(streaming.frame);
  if (streaming?.requestId === requestId && streaming.timer !== undefined) clearTimeout(streaming.timer);
  const node = streaming?.requestId === requestId ? streaming.node : transcript.querySelector<HTMLElement>(`[data-request-id="${CSS.escape(requestId)}"]`);
  // An answer to a conversation no longer shown (New Chat while it streamed) stays in its own history.
  if (!node) return;
  const lastUser = conversation ? [...conversation.messages].reverse().find((m): m is StoredUserMessage => m.role === 'user') : undefined;
  const wasOpen = node?.querySelector<HTMLDetailsElement>('details.thinking')?.open;
  const final = renderAssistant(message, lastUser?.explain !== undefined, openTrace);
  const finalDetails = final.querySelector<HTMLDetailsElement>('details.thinking');
  if (finalDetails && wasOpen !== undefined && streaming?.userToggled) finalDetails.open = wasOpen;
  node.replaceWith(final);
  if (conversation) conversation = { ...conversation, messages: [...conversation.messages, message] };
  if (streaming?.requestId === requestId) streaming = undefined;
  setBusy(false);
  scrollToEnd();
  saveState();
  scheduleMeasure();
}

function stopGeneration(): void {
  if (streaming) vscode.postMessage({ type: 'stop', requestId: streaming.requestId });
}

// ---- composer -------------------------------------------------------------------------------
function renderChips(): void {
  chipRow.replaceChildren();
  for (const chip of chips) {
    const node = element('span', 'chip');
    node.append(element('span', '', `${chip.kind === 'file' ? 'File' : 'Selection'}: ${chip.label} · ${chip.tokens} tokens`));
    node.append(
      button('chip-remove', '×', `Remove ${chip.label}`, () => {
        chips = chips.filter((other) => other.id !== chip.id);
        renderChips();
        saveState();
        scheduleMeasure();
        input.focus();
      }),
    );
    chipRow.append(node);
  }
  chipRow.hidden = chips.length === 0;
}

let measureTimer: ReturnType<typeof setTimeout> | undefined;
/** Asks the extension for the prompt's token count a moment after typing stops. */
function scheduleMeasure(): void {
  if (measureTimer) clearTimeout(measureTimer);
  measureTimer = setTimeout(() => {
    if (!status?.canChat) {
      promptInfo.textContent = '';
      return;
    }
    vscode.postMessage({ type: 'measure', measureId: ++measureCounter, text: input.value, chips });
  }, 250);
}

function renderPromptInfo(promptTokens: number, contextWindow: number, maxTokens: number): void {
  if (contextWindow <= 0) {
    promptInfo.textContent = `${promptTokens.toLocaleString()} prompt tokens`;
    return;
  }
  const left = contextWindow - promptTokens;
  promptInfo.textContent = `${promptTokens.toLocaleString()} prompt tokens · ${Math.max(0, left).toLocaleString()} of ${contextWindow.toLocaleString()} left in the context window`;
  promptInfo.classList.toggle('warning', left < Math.min(maxTokens, contextWindow / 2));
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if ((!text && chips.length === 0) || streaming || !status?.canChat) return;
  vscode.postMessage({ type: 'send', requestId: `r${Date.now()}-${requestCounter++}`, text, chips });
  input.value = '';
  chips = [];
  renderChips();
  saveState();
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
input.addEventListener('input', () => {
  saveState();
  scheduleMeasure();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && streaming) {
    event.preventDefault();
    stopGeneration();
  }
});

// ---- actions inside rendered answers (event delegation: answers are re-rendered while streaming) ----
function activate(target: HTMLElement): boolean {
  const action = target.closest<HTMLElement>('.code-action');
  if (action) {
    const code = action.closest('.code-block')?.querySelector('code')?.textContent ?? '';
    const kind = action.dataset.action;
    if (kind === 'copy' || kind === 'insert' || kind === 'replace') {
      vscode.postMessage({ type: 'codeAction', action: kind, code });
      if (kind === 'copy') {
        action.textContent = 'Copied';
        setTimeout(() => (action.textContent = 'Copy'), 1500);
      }
    }
    return true;
  }
  const link = target.closest<HTMLElement>('.md-link');
  if (link) {
    vscode.postMessage({ type: 'openLink', href: link.dataset.href ?? '' });
    return true;
  }
  const citation = target.closest<HTMLElement>('.citation');
  if (citation) {
    const messageId = citation.closest<HTMLElement>('.message')?.dataset.id;
    const start = Number(citation.dataset.start);
    const end = Number(citation.dataset.end);
    if (messageId && start >= 1 && end >= 1) vscode.postMessage({ type: 'revealLines', messageId, start: Math.min(start, end), end: Math.max(start, end) });
    return true;
  }
  return false;
}
transcript.addEventListener('click', (event) => {
  if (event.target instanceof HTMLElement && activate(event.target)) event.preventDefault();
});
transcript.addEventListener('keydown', (event) => {
  // Links and citations are spans/anchors without href: make Enter and Space work like a click.
  if ((event.key === 'Enter' || event.key === ' ') && event.target instanceof HTMLElement && event.target.matches('.md-link, .citation') && activate(event.target)) event.preventDefault();
});

// ---- messages from the extension -------------------------------------------------------------
/** A view (re)loaded mid-answer: the conversation without the pending question, then the live turn. */
function restore(next: StoredConversation, pending: PendingTurn | undefined): void {
  streaming = undefined;
  setBusy(false);
  renderConversation(pending ? { ...next, messages: next.messages.filter((m) => m.id !== pending.user.id) } : next);
  if (pending) startTurn(pending.requestId, pending.user, pending.thinking, pending.answer);
}

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
      renderStatus(message.status);
      restore(message.conversation, message.pending);
      saveState();
      break;
    case 'status':
      renderStatus(message.status);
      break;
    case 'conversation':
      restore(message.conversation, undefined);
      saveState();
      scheduleMeasure();
      break;
    case 'turnStart':
      startTurn(message.requestId, message.user);
      break;
    case 'delta':
      if (streaming?.requestId !== message.requestId) break;
      if (message.part === 'thinking') {
        streaming.thinkingStartedAt ??= Date.now();
        streaming.thinking += message.text;
      } else streaming.answer += message.text;
      scheduleStreamingRender();
      break;
    case 'reclassify':
      if (streaming?.requestId !== message.requestId) break;
      streaming.thinking += streaming.answer;
      streaming.answer = '';
      streaming.thinkingStartedAt ??= Date.now();
      scheduleStreamingRender();
      break;
    case 'turnEnd':
      endTurn(message.requestId, message.message);
      break;
    case 'notice':
      renderNotice(message.text, message.action);
      break;
    case 'promptInfo':
      if (message.measureId === measureCounter) renderPromptInfo(message.promptTokens, message.contextWindow, message.maxTokens);
      break;
    case 'chip':
      chips = [...chips.filter((chip) => chip.label !== message.chip.label), message.chip];
      renderChips();
      saveState();
      scheduleMeasure();
      input.focus();
      break;
  }
});

// ---- start: show what we had at once, then let the extension's `init` bring the truth ----------
const saved = vscode.getState() as ViewState | undefined;
if (saved?.conversation) renderConversation(saved.conversation);
else updateEmpty();
if (typeof saved?.draft === 'string') input.value = saved.draft;
if (Array.isArray(saved?.chips)) chips = [...saved.chips];
renderChips();
vscode.postMessage({ type: 'ready' });
