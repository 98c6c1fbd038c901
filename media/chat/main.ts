import type { ChatModelStatus, ExtensionToWebview, WebviewToExtension } from '../../src/shared/chatProtocol';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;

/** Builds an element with text content only: model and user text never become markup. */
function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const header = element('div', 'status');
const transcript = element('div', 'transcript');
transcript.setAttribute('role', 'log');
transcript.setAttribute('aria-live', 'polite');
const form = element('form', 'composer');
const input = element('textarea', 'input');
input.placeholder = 'Ask about your code…';
input.rows = 3;
input.setAttribute('aria-label', 'Message');
const send = element('button', 'send', 'Send');
send.type = 'submit';
form.append(input, send);
app.append(header, transcript, form);

let requestCounter = 0;

function renderStatus(status: ChatModelStatus): void {
  header.replaceChildren();
  header.append(element('span', 'model', status.modelLabel));
  if (!status.canChat && status.notice) {
    const notice = element('p', 'notice', status.notice);
    const choose = element('button', 'link', 'Choose a chat model…');
    choose.type = 'button';
    choose.addEventListener('click', () => vscode.postMessage({ type: 'command', command: 'chooseModel' }));
    header.append(notice, choose);
  }
}

function addMessage(role: 'user' | 'notice', text: string): void {
  transcript.append(element('div', `message ${role}`, text));
  transcript.scrollTop = transcript.scrollHeight;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  addMessage('user', text);
  input.value = '';
  vscode.postMessage({ type: 'send', requestId: `r${Date.now()}-${requestCounter++}`, text });
});

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    form.requestSubmit();
  }
});

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'init':
    case 'status':
      renderStatus(message.status);
      break;
    case 'notice':
      addMessage('notice', message.text);
      break;
  }
});

vscode.postMessage({ type: 'ready' });
