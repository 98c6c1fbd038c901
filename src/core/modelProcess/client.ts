/**
 * The extension host's handle on the model process: forks it lazily, speaks the typed protocol,
 * streams generations, cancels them in the process, and survives the process: a crash or a hang
 * fails the requests in flight with a clear error, then the process restarts with backoff and
 * reloads the last model. Requests sent while it restarts wait for the reload (or fail with the
 * restart's own reason). After too many crashes in a window (crashGuard.ts) it stays stopped until
 * the user runs "Restart Model Process" or asks for another model.
 *
 * This file must not import onnxruntime-node: it runs in the extension host.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { errorBrand } from '../errorBrand';
import { ModelError } from '../models/errors';
import { afterLoadAllowed, afterUserRestart, allowsLoad, defaultCrashGuardPolicy, describeWindow, initialCrashGuard, recordCrash, type CrashGuard, type CrashGuardPolicy } from './crashGuard';
import { ORT_TELEMETRY_OFF_ENV, PACKAGE_ROOT_ENV, TEST_HOOKS_ENV, type ClientMessage, type ProcessMessage, type ProcessStatus, type SerializedError } from './protocol';
import { GenerationAbortedError, sameLoadRequest, silentLogger, type GenerateRequest, type GenerationEvent, type LoadModelRequest, type ModelInfo, type PromptInput, type RuntimeLogger } from '../runtime/types';

/** Time and timers, injectable so tests can run restarts and timeouts on a fake clock. */
export interface ModelProcessClock {
  now(): number;
  /** `keepAlive`: a pending restart that requests wait on keeps Node running; the watchdog does not. */
  setTimeout(callback: () => void, ms: number, keepAlive: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: ModelProcessClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms, keepAlive) => {
    const timer = setTimeout(callback, ms);
    if (!keepAlive) timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

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
  /** Delays before the 1st, 2nd, ... restart after crashes in the window (default 0.5, 1, 2, 5, 10 s). */
  readonly restartDelaysMs?: readonly number[];
  /** Restarts allowed within `crashWindowMs`; the next crash stops restarting (default 5). */
  readonly maxRestarts?: number;
  /** Crashes older than this no longer count towards `maxRestarts` (default 5 minutes). */
  readonly crashWindowMs?: number;
  /** Enable the process's test-only requests (crash, hang). Never in production. */
  readonly testHooks?: boolean;
  /** Default: the system clock. */
  readonly clock?: ModelProcessClock;
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
  /**
   * Restarting stopped after repeated crashes; requests fail with `error` until `restart()` (the
   * user's "Restart Model Process") or a load of a different model.
   */
  | { readonly status: 'failed'; readonly error: ModelProcessStoppedError };

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

/** A promise with its resolve/reject, for "the process is back" that many requests wait on. */
interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting when it fails; each waiter sees the rejection itself.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Rejects at once with a GenerationAbortedError when `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new GenerationAbortedError('The request was cancelled.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new GenerationAbortedError('The request was cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

const RESTART_REQUESTED = 'restart requested';

const modelProcessStoppedBrand = errorBrand('ModelProcessStoppedError');

/**
 * Restarting stopped after repeated crashes (the `failed` state's error, and what every request
 * fails with until the user restarts the process or picks another model). A class of its own so
 * the editor can say it once, with the way out, instead of once per failed request.
 */
export class ModelProcessStoppedError extends ModelError {
  /** Thrown by the extension's model process client, checked in the completions bundle (see errorBrand). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return modelProcessStoppedBrand.has(value);
  }

  constructor(message: string) {
    super('process', message);
    modelProcessStoppedBrand.mark(this);
  }
}

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
  /** Set while a process is being spawned (until it says `ready`). */
  private starting: Promise<void> | undefined;
  /**
   * Set from a crash (or a user restart) until the process is back with the model reloaded:
   * requests wait on it instead of reaching a process that has no model yet.
   */
  private recovery: Deferred | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastMessageAt = 0;
  private killReason: string | undefined;
  /** The model loaded last: reloaded after a restart. */
  private lastLoad: LoadModelRequest | undefined;
  /** A load in progress: what the process was asked to run if it crashes now. */
  private requestedLoad: LoadModelRequest | undefined;
  private restartTimer: unknown;
  private watchdog: unknown;
  private disposed = false;
  private guard: CrashGuard = initialCrashGuard;
  /** Set when restarting stopped: requests fail with it until restart() or a load of another model. */
  private failure: ModelProcessStoppedError | undefined;
  private currentState: ModelProcessState = { status: 'stopped' };
  private readonly events = new EventEmitter();
  private readonly logger: RuntimeLogger;
  private readonly requestTimeoutMs: number;
  private readonly loadTimeoutMs: number;
  private readonly policy: CrashGuardPolicy;
  private readonly clock: ModelProcessClock;

  constructor(private readonly options: ModelProcessClientOptions) {
    this.logger = options.logger ?? silentLogger;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.loadTimeoutMs = options.loadTimeoutMs ?? 300_000;
    this.clock = options.clock ?? systemClock;
    this.policy = {
      maxRestarts: options.maxRestarts ?? defaultCrashGuardPolicy.maxRestarts,
      windowMs: options.crashWindowMs ?? defaultCrashGuardPolicy.windowMs,
      restartDelaysMs: options.restartDelaysMs ?? defaultCrashGuardPolicy.restartDelaysMs,
    };
    this.scheduleWatchdog();
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

  /**
   * Loads a model, replacing the current one (the process never holds two). While a restart is
   * reloading the same model, this waits for it instead of loading twice. After restarting stopped,
   * the same model is refused with the reason (a respawn per request is what the guard prevents);
   * a different model starts the process again.
   */
  async load(request: LoadModelRequest, signal?: AbortSignal): Promise<ModelInfo> {
    if (this.disposed) throw this.shutDownError();
    if (this.failure) {
      if (!allowsLoad(this.guard, request)) throw this.failure;
      this.guard = afterLoadAllowed(this.guard, request);
      this.failure = undefined;
    }
    if (this.recovery) {
      try {
        await abortable(this.recovery.promise, signal);
      } catch (error) {
        // Cancelled, or the restart stopped for good: say so. A failed reload: load again below, which reports its own error.
        if (error instanceof GenerationAbortedError || this.failure) throw error;
      }
      if (this.currentState.status === 'ready' && sameLoadRequest(this.lastLoad, request)) return this.currentState.info;
    }
    this.requestedLoad = request;
    try {
      await this.processUp(signal);
      this.setState({ status: 'loading', model: request.model });
      const info = await this.send<ModelInfo>({ type: 'load', request }, 'loading the model', this.loadTimeoutMs, signal, (message) => (message.type === 'loaded' ? message.info : undefined));
      this.lastLoad = request;
      this.setState({ status: 'ready', info });
      return info;
    } catch (error) {
      if (error instanceof ModelError && error.code !== 'process') {
        this.lastLoad = undefined;
        this.setState({ status: 'error', error });
      }
      throw error;
    } finally {
      if (this.requestedLoad === request) this.requestedLoad = undefined;
    }
  }

  async unload(): Promise<void> {
    this.lastLoad = undefined;
    if (!this.child) return;
    await this.send({ type: 'unload' }, 'unloading the model', this.requestTimeoutMs, undefined, (message) => (message.type === 'unloaded' ? true : undefined));
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
    await this.whenReady(signal);
    return this.send<number[]>({ type: 'encode', prompt }, 'encoding a prompt', this.requestTimeoutMs, signal, (message) => (message.type === 'encoded' ? message.ids : undefined));
  }

  async ping(signal?: AbortSignal): Promise<ProcessStatus> {
    await this.whenReady(signal);
    return this.send<ProcessStatus>({ type: 'ping' }, 'answering a ping', this.requestTimeoutMs, signal, (message) => (message.type === 'pong' ? message.status : undefined));
  }

  /**
   * Test hooks (the client must be created with `testHooks: true`): make the process crash, hang
   * (block its thread for `ms`), or take at least `ms` per generated token.
   */
  async sendTestMessage(message: { readonly type: 'test-crash' } | { readonly type: 'test-hang' | 'test-slow-steps'; readonly ms: number }): Promise<void> {
    if (!this.options.testHooks) throw new Error('test hooks are disabled');
    await this.processUp();
    if (message.type === 'test-slow-steps') {
      await this.send({ ...message }, 'setting up a test', this.requestTimeoutMs, undefined, (reply) => (reply.type === 'pong' ? true : undefined));
      return;
    }
    this.child?.send({ ...message, id: this.nextId++ });
  }

  /** Process id of the running model process (diagnostics, tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * The user's "Restart Model Process": kills the process (requests in flight fail saying so),
   * forgets earlier crashes, starts a fresh one and reloads the last model. Requests sent meanwhile
   * wait for it. Resolves when the model is back; rejects if it cannot come back.
   */
  async restart(): Promise<void> {
    if (this.disposed) throw this.shutDownError();
    this.guard = afterUserRestart();
    this.failure = undefined;
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const recovery = (this.recovery ??= deferred());
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.killReason = RESTART_REQUESTED;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    if (this.starting) await this.starting.catch(() => undefined);
    void this.recover();
    await recovery.promise;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.watchdog !== undefined) this.clock.clearTimeout(this.watchdog);
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    const error = this.shutDownError();
    this.failAll(error);
    this.recovery?.reject(error);
    this.recovery = undefined;
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

  private shutDownError(): ModelError {
    return new ModelError('process', 'The model process was shut down.');
  }

  /**
   * Resolves when a request can go to the process: it runs and, after a crash or a restart, has
   * its model back. Starts the process on first use. Rejects with the reason when restarting
   * stopped (or the reload failed), or at once when `signal` aborts.
   */
  private async whenReady(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (this.disposed) throw this.shutDownError();
      if (this.failure) throw this.failure;
      if (signal?.aborted) throw new GenerationAbortedError('The request was cancelled.');
      if (this.recovery) {
        await abortable(this.recovery.promise, signal);
        continue;
      }
      if (!this.child || this.starting) {
        await this.processUp(signal).catch((error: unknown) => {
          // A process that died while starting is a crash: the loop then waits for its restart or reports the stop.
          if (error instanceof GenerationAbortedError || this.disposed) throw error;
        });
        continue;
      }
      return;
    }
  }

  /** Resolves when a process runs (spawning one if none does); does not wait for a model. */
  private async processUp(signal?: AbortSignal): Promise<void> {
    if (this.disposed) throw this.shutDownError();
    if (this.failure) throw this.failure;
    if (this.child && !this.starting) return;
    this.starting ??= this.spawn()
      .then(() => this.setState({ status: 'idle' }))
      .finally(() => {
        this.starting = undefined;
      });
    await abortable(this.starting, signal);
  }

  /** Brings the process back after a crash or a restart request: spawn, reload, then let waiting requests through. */
  private async recover(): Promise<void> {
    const recovery = this.recovery;
    if (!recovery || this.disposed) return;
    try {
      await this.processUp();
      const reload = this.lastLoad;
      if (reload) {
        this.setState({ status: 'loading', model: reload.model });
        const info = await this.send<ModelInfo>({ type: 'load', request: reload }, 'reloading the model', this.loadTimeoutMs, undefined, (message) => (message.type === 'loaded' ? message.info : undefined));
        this.setState({ status: 'ready', info });
      } else {
        this.setState({ status: 'idle' });
      }
      if (this.recovery === recovery) this.recovery = undefined;
      recovery.resolve();
    } catch (error) {
      // The new process died as well: onExit already scheduled the next attempt, or stopped and rejected `recovery`.
      if (error instanceof ModelError && error.code === 'process') return;
      this.logger.error('reloading the model after a restart failed', { message: String(error) });
      const failure = error instanceof Error ? error : new Error(String(error));
      if (failure instanceof ModelError) {
        this.lastLoad = undefined;
        this.setState({ status: 'error', error: failure });
      }
      if (this.recovery === recovery) this.recovery = undefined;
      recovery.reject(failure);
    }
  }

  private async *runGenerate(request: GenerateRequest, signal: AbortSignal | undefined): AsyncGenerator<GenerationEvent> {
    await this.whenReady(signal);
    const id = this.nextId++;
    const queue = new EventQueue<GenerationEvent>();
    this.pending.set(id, {
      what: 'generating',
      sentAt: this.clock.now(),
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

  /** Sends one request to the running process and waits for its answer (callers made sure it runs). */
  private send<T>(message: DistributiveOmit<ClientMessage, 'id'>, what: string, timeoutMs: number, signal: AbortSignal | undefined, accept: (message: ProcessMessage) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
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
        sentAt: this.clock.now(),
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
    });
  }

  private post(message: ClientMessage): void {
    const child = this.child;
    if (!child) {
      const pending = this.pending.get(message.id);
      this.pending.delete(message.id);
      pending?.fail(new ModelError('process', 'The model process is not running; it is restarting. Try again in a moment.'));
      return;
    }
    // A process whose channel just closed is exiting: its exit fails the request with the real reason.
    if (!child.connected) return;
    child.send(message);
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
      this.lastMessageAt = this.clock.now();
      const forward = (level: 'info' | 'warn') => (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logger[level](`[model process] ${line.trimEnd()}`);
      };
      child.stdout?.on('data', forward('info'));
      child.stderr?.on('data', forward('warn'));
      let ready = false;
      let exited = false;
      const exit = (code: number | null, signal: NodeJS.Signals | null, startupError?: string) => {
        if (exited) return;
        exited = true;
        if (this.child === child) this.child = undefined;
        if (!ready) {
          reject(
            new ModelError(
              'process',
              startupError
                ? `The model process could not start: ${startupError}. Reinstall Tokenscope if this persists.`
                : `The model process exited during start-up (exit code ${code}${signal ? `, signal ${signal}` : ''}). See the Tokenscope log for its output; reinstall Tokenscope if this persists.`,
            ),
          );
        }
        this.onExit(code, signal, startupError);
      };
      child.on('message', (message: ProcessMessage) => {
        this.lastMessageAt = this.clock.now();
        if (message.type === 'ready') {
          ready = true;
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
        // Not started at all (e.g. the Node binary is missing): no exit event may follow.
        if (!ready && child.pid === undefined) exit(null, null, error.message);
      });
      child.on('exit', (code, signal) => exit(code, signal));
    });
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null, startupError?: string): void {
    if (this.disposed) return;
    const failed = this.pending.size;
    const detail = [...new Set([...this.pending.values()].map((pending) => pending.what))].join(', ') || 'idle';
    if (this.killReason === RESTART_REQUESTED) {
      this.failAll(new ModelError('process', `The model process was restarted ("Tokenscope: Restart Model Process") while ${detail}; ask again.`));
      return;
    }
    const reason = this.killReason ?? (startupError ? `it could not start (${startupError})` : `it exited unexpectedly (exit code ${exitCode}${signal ? `, signal ${signal}` : ''})`);
    const { guard, decision } = recordCrash(this.guard, this.clock.now(), this.requestedLoad ?? this.lastLoad, this.policy);
    this.guard = guard;
    this.logger.error('model process stopped', { reason, exitCode, signal, failedRequests: failed, crashesInWindow: guard.crashes.length });
    if (decision.kind === 'stop') {
      const error = new ModelProcessStoppedError(
        `The model process crashed ${decision.crashes} time${decision.crashes === 1 ? '' : 's'} in ${describeWindow(this.policy.windowMs)} (last: ${reason}). Tokenscope stopped restarting it: check the model files (try another variant or model), then run "Tokenscope: Restart Model Process".`,
      );
      this.failure = error;
      this.failAll(error);
      const recovery = this.recovery;
      this.recovery = undefined;
      recovery?.reject(error);
      this.setState({ status: 'failed', error });
      this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed } satisfies CrashInfo);
      return;
    }
    this.failAll(new ModelError('process', `The model process stopped while ${detail}: ${reason}. It is being restarted${this.lastLoad ? ' and the model reloaded' : ''}; try again in a moment.`));
    this.recovery ??= deferred();
    this.setState({ status: 'restarting', reason, attempt: decision.attempt, delayMs: decision.delayMs });
    this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed, restartInMs: decision.delayMs } satisfies CrashInfo);
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      void this.recover();
    }, decision.delayMs, true);
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const entry of pending) entry.fail(error);
  }

  private scheduleWatchdog(): void {
    if (this.disposed) return;
    this.watchdog = this.clock.setTimeout(() => {
      this.checkHung();
      this.scheduleWatchdog();
    }, Math.min(1000, this.requestTimeoutMs / 4), false);
  }

  /** Kills a process that has not said anything for longer than a request in flight allows. */
  private checkHung(): void {
    const child = this.child;
    if (!child || this.pending.size === 0) return;
    const now = this.clock.now();
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
