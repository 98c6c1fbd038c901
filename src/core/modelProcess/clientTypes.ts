/**
 * The words the model process client speaks with its callers: how it is configured
 * (`ModelProcessClientOptions`), the clock it runs its restarts and watchdog on (injectable so
 * tests use a fake one), the states it reports (`ModelProcessState`) and what it says about a
 * crash (`CrashInfo`). Kept apart from client.ts so the editor and the server can import the
 * vocabulary without the process handling; client.ts re-exports all of it.
 */
import type { ModelError } from '../models/errors';
import type { ModelInfo, RuntimeLogger } from '../runtime/types';
import type { ModelProcessStoppedError } from './errors';
import type { ModelProcessPriority } from './protocol';

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
  /** The process's scheduling priority (default `normal`); the editor runs it `below-normal` (see ModelProcessPriority). */
  readonly priority?: ModelProcessPriority;
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
