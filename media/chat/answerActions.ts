/**
 * What a click (or Enter / Space) does inside a rendered answer: a code block's Copy / Insert /
 * Replace, a Markdown link, a citation of lines in the attached code. Handled by event delegation
 * on the transcript, because answers are re-rendered while they stream; each becomes one message
 * to the extension.
 */
import type { WebviewToExtension } from '../../src/core/webview/chatProtocol';

/** Handles the action under `target`, if any; true when there was one. */
function activate(target: HTMLElement, post: (message: WebviewToExtension) => void): boolean {
  const action = target.closest<HTMLElement>('.code-action');
  if (action) {
    const code = action.closest('.code-block')?.querySelector('code')?.textContent ?? '';
    const kind = action.dataset.action;
    if (kind === 'copy' || kind === 'insert' || kind === 'replace') {
      post({ type: 'codeAction', action: kind, code });
      if (kind === 'copy') {
        action.textContent = 'Copied';
        setTimeout(() => (action.textContent = 'Copy'), 1500);
      }
    }
    return true;
  }
  const link = target.closest<HTMLElement>('.md-link');
  if (link) {
    post({ type: 'openLink', href: link.dataset.href ?? '' });
    return true;
  }
  const citation = target.closest<HTMLElement>('.citation');
  if (citation) {
    const messageId = citation.closest<HTMLElement>('.message')?.dataset.id;
    const start = Number(citation.dataset.start);
    const end = Number(citation.dataset.end);
    if (messageId && start >= 1 && end >= 1) post({ type: 'revealLines', messageId, start: Math.min(start, end), end: Math.max(start, end) });
    return true;
  }
  return false;
}

export function handleAnswerActions(transcript: HTMLElement, post: (message: WebviewToExtension) => void): void {
  transcript.addEventListener('click', (event) => {
    if (event.target instanceof HTMLElement && activate(event.target, post)) event.preventDefault();
  });
  transcript.addEventListener('keydown', (event) => {
    // Links and citations are spans/anchors without href: make Enter and Space work like a click.
    if ((event.key === 'Enter' || event.key === ' ') && event.target instanceof HTMLElement && event.target.matches('.md-link, .citation') && activate(event.target, post)) event.preventDefault();
  });
}
