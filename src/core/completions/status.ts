/**
 * What the completion status (the model item in the status bar) says, as a pure function of the
 * completion events: a request starting or ending, a suggestion shown or held back, the model
 * loading, completions switched on or off. The editor glue only feeds events in and renders
 * {@link completionStatusView}; every state here is left by some event, so none can stick.
 */
import type { CompletionResult, CompletionSource } from './types';

/** The last answer, as the idle status describes it. */
export type LastAnswer =
  /** The model generated this suggestion, and it was shown. */
  | { readonly kind: 'generated'; readonly latencyMs: number; readonly tokensPerSecond?: number; readonly confidence?: number; readonly noConfidence?: string }
  /** Shown without asking the model: cached, the rest of a suggestion being typed, or computed ahead after an accept. */
  | { readonly kind: 'reused'; readonly source: Exclude<CompletionSource, 'model'>; readonly confidence?: number }
  /** The model answered, but post-processing left nothing to show (a stop token, a loop, only whitespace). */
  | { readonly kind: 'empty'; readonly latencyMs: number }
  /** An automatic suggestion was not shown: the model's confidence was below minConfidence. */
  | { readonly kind: 'held-back'; readonly confidence: number; readonly minConfidence: number; readonly source: CompletionSource; readonly latencyMs?: number };

export interface CompletionStatus {
  readonly enabled: boolean;
  /** Model requests running (a superseded one may still wind down while its successor runs). */
  readonly requests: number;
  readonly loading: boolean;
  readonly error?: string;
  /** What a click on the error does: `restartModel` when the model process stopped restarting. */
  readonly errorAction?: 'restartModel';
  /** The model process stopped restarting after repeated crashes; cleared when it is ready again. */
  readonly processStopped?: boolean;
  /** After a stop, the process is starting or loading again (Restart Model Process, a model change). */
  readonly processRecovering?: boolean;
  readonly last?: LastAnswer;
}

export type CompletionStatusEvent =
  | { readonly type: 'enabled'; readonly enabled: boolean }
  | { readonly type: 'loading'; readonly loading: boolean }
  | { readonly type: 'requestStarted' }
  | { readonly type: 'requestEnded'; readonly result?: CompletionResult; readonly error?: string; readonly errorAction?: 'restartModel'; readonly cancelled: boolean }
  | { readonly type: 'shown'; readonly result: CompletionResult }
  | { readonly type: 'heldBack'; readonly result: CompletionResult; readonly minConfidence: number }
  /** A request failed before reaching the model (no model, model crashed while loading). */
  | { readonly type: 'failed'; readonly reason: string; readonly errorAction?: 'restartModel' }
  /** The model process: stopped restarting (crash loop), starting or loading again, ready. */
  | { readonly type: 'process'; readonly status: 'stopped'; readonly reason: string }
  | { readonly type: 'process'; readonly status: 'recovering' | 'ready' }
  /** Another model: what was said about the previous one no longer applies. */
  | { readonly type: 'modelChanged' };

export const initialCompletionStatus: CompletionStatus = { enabled: true, requests: 0, loading: false };

/** What a shown suggestion says about itself. */
function answerFrom(result: CompletionResult): LastAnswer {
  if (result.source === 'model') return { kind: 'generated', latencyMs: result.latencyMs, tokensPerSecond: result.tokensPerSecond, confidence: result.confidence, noConfidence: result.noConfidence };
  return { kind: 'reused', source: result.source, confidence: result.confidence };
}

export function nextCompletionStatus(state: CompletionStatus, event: CompletionStatusEvent): CompletionStatus {
  switch (event.type) {
    case 'enabled':
      return { ...state, enabled: event.enabled };
    case 'loading':
      return { ...state, loading: event.loading };
    case 'requestStarted':
      // A held-back notice is about the suggestion before this request: it ends here.
      return { ...state, requests: state.requests + 1, error: undefined, errorAction: undefined, last: state.last?.kind === 'held-back' ? undefined : state.last };
    case 'requestEnded': {
      const requests = Math.max(0, state.requests - 1);
      if (event.error !== undefined) return { ...state, requests, error: event.error, errorAction: event.errorAction };
      if (event.cancelled || !event.result) return { ...state, requests };
      const last: LastAnswer = event.result.text.length === 0 ? { kind: 'empty', latencyMs: event.result.latencyMs } : answerFrom(event.result);
      return { ...state, requests, error: undefined, errorAction: undefined, last };
    }
    case 'shown':
      return { ...state, error: undefined, last: answerFrom(event.result) };
    case 'heldBack':
      return {
        ...state,
        last: {
          kind: 'held-back',
          confidence: event.result.confidence ?? 0,
          minConfidence: event.minConfidence,
          source: event.result.source,
          latencyMs: event.result.source === 'model' ? event.result.latencyMs : undefined,
        },
      };
    case 'failed':
      return { ...state, error: event.reason, errorAction: event.errorAction };
    case 'process':
      if (event.status === 'stopped') return { ...state, processStopped: true, processRecovering: false, error: event.reason, errorAction: 'restartModel' };
      // Only a stop is undone here: an ordinary load is reported by the request that waits for it.
      if (!state.processStopped) return state;
      if (event.status === 'recovering') return { ...state, processRecovering: true };
      return { ...state, processStopped: false, processRecovering: false, error: undefined, errorAction: undefined };
    case 'modelChanged':
      return { ...state, error: state.processStopped ? state.error : undefined, errorAction: state.processStopped ? state.errorAction : undefined, last: undefined };
  }
}

/** What the status item shows, in order of precedence. */
export type CompletionStatusView =
  | { readonly kind: 'loading' }
  | { readonly kind: 'generating' }
  | { readonly kind: 'error'; readonly reason: string; readonly action?: 'restartModel' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'idle'; readonly last?: LastAnswer };

export function completionStatusView(state: CompletionStatus): CompletionStatusView {
  if (state.loading || state.processRecovering) return { kind: 'loading' };
  if (state.requests > 0) return { kind: 'generating' };
  if (state.error !== undefined) return state.errorAction ? { kind: 'error', reason: state.error, action: state.errorAction } : { kind: 'error', reason: state.error };
  if (!state.enabled) return { kind: 'disabled' };
  return { kind: 'idle', last: state.last };
}

const percent = (value: number) => `${Math.round(value * 100)}%`;

const reusedFrom: Readonly<Record<Exclude<CompletionSource, 'model'>, { readonly text: string; readonly tooltip: string }>> = {
  cache: { text: 'from cache', tooltip: 'The last suggestion came from the cache: the same text around the cursor was answered before, so the model was not asked again.' },
  'typing-along': { text: 'from cache', tooltip: 'The last suggestion was the rest of the one you were typing along with, from the cache: the model was not asked again.' },
  speculative: { text: 'prepared ahead', tooltip: 'The last suggestion was prepared in the background right after you accepted the previous one, so it showed without waiting for the model.' },
};

/**
 * The idle item's words after the model name (`439 ms · 43 tok/s · 63% sure`, `from cache · 63% sure`,
 * `held back · 8% sure · Alt+\ shows it`) and the tooltip's lines about the last answer.
 */
export function describeLastAnswer(last: LastAnswer | undefined): { readonly text: string; readonly tooltip: readonly string[] } {
  if (!last) return { text: '', tooltip: [] };
  switch (last.kind) {
    case 'generated': {
      const rate = last.tokensPerSecond === undefined ? '' : ` · ${last.tokensPerSecond.toFixed(0)} tok/s`;
      const sure = last.confidence === undefined ? '' : ` · ${percent(last.confidence)} sure`;
      const speed = last.tokensPerSecond === undefined ? '' : ` (generating ${last.tokensPerSecond.toFixed(0)} tokens/s)`;
      const tooltip = [`The last suggestion took ${Math.round(last.latencyMs)} ms from the pause in typing${speed}.`];
      if (last.confidence !== undefined) tooltip.push(`The model gave its tokens ${percent(last.confidence)} probability on average (geometric mean).`);
      // A server that sends no logprobs: say why there is no confidence.
      else if (last.noConfidence) tooltip.push(last.noConfidence);
      return { text: `${Math.round(last.latencyMs)} ms${rate}${sure}`, tooltip };
    }
    case 'reused': {
      const sure = last.confidence === undefined ? '' : ` · ${percent(last.confidence)} sure`;
      const tooltip = [reusedFrom[last.source].tooltip];
      if (last.confidence !== undefined) tooltip.push(`When the model generated it, it gave its tokens ${percent(last.confidence)} probability on average (geometric mean).`);
      return { text: `${reusedFrom[last.source].text}${sure}`, tooltip };
    }
    case 'empty':
      return {
        text: 'no suggestion',
        tooltip: [`The model answered in ${Math.round(last.latencyMs)} ms, but nothing was left to show after post-processing (it stopped at once, looped, or gave only whitespace).`],
      };
    case 'held-back':
      return {
        text: `$(eye-closed) held back · ${percent(last.confidence)} sure · Alt+\\ shows it`,
        tooltip: [
          `The last suggestion was held back: the model gave its tokens ${percent(last.confidence)} probability on average, below tokenscope.completions.minConfidence (${percent(last.minConfidence)}).`,
          'Press Alt+\\ to see it anyway, or lower the setting (0 shows every suggestion).',
        ],
      };
  }
}
