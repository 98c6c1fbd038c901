/**
 * The model process's crash-loop guard, as pure functions of events (crash, user restart, load):
 * restart after a crash with growing delays, and stop after too many crashes in a window. Once
 * stopped, nothing starts the process again until the user runs "Restart Model Process" or asks
 * for a different model (the model setting changed): a model that crashes on every request must
 * not respawn once per request. ModelProcessClient drives it; the tests drive it with fake times.
 */
import { sameLoadRequest, type LoadModelRequest } from '../runtime/types';

export interface CrashGuardPolicy {
  /** Restarts allowed within `windowMs`; the crash after them stops restarting. */
  readonly maxRestarts: number;
  /** Crashes older than this are forgotten. */
  readonly windowMs: number;
  /** Delay before the 1st, 2nd, ... restart in the window (the last repeats). */
  readonly restartDelaysMs: readonly number[];
}

export const defaultCrashGuardPolicy: CrashGuardPolicy = { maxRestarts: 5, windowMs: 5 * 60_000, restartDelaysMs: [500, 1000, 2000, 5000, 10000] };

export interface CrashGuard {
  /** When the crashes still inside the window happened (ms, oldest first). */
  readonly crashes: readonly number[];
  /** Set once restarting stopped. */
  readonly stopped?: {
    /** What the process was asked to run when it stopped; loading the same again must not respawn it. */
    readonly load: LoadModelRequest | undefined;
    /** Crashes in the window that made it stop. */
    readonly crashes: number;
  };
}

export const initialCrashGuard: CrashGuard = { crashes: [] };

export type CrashDecision =
  /** Restart after `delayMs`; this is restart number `attempt` in the window. */
  | { readonly kind: 'restart'; readonly attempt: number; readonly delayMs: number }
  /** Too many crashes: stay stopped. */
  | { readonly kind: 'stop'; readonly crashes: number };

/** A crash at `at` (ms) while the process was asked to run `load`: restart, or stop. */
export function recordCrash(guard: CrashGuard, at: number, load: LoadModelRequest | undefined, policy: CrashGuardPolicy = defaultCrashGuardPolicy): { guard: CrashGuard; decision: CrashDecision } {
  const crashes = [...guard.crashes.filter((time) => at - time < policy.windowMs), at];
  if (guard.stopped || crashes.length > policy.maxRestarts) {
    return { guard: { crashes, stopped: { load, crashes: crashes.length } }, decision: { kind: 'stop', crashes: crashes.length } };
  }
  const delays = policy.restartDelaysMs.length > 0 ? policy.restartDelaysMs : [0];
  const delayMs = delays[Math.min(crashes.length - 1, delays.length - 1)] ?? 0;
  return { guard: { crashes }, decision: { kind: 'restart', attempt: crashes.length, delayMs } };
}

/** May a load of `request` start the process? Not after a stop, unless it asks for a different model. */
export function allowsLoad(guard: CrashGuard, request: LoadModelRequest): boolean {
  return !guard.stopped || !sameLoadRequest(guard.stopped.load, request);
}

/**
 * The guard after a load was allowed: a different model starts with a clean record (its crashes
 * are its own); the same one keeps counting.
 */
export function afterLoadAllowed(guard: CrashGuard, request: LoadModelRequest): CrashGuard {
  return guard.stopped && !sameLoadRequest(guard.stopped.load, request) ? initialCrashGuard : guard;
}

/** The user ran "Restart Model Process": start over. */
export function afterUserRestart(): CrashGuard {
  return initialCrashGuard;
}

/** "5 minutes", "90 s": the window in the stop message. */
export function describeWindow(windowMs: number): string {
  if (windowMs >= 60_000 && windowMs % 60_000 === 0) return `${windowMs / 60_000} minute${windowMs === 60_000 ? '' : 's'}`;
  return `${Math.round(windowMs / 1000)} s`;
}
