/**
 * The chat view's fixed layout, built once: the status header, the transcript (an ARIA live log),
 * and the composer (attached-context chips, the message box, the prompt's token count, and the
 * Attach / Stop / Send buttons). main.ts fills it and wires it; the buttons' actions come from it.
 */
import { button, element } from './dom';

export const chatPlaceholder = 'Ask about your code… (Enter to send, Shift+Enter for a new line)';

export interface ChatLayout {
  readonly header: HTMLElement;
  readonly transcript: HTMLElement;
  /** Shown in the transcript while it holds nothing else. */
  readonly empty: HTMLElement;
  readonly form: HTMLFormElement;
  readonly chipRow: HTMLElement;
  readonly input: HTMLTextAreaElement;
  readonly promptInfo: HTMLElement;
  readonly attachSelection: HTMLButtonElement;
  readonly attachFile: HTMLButtonElement;
  readonly send: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
}

export function createLayout(app: HTMLElement, actions: { attach(kind: 'selection' | 'file'): void; stop(): void }): ChatLayout {
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
  input.placeholder = chatPlaceholder;
  input.rows = 3;
  input.setAttribute('aria-label', 'Message');
  const promptInfo = element('div', 'prompt-info');
  promptInfo.setAttribute('aria-live', 'polite');
  const buttons = element('div', 'composer-actions');
  const attachSelection = button('secondary', 'Attach selection', 'Attach the editor selection to the next message', () => actions.attach('selection'));
  const attachFile = button('secondary', 'Attach file', 'Attach the whole active file to the next message', () => actions.attach('file'));
  const send = element('button', 'send', 'Send');
  send.type = 'submit';
  const stop = button('stop', 'Stop', 'Stop generating (Escape)', () => actions.stop());
  stop.hidden = true;
  buttons.append(attachSelection, attachFile, element('span', 'spacer'), stop, send);
  form.append(chipRow, input, promptInfo, buttons);
  app.append(header, transcript, form);
  return { header, transcript, empty, form, chipRow, input, promptInfo, attachSelection, attachFile, send, stop };
}
