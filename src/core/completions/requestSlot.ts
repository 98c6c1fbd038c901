/**
 * One model request at a time (the model process serves one generation): starting one aborts the
 * one running, and a call for the window a running request answers (a speculation started after an
 * accept) can wait for it instead of asking again.
 */
import { SupersededError } from './backend';
import type { CompletionResult } from './types';

export interface InFlight {
  /** The window it answers (SuggestionCache.keyOf). */
  readonly key: string;
  readonly controller: AbortController;
  readonly promise: Promise<CompletionResult | undefined>;
  readonly speculative: boolean;
}

export class RequestSlot {
  private current: InFlight | undefined;

  /** The request running now, if any. */
  get running(): InFlight | undefined {
    return this.current;
  }

  /**
   * The user moved on: a running request for another window is useless now (a speculative one
   * may still be what the next pause needs, so it runs until a real request replaces it).
   */
  abortStale(key: string): void {
    if (this.current && !this.current.speculative && this.current.key !== key) this.current.controller.abort(new SupersededError());
  }

  /**
   * Starts `run` in the slot, aborting whatever ran there. Aborting `signal` (the caller's) aborts
   * it too; the slot is free again when it settles.
   */
  start(key: string, speculative: boolean, signal: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<CompletionResult | undefined>): Promise<CompletionResult | undefined> {
    this.current?.controller.abort(new SupersededError());
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(signal?.reason ?? new SupersededError());
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    const promise = run(controller.signal).finally(() => {
      signal?.removeEventListener('abort', onOuterAbort);
      if (this.current?.controller === controller) this.current = undefined;
    });
    this.current = { key, controller, promise, speculative };
    return promise;
  }

  /** Aborts whatever runs. */
  dispose(): void {
    this.current?.controller.abort(new SupersededError());
    this.current = undefined;
  }
}
