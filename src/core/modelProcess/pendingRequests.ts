/**
 * The requests in flight to the model process: each gets an id, waits for the messages that
 * answer it, and fails with a clear error when the process dies (`failAll`) or goes silent for
 * longer than the request allows (`findHung`, which the client's watchdog calls). `request` is a
 * one-answer request (load, encode, ping); `stream` is a generation, whose events arrive one by one
 * until `done` and which is cancelled in the process when the caller stops reading or aborts.
 */
import { GenerationAbortedError, type GenerateRequest, type GenerationEvent } from '../runtime/types';
import type { ModelProcessClock } from './clientTypes';
import { deserializeError } from './errors';
import { EventQueue } from './promises';
import type { ClientMessage, ProcessMessage } from './protocol';

interface Pending {
  readonly what: string;
  readonly sentAt: number;
  readonly timeoutMs: number;
  onMessage(message: ProcessMessage): void;
  fail(error: Error): void;
}

export type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export class PendingRequests {
  private readonly entries = new Map<number, Pending>();
  private nextId = 1;

  /** `post` sends a message to the process, or fails its request (`fail`) when none runs. */
  constructor(
    private readonly clock: Pick<ModelProcessClock, 'now'>,
    private readonly post: (message: ClientMessage) => void,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** An id for a message that expects no answer (the test hooks). */
  newId(): number {
    return this.nextId++;
  }

  /** Hands a message from the process to the request it answers (if that is still waiting). */
  dispatch(id: number, message: ProcessMessage): void {
    this.entries.get(id)?.onMessage(message);
  }

  /** Fails one request, e.g. when its message could not be sent. */
  fail(id: number, error: Error): void {
    const pending = this.entries.get(id);
    this.entries.delete(id);
    pending?.fail(error);
  }

  failAll(error: Error): void {
    const pending = [...this.entries.values()];
    this.entries.clear();
    for (const entry of pending) entry.fail(error);
  }

  /** What the requests in flight were doing, for a crash message: "generating, loading the model", or "idle". */
  describe(): string {
    return [...new Set([...this.entries.values()].map((pending) => pending.what))].join(', ') || 'idle';
  }

  /** The first request the process has said nothing about for longer than it allows. */
  findHung(lastMessageAt: number): { readonly what: string; readonly silentForMs: number } | undefined {
    const now = this.clock.now();
    for (const pending of this.entries.values()) {
      const silentForMs = now - Math.max(pending.sentAt, lastMessageAt);
      if (silentForMs > pending.timeoutMs) return { what: pending.what, silentForMs };
    }
    return undefined;
  }

  /** Sends one request to the running process and waits for its answer (callers made sure it runs). */
  request<T>(message: DistributiveOmit<ClientMessage, 'id'>, what: string, timeoutMs: number, signal: AbortSignal | undefined, accept: (message: ProcessMessage) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new GenerationAbortedError('The request was cancelled.'));
        return;
      }
      const id = this.nextId++;
      const onAbort = () => {
        // The process stops work it can stop (a score, a next-token request); it ignores the rest.
        if (this.entries.delete(id)) this.post({ type: 'cancel', id });
        reject(new GenerationAbortedError('The request was cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.entries.set(id, {
        what,
        sentAt: this.clock.now(),
        timeoutMs,
        onMessage: (reply) => {
          if (reply.type === 'error') {
            this.entries.delete(id);
            signal?.removeEventListener('abort', onAbort);
            reject(deserializeError(reply.error));
            return;
          }
          const value = accept(reply);
          if (value === undefined) return;
          this.entries.delete(id);
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      this.post({ ...message, id } as ClientMessage);
    });
  }

  /**
   * Streams one generation (callers made sure the process runs). Aborting `signal` rejects the
   * iteration at once; stopping early or aborting sends `cancel` so the process stops too.
   */
  async *stream(request: GenerateRequest, timeoutMs: number, signal: AbortSignal | undefined, coalesceMs = 0): AsyncGenerator<GenerationEvent> {
    const id = this.nextId++;
    const queue = new EventQueue<GenerationEvent>();
    this.entries.set(id, {
      what: 'generating',
      sentAt: this.clock.now(),
      timeoutMs,
      onMessage: (message) => {
        if (message.type === 'event') queue.push(message.event);
        else if (message.type === 'events') for (const event of message.events) queue.push(event);
        else if (message.type === 'done') {
          this.entries.delete(id);
          queue.end();
        } else if (message.type === 'error') {
          this.entries.delete(id);
          queue.fail(deserializeError(message.error));
        }
      },
      fail: (error) => queue.fail(error),
    });
    const cancel = () => {
      if (!this.entries.delete(id)) return;
      this.post({ type: 'cancel', id });
    };
    const onAbort = () => {
      cancel();
      queue.fail(new GenerationAbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.post({ type: 'generate', id, request, ...(coalesceMs > 0 ? { coalesceMs } : {}) });
      yield* queue.drain();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The consumer stopped early (break or error): stop the process's work too.
      cancel();
    }
  }
}
