/**
 * The answer being generated, as it streams in: its thinking trace and its answer text, rendered
 * incrementally (StreamedMarkdown) at most once a frame and never more than a third of the time,
 * with a Thinking block that shows how long it has thought and folds away once the answer begins
 * (unless the user opened or closed it). main.ts feeds it the extension's deltas and replaces its
 * node with the stored message when the turn ends.
 */
import { formatDuration } from '../../src/core/chat/stats';
import { element, StreamedMarkdown } from './dom';
import { thinkingBlock } from './messages';

export class StreamingTurn {
  readonly node: HTMLElement;
  thinking: string;
  answer: string;
  private thinkingStartedAt: number | undefined;
  /** The user opened or closed the Thinking block: stop auto-collapsing it. */
  userToggled = false;
  /** The open state this script last gave the block; a toggle to anything else was the user. */
  private expectedOpen = true;
  private frame: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The answer and the trace, rendered incrementally while they grow. */
  private answerMarkdown: StreamedMarkdown | undefined;
  private thinkingMarkdown: StreamedMarkdown | undefined;
  /** Not before this time (performance.now()): a render that took T ms waits 2T before the next. */
  private nextRenderAt = 0;
  private stopped = false;

  /** `onRendered` runs after each render (main.ts keeps the transcript scrolled to the end). */
  constructor(
    readonly requestId: string,
    thinking: string,
    answer: string,
    private readonly onRendered: () => void,
  ) {
    this.thinking = thinking;
    this.answer = answer;
    if (thinking) this.thinkingStartedAt = Date.now();
    this.node = element('div', 'message assistant streaming');
    this.node.dataset.requestId = requestId;
    this.node.setAttribute('aria-busy', 'true');
  }

  addThinking(text: string): void {
    this.thinkingStartedAt ??= Date.now();
    this.thinking += text;
    this.scheduleRender();
  }

  addAnswer(text: string): void {
    this.answer += text;
    this.scheduleRender();
  }

  /** What streamed as the answer was thinking after all (a late `<think>` tag). */
  reclassify(): void {
    this.thinking += this.answer;
    this.answer = '';
    this.thinkingStartedAt ??= Date.now();
    this.scheduleRender();
  }

  /** A line above the answer while it is generated (Explain Selection: its prompt's tokens and cost). */
  setProgress(text: string): void {
    let line = this.node.querySelector<HTMLElement>('.turn-progress');
    if (!line) {
      line = element('div', 'turn-progress');
      this.node.prepend(line);
    }
    line.textContent = text;
  }

  /** No more renders: the turn ended, or the view moved on. */
  stop(): void {
    this.stopped = true;
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.frame = undefined;
    this.timer = undefined;
  }

  /**
   * Renders the streaming answer at most once a frame, and never more than a third of the time: a
   * long unfinished block (a big code block) that takes T ms to render waits 2T for the next.
   */
  scheduleRender(): void {
    if (this.stopped || this.frame !== undefined || this.timer !== undefined) return;
    const wait = this.nextRenderAt - performance.now();
    const render = () => {
      this.timer = undefined;
      this.frame = requestAnimationFrame(() => {
        this.frame = undefined;
        if (this.stopped) return;
        const started = performance.now();
        this.render();
        this.nextRenderAt = performance.now() + 2 * (performance.now() - started);
      });
    };
    if (wait > 0) this.timer = setTimeout(render, wait);
    else render();
  }

  render(): void {
    let details = this.node.querySelector<HTMLDetailsElement>('details.thinking');
    if (this.thinking) {
      const answering = this.answer.trim() !== '';
      const seconds = this.thinkingStartedAt ? ` · ${formatDuration(Date.now() - this.thinkingStartedAt)}` : '';
      const summary = answering ? `Thinking${seconds}` : `Thinking…${seconds}`;
      if (!details) {
        const block = thinkingBlock(this.thinking, summary, true);
        this.expectedOpen = true;
        // `toggle` fires asynchronously, also for changes made here: compare with what we set.
        block.addEventListener('toggle', () => {
          if (block.open !== this.expectedOpen) this.userToggled = true;
        });
        this.node.prepend(block);
        details = block;
      } else {
        const head = details.querySelector('summary');
        if (head) head.textContent = summary;
        const body = details.querySelector<HTMLElement>('.thinking-body');
        if (body) (this.thinkingMarkdown ??= new StreamedMarkdown(body)).show(this.thinking);
      }
      // Collapse the trace once the answer begins, unless the user chose otherwise.
      if (answering && details.open && !this.userToggled) {
        this.expectedOpen = false;
        details.open = false;
      }
    } else if (details) {
      details.remove();
    }
    let answer = this.node.querySelector<HTMLElement>('.answer');
    if (!answer) {
      answer = element('div', 'answer markdown');
      this.node.append(answer);
    }
    this.answerMarkdown ??= new StreamedMarkdown(answer);
    if (this.answer) this.answerMarkdown.show(this.answer);
    else {
      this.answerMarkdown.clear();
      answer.replaceChildren(element('span', 'typing', this.thinking ? '' : 'Generating…'));
    }
    this.onRendered();
  }
}
