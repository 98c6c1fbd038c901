/**
 * The extension host's handle on the model process: forks it lazily, speaks the typed protocol,
 * streams generations, cancels them in the process, and survives the process: a crash or a hang
 * fails the requests in flight with a clear error, then the process restarts with backoff and
 * reloads the last model.
 *
 * This file must not import onnxruntime-node: it runs in the extension host.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ModelError } from '../models/errors';
import { ORT_TELEMETRY_OFF_ENV, PACKAGE_ROOT_ENV, TEST_HOOKS_ENV, type ClientMessage, type ProcessMessage, type ProcessStatus, type SerializedError } from './protocol';
import { GenerationAbortedError, silentLogger, type GenerateRequest, type GenerationEvent, type LoadModelRequest, type ModelInfo, type PromptInput, type RuntimeLogger } from './types';

export interface ModelProcessClientOptions {
  /** The process entry: `<extension>/dist/modelProcess.js` (tests: src/model-process/main.ts with tsx). */
  readonly entry: string;
  /** Where `models/` lives (built-in `mini`). */
  readonly packageRoot: string;
  /** The Node binary to run the process with (default: this process's, as `fork` does). */
  readonly execPath?: string;
  /** Node flags for the child, e.g. `['--import', 'tsx']` to run the TypeScript entry in tests. */
  readonly execArgv?: readonly string[];
  /** Extra environment for the child. */
  readonly env?: Readonly<Record<string, string>>;
  readonly logger?: RuntimeLogger;
  /** A generate/encode/ping with no message from the process for this long means it hung (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** The same for loading a model, which blocks while ONNX Runtime builds the session (default 5 min). */
  readonly loadTimeoutMs?: number;
  /** Delays before successive restarts after crashes (default 0.5, 1, 2, 5, 10 s). */
  readonly restartDelaysMs?: readonly number[];
  /** Crashes in a row (without 60 s of uptime between) after which restarting stops (default 5). */
  readonly maxRestarts?: number;
  /** Enable the process's test-only requests (crash, hang). Never in production. */
  readonly testHooks?: boolean;
}

export type ModelProcessState =
  /** No process (not started yet, or disposed). */
  | { readonly status: 'stopped' }
  | { readonly status: 'starting' }
  /** Process up, no model loaded. */
  | { readonly status: 'idle' }
  | { readonly status: 'loading'; readonly model: string }
  | { readonly status: 'ready'; readonly info: ModelInfo }
  /** The last load failed (the process is fine); `error.message` says why and what to do. */
  | { readonly status: 'error'; readonly error: ModelError }
  /** The process died or hung; it restarts after `delayMs` and reloads the model. */
  | { readonly status: 'restarting'; readonly reason: string; readonly attempt: number; readonly delayMs: number }
  /** Restarting gave up after repeated crashes; `restart()` or `load()` tries again. */
  | { readonly status: 'failed'; readonly error: ModelError };

export interface CrashInfo {
  readonly reason: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Requests that failed because of it. */
  readonly failedRequests: number;
  /** Delay before the restart; undefined when restarting gave up. */
  readonly restartInMs?: number;
}

export interface Disposable {
  dispose(): void;
}

interface Pending {
  readonly what: string;
  readonly sentAt: number;
  readonly timeoutMs: number;
  onMessage(message: ProcessMessage): void;
  fail(error: Error): void;
}

const DEFAULT_RESTART_DELAYS = [500, 1000, 2000, 5000, 10000];
/** Uptime after which a crash no longer counts as part of a crash loop. */
const STABLE_UPTIME_MS = 60_000;

export function deserializeError(error: SerializedError): Error {
  if (error.name === 'AbortError') return new GenerationAbortedError(error.message);
  if (error.code) return new ModelError(error.code, error.message, error.file);
  const result = new Error(error.message);
  result.name = error.name;
  return result;
}

/** An async queue feeding one generation's events to its iterator. */
class EventQueue<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  fail(error: Error): void {
    if (this.failure || this.ended) return;
    this.failure = error;
    this.wake?.();
  }

  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (this.items.length > 0) {
        yield this.items.shift()!;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

export class ModelProcessClient {
  private child: ChildProcess | undefined;
  private starting: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastMessageAt = 0;
  private startedAt = 0;
  private crashesInARow = 0;
  private killReason: string | undefined;
  private lastLoad: LoadModelRequest | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly watchdog: NodeJS.Timeout;
  private disposed = false;
  /** Set when restarting gave up: requests fail with it until load() or restart(). */
  private gaveUp: ModelError | undefined;
  private currentState: ModelProcessState = { status: 'stopped' };
  private readonly events = new EventEmitter();
  private readonly logger: RuntimeLogger;
  private readonly requestTimeoutMs: number;
  private readonly loadTimeoutMs: number;

  constructor(private readonly options: ModelProcessClientOptions) {
    this.logger = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 300_000;
    this.watchdog = setInterval(() => this.checkHung(), Math.min(1000, this.requestTimeoutMs / 4));
    this.watchdog.unref();
  }

  get state(): ModelProcessState {
    return this.currentState;
  }

  /** The loaded model, if ready. */
  get model(): ModelInfo | undefined {
    return this.currentState.status === 'ready' ? this.currentState.info : undefined;
  }

  onDidChangeState(listener: (state: ModelProcessState) => void): Disposable {
    this.events.on('state', listener);
    return { dispose: () => this.events.off('state', listener) };
  }

  onDidCrash(listener: (crash: CrashInfo) => void): Disposable {
    this.events.on('crash', listener);
    return { dispose: () => this.events.off('crash', listener) };
  }

  /** Loads a model, replacing the current one (the process never holds two). */
  async load(request: LoadModelRequest, signal?: AbortSignal): Promise<ModelInfo> {
    this.crashesInARow = 0;
    this.gaveUp = undefined;
    await this.ensureStarted();
    this.setState({ status: 'loading', model: request.model });
    try {
      const info = await this.request<ModelInfo>({ type: 'load', request }, 'loading the model', this.loadTimeoutMs, signal, (message) => (message.type === 'loaded' ? message.info : undefined));
      this.lastLoad = request;
      this.setState({ status: 'ready', info });
      return info;
    } catch (error) {
      if (error instanceof ModelError && error.code !== 'process') {
        this.lastLoad = undefined;
        this.setState({ status: 'error', error });
      }
      throw error;
    }
  }

  async unload(): Promise<void> {
    this.lastLoad = undefined;
    if (!this.child) return;
    await this.request({ type: 'unload' }, 'unloading the model', this.requestTimeoutMs, undefined, (message) => (message.type === 'unloaded' ? true : undefined));
    this.setState({ status: 'idle' });
  }

  /**
   * Streams a generation from the process. Aborting `signal` rejects the iteration at once with
   * a GenerationAbortedError and stops the work in the process within one forward pass.
   */
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent> {
    return { [Symbol.asyncIterator]: () => this.runGenerate(request, signal) };
  }

  /** Token ids of a prompt as the process would feed them (chat template applied). */
  async encodePrompt(prompt: PromptInput, signal?: AbortSignal): Promise<number[]> {
    return this.request<number[]>({ type: 'encode', prompt }, 'encoding a prompt', this.requestTimeoutMs, signal, (message) => (message.type === 'encoded' ? message.ids : undefined));
  }

  async ping(signal?: AbortSignal): Promise<ProcessStatus> {
    return this.request<ProcessStatus>({ type: 'ping' }, 'answering a ping', this.requestTimeoutMs, signal, (message) => (message.type === 'pong' ? message.status : undefined));
  }

  /**
   * Test hooks (the client must be created with `testHooks: true`): make the process crash, hang
   * (block its thread for `ms`), or take at least `ms` per generated token.
   */
  async sendTestMessage(message: { readonly type: 'test-crash' } | { readonly type: 'test-hang' | 'test-slow-steps'; readonly ms: number }): Promise<void> {
    if (!this.options.testHooks) throw new Error('test hooks are disabled');
    await this.ensureStarted();
    if (message.type === 'test-slow-steps') {
      await this.request({ ...message }, 'setting up a test', this.requestTimeoutMs, undefined, (reply) => (reply.type === 'pong' ? true : undefined));
      return;
    }
    this.child?.send({ ...message, id: this.nextId++ });
  }

  /** Process id of the running model process (diagnostics, tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the process and starts a fresh one, reloading the last model. */
  async restart(): Promise<void> {
    this.crashesInARow = 0;
    this.gaveUp = undefined;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) {
      this.killReason = 'restart requested';
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    await this.startAndReload();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    clearInterval(this.watchdog);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    this.failAll(new ModelError('process', 'The model process was shut down.'));
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        // Closing IPC makes the process release its model and exit on its own.
        if (child.connected) child.disconnect();
        else child.kill('SIGKILL');
      });
    }
    this.setState({ status: 'stopped' });
    this.events.removeAllListeners();
  }

  // ------------------------------------------------------------------------------------------

  private setState(state: ModelProcessState): void {
    this.currentState = state;
    this.events.emit('state', state);
  }

  private async *runGenerate(request: GenerateRequest, signal: AbortSignal | undefined): AsyncGenerator<GenerationEvent> {
    if (signal?.aborted) throw new GenerationAbortedError();
    await this.ensureStarted();
    if (signal?.aborted) throw new GenerationAbortedError();
    const id = this.nextId++;
    const queue = new EventQueue<GenerationEvent>();
    this.pending.set(id, {
      what: 'generating',
      sentAt: Date.now(),
      timeoutMs: this.requestTimeoutMs,
      onMessage: (message) => {
        if (message.type === 'event') queue.push(message.event);
        else if (message.type === 'done') {
          this.pending.delete(id);
          queue.end();
        } else if (message.type === 'error') {
          this.pending.delete(id);
          queue.fail(deserializeError(message.error));
        }
      },
      fail: (error) => queue.fail(error),
    });
    const cancel = () => {
      if (!this.pending.delete(id)) return;
      this.post({ type: 'cancel', id });
    };
    const onAbort = () => {
      cancel();
      queue.fail(new GenerationAbortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.post({ type: 'generate', id, request });
      yield* queue.drain();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // The consumer stopped early (break or error): stop the process's work too.
      cancel();
    }
  }

  private request<T>(message: DistributiveOmit<ClientMessage, 'id'>, what: string, timeoutMs: number, signal: AbortSignal | undefined, accept: (message: ProcessMessage) => T | undefined): Promise<T> {
    return this.ensureStarted().then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (signal?.aborted) {
            reject(new GenerationAbortedError('The request was cancelled.'));
            return;
          }
          const id = this.nextId++;
          const onAbort = () => {
            this.pending.delete(id);
            reject(new GenerationAbortedError('The request was cancelled.'));
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          this.pending.set(id, {
            what,
            sentAt: Date.now(),
            timeoutMs,
            onMessage: (reply) => {
              if (reply.type === 'error') {
                this.pending.delete(id);
                signal?.removeEventListener('abort', onAbort);
                reject(deserializeError(reply.error));
                return;
              }
              const value = accept(reply);
              if (value === undefined) return;
              this.pending.delete(id);
              signal?.removeEventListener('abort', onAbort);
              resolve(value);
            },
            fail: (error) => {
              signal?.removeEventListener('abort', onAbort);
              reject(error);
            },
          });
          this.post({ ...message, id } as ClientMessage);
        }),
    );
  }

  private post(message: ClientMessage): void {
    const child = this.child;
    if (!child || !child.connected) {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.fail(new ModelError('process', 'The model process is not running; it is restarting. Try again in a moment.'));
      return;
    }
    child.send(message);
  }

  /** Starts the process if needed; waits while a restart is pending. */
  private ensureStarted(): Promise<void> {
    if (this.disposed) return Promise.reject(new ModelError('process', 'The model process was shut down.'));
    if (this.gaveUp) return Promise.reject(this.gaveUp);
    if (this.child && !this.starting) return Promise.resolve();
    if (this.starting) return this.starting;
    if (this.restartTimer) {
      // A crash restart is scheduled: start now instead of failing the caller.
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    return this.startAndReload();
  }

  private startAndReload(): Promise<void> {
    const starting = this.spawn().then(() => {
      const reload = this.lastLoad;
      if (reload) {
        // Not awaited: requests sent after it queue behind the load inside the process.
        this.setState({ status: 'loading', model: reload.model });
        void this.request<ModelInfo>({ type: 'load', request: reload }, 'reloading the model', this.loadTimeoutMs, undefined, (message) => (message.type === 'loaded' ? message.info : undefined)).then(
          (info) => this.setState({ status: 'ready', info }),
          (error: unknown) => {
            this.logger.error('reloading the model after a restart failed', { message: String(error) });
            if (error instanceof ModelError && error.code !== 'process') {
              this.lastLoad = undefined;
              this.setState({ status: 'error', error });
            }
          },
        );
      } else {
        this.setState({ status: 'idle' });
      }
    });
    this.starting = starting.finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private spawn(): Promise<void> {
    this.setState({ status: 'starting' });
    return new Promise<void>((resolve, reject) => {
      const child = fork(this.options.entry, [], {
        execArgv: [...(this.options.execArgv ?? [])],
        ...(this.options.execPath ? { execPath: this.options.execPath } : {}),
        env: {
          ...process.env,
          ...this.options.env,
          [PACKAGE_ROOT_ENV]: this.options.packageRoot,
          [TEST_HOOKS_ENV]: this.options.testHooks ? '1' : '',
          // Set before the child loads ONNX Runtime (its telemetry reads it at start-up); never overridable.
          ...ORT_TELEMETRY_OFF_ENV,
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'json',
      });
      this.child = child;
      this.killReason = undefined;
      this.lastMessageAt = Date.now();
      const forward = (level: 'info' | 'warn') => (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logger[level](`[model process] ${line.trimEnd()}`);
      };
      child.stdout?.on('data', forward('info'));
      child.stderr?.on('data', forward('warn'));
      let ready = false;
      child.on('message', (message: ProcessMessage) => {
        this.lastMessageAt = Date.now();
        if (message.type === 'ready') {
          ready = true;
          this.startedAt = Date.now();
          this.logger.info('model process started', { pid: message.pid });
          resolve();
          return;
        }
        if (message.type === 'log') {
          this.logger[message.level](message.message, message.data);
          return;
        }
        if (message.type === 'heartbeat') return;
        this.pending.get(message.id)?.onMessage(message);
      });
      child.on('error', (error) => {
        this.logger.error('model process error', { message: error.message });
        if (!ready) reject(new ModelError('process', `The model process could not start: ${error.message}. Reinstall Tokenscope if this persists.`));
      });
      child.on('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (!ready) {
          reject(new ModelError('process', `The model process exited during start-up (exit code ${code}${signal ? `, signal ${signal}` : ''}). See the Tokenscope log for its output; reinstall Tokenscope if this persists.`));
        }
        this.onExit(code, signal);
      });
    });
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (this.disposed) return;
    const requested = this.killReason === 'restart requested';
    const reason = this.killReason ?? `it exited unexpectedly (exit code ${exitCode}${signal ? `, signal ${signal}` : ''})`;
    const failed = this.pending.size;
    const detail = [...new Set([...this.pending.values()].map((pending) => pending.what))].join(', ');
    this.failAll(new ModelError('process', `The model process stopped while ${detail || 'idle'}: ${reason}. It is being restarted${this.lastLoad ? ' and the model reloaded' : ''}; try again in a moment.`));
    if (requested) return;
    if (Date.now() - this.startedAt > STABLE_UPTIME_MS) this.crashesInARow = 0;
    this.crashesInARow++;
    const delays = this.options.restartDelaysMs ?? DEFAULT_RESTART_DELAYS;
    const maxRestarts = this.options.maxRestarts ?? 5;
    this.logger.error('model process stopped', { reason, exitCode, signal, failedRequests: failed, crashesInARow: this.crashesInARow });
    if (this.crashesInARow > maxRestarts) {
      const error = new ModelError('process', `The model process crashed ${this.crashesInARow} times in a row (last: ${reason}). Tokenscope stopped restarting it. Check the model files (try another variant or model) and run "Tokenscope: Restart Model Process".`);
      this.gaveUp = error;
      this.setState({ status: 'failed', error });
      this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed } satisfies CrashInfo);
      return;
    }
    const delayMs = delays[Math.min(this.crashesInARow - 1, delays.length - 1)];
    this.setState({ status: 'restarting', reason, attempt: this.crashesInARow, delayMs });
    this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed, restartInMs: delayMs } satisfies CrashInfo);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.disposed && !this.child && !this.starting) {
        this.startAndReload().catch((error: unknown) => this.logger.error('restarting the model process failed', { message: String(error) }));
      }
    }, delayMs);
    this.restartTimer.unref();
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.fail(error);
  }

  /** Kills a process that has not said anything for longer than a request in flight allows. */
  private checkHung(): void {
    const child = this.child;
    if (!child || this.pending.size === 0) return;
    const now = Date.now();
    for (const pending of this.pending.values()) {
      const silentFor = now - Math.max(pending.sentAt, this.lastMessageAt);
      if (silentFor > pending.timeoutMs) {
        this.killReason = `it stopped responding for ${Math.round(silentFor / 1000)} s while ${pending.what}`;
        this.logger.error('model process hung; killing it', { what: pending.what, silentForMs: silentFor });
        child.kill('SIGKILL');
        return;
      }
    }
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
