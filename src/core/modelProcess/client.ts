/**
 * The extension host's handle on the model process: forks it lazily, speaks the typed protocol,
 * streams generations, cancels them in the process, and survives the process: a crash or a hang
 * fails the requests in flight with a clear error, then the process restarts with backoff and
 * reloads the last model. Requests sent while it restarts wait for the reload (or fail with the
 * restart's own reason). After too many crashes in a window (crashGuard.ts) it stays stopped until
 * the user runs "Restart Model Process" or asks for another model.
 *
 * Its parts: clientTypes.ts (options, clock, states), spawnProcess.ts (forking one process),
 * pendingRequests.ts (the requests in flight, their answers and timeouts), promises.ts (waiting),
 * errors.ts, probabilityRequests.ts (next-token distributions and scores, through `call`). This file holds the life cycle: start, load, crash, restart, dispose.
 *
 * This file must not import onnxruntime-node: it runs in the extension host.
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ModelError } from '../models/errors';
import { afterLoadAllowed, afterUserRestart, allowsLoad, defaultCrashGuardPolicy, describeWindow, initialCrashGuard, recordCrash, type CrashGuard, type CrashGuardPolicy } from './crashGuard';
import { systemClock, type CrashInfo, type Disposable, type ModelProcessClientOptions, type ModelProcessClock, type ModelProcessState } from './clientTypes';
import { ModelProcessStoppedError } from './errors';
import { PendingRequests, type DistributiveOmit } from './pendingRequests';
import { abortable, deferred, type Deferred } from './promises';
import type { LastPrompt } from '../promptTokens/promptTokens';
import type { ClientMessage, ProcessMessage, ProcessStatus } from './protocol';
import { killProcess, spawnModelProcess, stopProcess } from './spawnProcess';
import { GenerationAbortedError, sameLoadRequest, silentLogger, type GenerateRequest, type GenerationEvent, type LoadModelRequest, type ModelInfo, type PromptInput, type RuntimeLogger } from '../runtime/types';

export { systemClock, type CrashInfo, type Disposable, type ModelProcessClientOptions, type ModelProcessClock, type ModelProcessState } from './clientTypes';
export { deserializeError, ModelProcessStoppedError } from './errors';
export { inspectModel } from './inspect';

const RESTART_REQUESTED = 'restart requested';

export class ModelProcessClient {
  private child: ChildProcess | undefined;
  /** Set while a process is being spawned (until it says `ready`). */
  private starting: Promise<void> | undefined;
  /**
   * Set from a crash (or a user restart) until the process is back with the model reloaded:
   * requests wait on it instead of reaching a process that has no model yet.
   */
  private recovery: Deferred | undefined;
  private readonly pending: PendingRequests;
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
    this.pending = new PendingRequests(this.clock, (message) => this.post(message));
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
      const info = await this.pending.request<ModelInfo>({ type: 'load', request }, 'loading the model', this.loadTimeoutMs, signal, (message) => (message.type === 'loaded' ? message.info : undefined));
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
    await this.pending.request({ type: 'unload' }, 'unloading the model', this.requestTimeoutMs, undefined, (message) => (message.type === 'unloaded' ? true : undefined));
    this.setState({ status: 'idle' });
  }

  /**
   * Streams a generation from the process. Aborting `signal` rejects the iteration at once with
   * a GenerationAbortedError and stops the work in the process within one forward pass (`coalesceMs`: protocol.ts).
   */
  generate(request: GenerateRequest, signal?: AbortSignal, { coalesceMs = 0 } = {}): AsyncIterable<GenerationEvent> {
    return { [Symbol.asyncIterator]: () => this.runGenerate(request, signal, coalesceMs) };
  }

  /** Token ids of a prompt as the process would feed them (chat template applied). */
  async encodePrompt(prompt: PromptInput, signal?: AbortSignal): Promise<number[]> {
    await this.whenReady(signal);
    return this.pending.request<number[]>({ type: 'encode', prompt }, 'encoding a prompt', this.requestTimeoutMs, signal, (message) => (message.type === 'encoded' ? message.ids : undefined));
  }

  /** A one-answer request once the process runs (the helpers beside this file, e.g. inspect.ts and probabilityRequests.ts, send theirs here); aborting cancels it in the process too. */
  async call<T>(message: DistributiveOmit<ClientMessage, 'id'>, what: string, accept: (message: ProcessMessage) => T | undefined, signal?: AbortSignal): Promise<T> {
    await this.whenReady(signal);
    return this.pending.request<T>(message, what, this.requestTimeoutMs, signal, accept);
  }

  /** The last prompt the process fed its model, as token pieces; null before the first generation with this model. */
  async lastPrompt(signal?: AbortSignal): Promise<LastPrompt | null> {
    await this.whenReady(signal);
    return this.pending.request<LastPrompt | null>({ type: 'last-prompt' }, 'showing the last prompt', this.requestTimeoutMs, signal, (message) => (message.type === 'last-prompt' ? message.prompt : undefined));
  }

  async ping(signal?: AbortSignal): Promise<ProcessStatus> {
    await this.whenReady(signal);
    return this.pending.request<ProcessStatus>({ type: 'ping' }, 'answering a ping', this.requestTimeoutMs, signal, (message) => (message.type === 'pong' ? message.status : undefined));
  }

  /**
   * Test hooks (the client must be created with `testHooks: true`): make the process crash, hang
   * (block its thread for `ms`), or take at least `ms` per generated token.
   */
  async sendTestMessage(message: { readonly type: 'test-crash' } | { readonly type: 'test-hang' | 'test-slow-steps'; readonly ms: number }): Promise<void> {
    if (!this.options.testHooks) throw new Error('test hooks are disabled');
    await this.processUp();
    if (message.type === 'test-slow-steps') {
      await this.pending.request({ ...message }, 'setting up a test', this.requestTimeoutMs, undefined, (reply) => (reply.type === 'pong' ? true : undefined));
      return;
    }
    this.child?.send({ ...message, id: this.pending.newId() });
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
      await killProcess(child);
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
    this.pending.failAll(error);
    this.recovery?.reject(error);
    this.recovery = undefined;
    if (child && child.exitCode === null && child.signalCode === null) await stopProcess(child);
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
        const info = await this.pending.request<ModelInfo>({ type: 'load', request: reload }, 'reloading the model', this.loadTimeoutMs, undefined, (message) => (message.type === 'loaded' ? message.info : undefined));
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

  private async *runGenerate(request: GenerateRequest, signal: AbortSignal | undefined, coalesceMs: number): AsyncGenerator<GenerationEvent> {
    await this.whenReady(signal);
    yield* this.pending.stream(request, this.requestTimeoutMs, signal, coalesceMs);
  }

  private post(message: ClientMessage): void {
    const child = this.child;
    if (!child) {
      this.pending.fail(message.id, new ModelError('process', 'The model process is not running; it is restarting. Try again in a moment.'));
      return;
    }
    // A process whose channel just closed is exiting: its exit fails the request with the real reason.
    if (!child.connected) return;
    child.send(message);
  }

  private async spawn(): Promise<void> {
    this.setState({ status: 'starting' });
    const { child, ready } = spawnModelProcess(this.options, this.logger, {
      onMessage: (message) => {
        this.lastMessageAt = this.clock.now();
        if ('id' in message) this.pending.dispatch(message.id, message);
      },
      onExit: (code, signal, startupError) => {
        if (this.child === child) this.child = undefined;
        this.onExit(code, signal, startupError);
      },
    });
    this.child = child;
    this.killReason = undefined;
    this.lastMessageAt = this.clock.now();
    await ready;
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null, startupError?: string): void {
    if (this.disposed) return;
    const failed = this.pending.size;
    const detail = this.pending.describe();
    if (this.killReason === RESTART_REQUESTED) {
      this.pending.failAll(new ModelError('process', `The model process was restarted ("Tokenscope: Restart Model Process") while ${detail}; ask again.`));
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
      this.pending.failAll(error);
      const recovery = this.recovery;
      this.recovery = undefined;
      recovery?.reject(error);
      this.setState({ status: 'failed', error });
      this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed } satisfies CrashInfo);
      return;
    }
    this.pending.failAll(new ModelError('process', `The model process stopped while ${detail}: ${reason}. It is being restarted${this.lastLoad ? ' and the model reloaded' : ''}; try again in a moment.`));
    this.recovery ??= deferred();
    this.setState({ status: 'restarting', reason, attempt: decision.attempt, delayMs: decision.delayMs });
    this.events.emit('crash', { reason, exitCode, signal, failedRequests: failed, restartInMs: decision.delayMs } satisfies CrashInfo);
    if (this.restartTimer !== undefined) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      void this.recover();
    }, decision.delayMs, true);
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
    const hung = this.pending.findHung(this.lastMessageAt);
    if (!hung) return;
    this.killReason = `it stopped responding for ${Math.round(hung.silentForMs / 1000)} s while ${hung.what}`;
    this.logger.error('model process hung; killing it', { what: hung.what, silentForMs: hung.silentForMs });
    child.kill('SIGKILL');
  }
}
