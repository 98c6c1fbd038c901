/**
 * The chat sidebar's script (a browser, no Node): it renders the conversation the extension sends
 * over the chat protocol (src/core/webview/chatProtocol.ts), streams the answer being generated,
 * and sends what the user does (send, stop, attach, code actions, links) back as messages. State
 * that must survive the view being hidden is kept with `setState`. Its parts: layout.ts (the fixed
 * layout), streamingTurn.ts (the live answer), messages.ts (stored messages), answerActions.ts
 * (clicks inside answers), probabilities.ts (answers token by token), dom.ts and markdown.ts (inert rendering).
 */
import type { ChatModelStatus, ContextChip, ExtensionToWebview, PendingTurn, StoredAssistantMessage, StoredConversation, StoredUserMessage, ThinkingMode, WebviewToExtension } from '../../src/core/webview/chatProtocol';
import { handleAnswerActions } from './answerActions';
import { button, element, flash } from './dom';
import { chatPlaceholder, createLayout } from './layout';
import { renderAssistant, renderUser } from './messages';
import { ProbabilityView } from './probabilities';
import { StreamingTurn } from './streamingTurn';

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
  /** The probability view is on. */
  readonly probabilities?: boolean;
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const openTrace = (messageId: string) => vscode.postMessage({ type: 'openTrace', messageId });

// ---- layout ---------------------------------------------------------------------------------
const { header, transcript, empty, form, chipRow, input, promptInfo, attachSelection, attachFile, send, stop } = createLayout(app, {
  attach: (kind) => vscode.postMessage({ type: 'attach', kind }),
  stop: () => stopGeneration(),
});

// ---- state ----------------------------------------------------------------------------------
let status: ChatModelStatus | undefined;
let conversation: StoredConversation | undefined;
let chips: ContextChip[] = [];
let requestCounter = 0;
let measureCounter = 0;

let streaming: StreamingTurn | undefined;
const saved = vscode.getState() as ViewState | undefined;
const probabilities = new ProbabilityView(app, transcript, saved?.probabilities === true, () => saveState());

function saveState(): void {
  const state: ViewState = { ...(conversation ? { conversation } : {}), draft: input.value, chips, probabilities: probabilities.shown };
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
  if (next.canChat) row.append(probabilities.toggleButton());
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
  probabilities.decorateAll();
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
  streaming?.stop();
  const turn = new StreamingTurn(requestId, thinking, answer, () => scrollToEnd());
  transcript.append(turn.node);
  streaming = turn;
  turn.render();
  setBusy(true);
  updateEmpty();
  scrollToEnd(true);
  saveState();
}

function endTurn(requestId: string, message: StoredAssistantMessage): void {
  if (streaming?.requestId === requestId) streaming.stop();
  const node = streaming?.requestId === requestId ? streaming.node : transcript.querySelector<HTMLElement>(`[data-request-id="${CSS.escape(requestId)}"]`);
  // An answer to a conversation no longer shown (New Chat while it streamed) stays in its own history.
  if (!node) return;
  const lastUser = conversation ? [...conversation.messages].reverse().find((m): m is StoredUserMessage => m.role === 'user') : undefined;
  const wasOpen = node.querySelector<HTMLDetailsElement>('details.thinking')?.open;
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
        chipsChanged();
      }),
    );
    chipRow.append(node);
  }
  chipRow.hidden = chips.length === 0;
}

/** The attached context changed: show it, keep it, count the prompt again, back to typing. */
function chipsChanged(): void {
  renderChips();
  saveState();
  scheduleMeasure();
  input.focus();
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

function renderPromptInfo(promptTokens: number, contextWindow: number, maxTokens: number, cost: string | undefined): void {
  const costLine = cost ? ` · ${cost}` : '';
  if (contextWindow <= 0) {
    promptInfo.textContent = `${promptTokens.toLocaleString()} prompt tokens${costLine}`;
    return;
  }
  const left = contextWindow - promptTokens;
  promptInfo.textContent = `${promptTokens.toLocaleString()} prompt tokens · ${Math.max(0, left).toLocaleString()} of ${contextWindow.toLocaleString()} left in the context window${costLine}`;
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
handleAnswerActions(transcript, (message) => vscode.postMessage(message));

// ---- messages from the extension -------------------------------------------------------------
/** A view (re)loaded mid-answer: the conversation without the pending question, then the live turn. */
function restore(next: StoredConversation, pending: PendingTurn | undefined): void {
  streaming?.stop();
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
      if (message.part === 'thinking') streaming.addThinking(message.text);
      else streaming.addAnswer(message.text);
      break;
    case 'turnProgress':
      if (streaming?.requestId === message.requestId) streaming.setProgress(message.text);
      break;
    case 'reclassify':
      if (streaming?.requestId !== message.requestId) break;
      streaming.reclassify();
      break;
    case 'turnEnd':
      endTurn(message.requestId, message.message);
      break;
    case 'notice':
      renderNotice(message.text, message.action);
      break;
    case 'promptInfo':
      if (message.measureId === measureCounter) renderPromptInfo(message.promptTokens, message.contextWindow, message.maxTokens, message.cost);
      break;
    case 'chip':
      chips = [...chips.filter((chip) => chip.label !== message.chip.label), message.chip];
      chipsChanged();
      break;
    case 'probabilities':
      probabilities.set(message.messageId, message.tokens, message.total);
      break;
  }
});

// ---- start: show what we had at once, then let the extension's `init` bring the truth ----------
if (saved?.conversation) renderConversation(saved.conversation);
else updateEmpty();
if (typeof saved?.draft === 'string') input.value = saved.draft;
if (Array.isArray(saved?.chips)) chips = [...saved.chips];
renderChips();
vscode.postMessage({ type: 'ready' });
