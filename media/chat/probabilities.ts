/**
 * The chat's probability view: a toggle in the header that shows each finished answer as the
 * tokens the model generated, each tinted by how likely the model found it (the one scale of
 * src/core/webview/probabilityScale.ts), and a popup on hover with the token's probability, its
 * log-probability and the alternatives as bars, "other tokens" making up the rest. The probabilities
 * come from the extension per answer (kept while the window is open, not in the history file).
 */
import type { ChatTokenProbability } from '../../src/core/webview/chatProtocol';
import { formatPercent, probabilityBand, probabilityBands, visibleTokenText } from '../../src/core/webview/probabilityScale';
import { button, element } from './dom';

interface AnswerTokens {
  readonly tokens: readonly ChatTokenProbability[];
  readonly total: number;
}

export class ProbabilityView {
  private readonly answers = new Map<string, AnswerTokens>();
  private readonly popup = element('div', 'token-popup');

  constructor(
    private readonly app: HTMLElement,
    private readonly transcript: HTMLElement,
    private enabled: boolean,
    private readonly onToggle: (enabled: boolean) => void,
  ) {
    this.popup.hidden = true;
    this.popup.setAttribute('role', 'tooltip');
    app.append(this.popup);
    app.classList.toggle('show-probabilities', enabled);
    transcript.addEventListener('mouseover', (event) => this.hover(event.target));
    transcript.addEventListener('mouseleave', () => (this.popup.hidden = true));
    transcript.addEventListener('scroll', () => (this.popup.hidden = true));
  }

  get shown(): boolean {
    return this.enabled;
  }

  /** The header's toggle (the header is rebuilt with every status). */
  toggleButton(): HTMLButtonElement {
    const toggle = button('secondary probabilities-toggle', 'Probabilities', 'Show each generated token coloured by how likely the model found it; hover a token for the alternatives', () => {
      this.enabled = !this.enabled;
      toggle.setAttribute('aria-pressed', String(this.enabled));
      this.app.classList.toggle('show-probabilities', this.enabled);
      this.popup.hidden = true;
      this.onToggle(this.enabled);
    });
    toggle.setAttribute('aria-pressed', String(this.enabled));
    return toggle;
  }

  /** An answer's probabilities arrived: keep them and decorate its message if it is on screen. */
  set(messageId: string, tokens: readonly ChatTokenProbability[], total: number): void {
    this.answers.set(messageId, { tokens, total });
    const node = this.transcript.querySelector<HTMLElement>(`.message.assistant[data-id="${CSS.escape(messageId)}"]`);
    if (node) this.decorate(node);
  }

  /** After the transcript was (re)drawn: every answer with probabilities gets its token view. */
  decorateAll(): void {
    this.transcript.querySelectorAll<HTMLElement>('.message.assistant[data-id]').forEach((node) => this.decorate(node));
  }

  private decorate(node: HTMLElement): void {
    const answer = this.answers.get(node.dataset.id ?? '');
    if (!answer || node.querySelector('.token-view')) return;
    const view = element('div', 'token-view');
    const legend = element('div', 'token-legend');
    const cut = answer.total > answer.tokens.length ? ` (the first ${answer.tokens.length.toLocaleString()} of ${answer.total.toLocaleString()})` : '';
    legend.append(element('span', '', `${answer.tokens.length.toLocaleString()} generated tokens${cut}, by the model's probability: `));
    probabilityBands.forEach((band, index) => legend.append(element('span', `p${index} band`, band.label)));
    const text = element('div', 'token-text');
    answer.tokens.forEach((token, index) => {
      const span = element('span', `tok p${probabilityBand(Math.exp(token.logprob))}`, token.text === '' ? '∅' : token.text);
      span.dataset.index = String(index);
      text.append(span);
    });
    view.append(legend, text);
    node.classList.add('has-probabilities');
    const footer = node.querySelector('.message-footer');
    if (footer) footer.before(view);
    else node.append(view);
  }

  private hover(target: EventTarget | null): void {
    const span = target instanceof HTMLElement ? target.closest<HTMLElement>('.token-view .tok') : null;
    const message = span?.closest<HTMLElement>('.message.assistant');
    const token = span && message ? this.answers.get(message.dataset.id ?? '')?.tokens[Number(span.dataset.index)] : undefined;
    if (!span || !token) {
      if (!(target instanceof HTMLElement && target.closest('.token-view'))) this.popup.hidden = true;
      return;
    }
    this.popup.replaceChildren(...popupContent(token));
    this.popup.hidden = false;
    const rect = span.getBoundingClientRect();
    const width = this.popup.offsetWidth;
    this.popup.style.left = `${Math.max(4, Math.min(rect.left, window.innerWidth - width - 4))}px`;
    const below = rect.bottom + 4;
    this.popup.style.top = `${below + this.popup.offsetHeight > window.innerHeight ? Math.max(4, rect.top - this.popup.offsetHeight - 4) : below}px`;
  }
}

/** The popup: the token, its probability, the alternatives as bars and what the rest adds up to. */
function popupContent(token: ChatTokenProbability): HTMLElement[] {
  const probability = Math.exp(token.logprob);
  const head = element('div', 'token-popup-head');
  head.append(element('code', '', visibleTokenText(token.text)), element('span', '', ` p ${formatPercent(probability)} · ln p ${token.logprob.toFixed(3)}`));
  if (token.top.length === 0) return [head, element('div', 'muted', 'No alternatives: the backend sent only this token\u2019s probability.')];
  // The chosen token among the alternatives, or after them when it was less likely than all of them.
  const rows = token.top.some((alternative) => alternative.text === token.text) ? token.top : [...token.top, { text: token.text, logprob: token.logprob }];
  const bars = element('div', 'token-bars');
  let shownMass = 0;
  for (const row of rows) {
    const p = Math.exp(row.logprob);
    shownMass += p;
    const line = element('div', `token-bar${row.text === token.text ? ' chosen' : ''}`);
    const fill = element('span', 'fill');
    fill.style.width = `${Math.max(1, Math.round(p * 100))}%`;
    line.append(element('code', 'label', visibleTokenText(row.text)), element('span', 'track'), element('span', 'value', formatPercent(p)));
    line.querySelector('.track')?.append(fill);
    bars.append(line);
  }
  const other = element('div', 'muted', `other tokens: ${formatPercent(Math.max(0, 1 - shownMass))}`);
  return [head, bars, other];
}
