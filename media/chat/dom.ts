/**
 * The chat webview's DOM helpers: elements built with text content only (model and user text
 * never become markup here), and Markdown rendered inert (markdown.ts) into a node, at once or as
 * it streams.
 */
import { linkCitations, MarkdownStream, renderMarkdown } from './markdown';

/** Builds an element with text content only: model and user text never become markup here. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(className: string, text: string, title: string, onClick: () => void): HTMLButtonElement {
  const node = element('button', className, text);
  node.type = 'button';
  node.title = title;
  node.setAttribute('aria-label', title);
  node.addEventListener('click', onClick);
  return node;
}

/** Untrusted Markdown → inert HTML (see markdown.ts and its tests), with clickable line citations. */
export function setMarkdown(target: HTMLElement, markdown: string): void {
  target.innerHTML = linkCitations(renderMarkdown(markdown));
}

/**
 * Markdown that grows while an answer streams: finished blocks are added to `target` once and
 * never touched again (their DOM stays as it is: selection, scroll, a click on Copy all keep
 * working), only the unfinished last block is replaced (MarkdownStream in markdown.ts).
 */
export class StreamedMarkdown {
  private readonly stream = new MarkdownStream();
  /** Child nodes of `target` that hold finished blocks. */
  private stableNodes = 0;

  constructor(private readonly target: HTMLElement) {}

  show(markdown: string): void {
    const { appended, tail, reset } = this.stream.update(markdown);
    if (reset || this.target.childNodes.length < this.stableNodes) {
      this.target.replaceChildren();
      this.stableNodes = 0;
    }
    while (this.target.childNodes.length > this.stableNodes) this.target.lastChild?.remove();
    if (appended) this.target.insertAdjacentHTML('beforeend', linkCitations(appended));
    this.stableNodes = this.target.childNodes.length;
    if (tail) this.target.insertAdjacentHTML('beforeend', linkCitations(tail));
  }

  /** Something else was shown in `target` (a placeholder): start over next time. */
  clear(): void {
    this.target.replaceChildren();
    this.stableNodes = 0;
    this.stream.update('');
  }
}

export function flash(node: Element): void {
  node.classList.remove('flash');
  // Restart the animation (reading layout between the two class changes).
  void (node as HTMLElement).offsetWidth;
  node.classList.add('flash');
}
