/**
 * The words of a Hub download: what is asked for (`PullRequest`), how it runs (`PullOptions`:
 * settings, cancellation, timeouts, retries, injectable disk), the plan made under the repo's lock
 * (`PullPlan`), the events the editor's progress notification and the CLI's progress bar render
 * (`PullEvent`), and what it produced (`PullResult`). pull.ts re-exports them.
 */
import type { Writable } from 'node:stream';
import type { ConcreteVariant } from '../models/modelFolder';
import type { LockHolder } from './lock';
import type { HubSettings } from './settings';

export interface PullRequest {
  /** `org/name` on the Hub. */
  readonly repo: string;
  /** Branch, tag or commit (default main). */
  readonly revision?: string;
  /** Which ONNX file to fetch; `auto` takes `preferredVariant`, else the best for a CPU that the repo has. */
  readonly variant?: ConcreteVariant | 'auto';
  readonly preferredVariant?: ConcreteVariant;
  /** A name for messages (the catalog label); default the repo id. */
  readonly label?: string;
}

export interface PullOptions {
  readonly settings: HubSettings;
  readonly signal?: AbortSignal;
  /** Milliseconds without a byte before a request counts as stalled (default 30 s). */
  readonly stallTimeoutMs?: number;
  /** Attempts per file in a row that bring no byte before giving up (default 5). */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each time (default 1 s). */
  readonly retryDelayMs?: number;
  /** Fewest milliseconds between progress events (default 100). */
  readonly progressIntervalMs?: number;
  readonly userAgent?: string;
  /** A lock not refreshed for this long is taken over (default 20 s). */
  readonly lockStaleMs?: number;
  /** Free bytes on the disk holding `dir` (default: statfs). */
  readonly freeBytes?: (dir: string) => Promise<number>;
  /** Opens the stream a blob is written to (default: a file stream); tests inject a failing disk. */
  readonly openWrite?: (path: string, start: number) => Writable;
}

export interface PlannedFile {
  readonly path: string;
  readonly size: number;
  /** Already a complete blob in the cache, or a resumable partial one. */
  readonly state: 'present' | 'partial' | 'missing';
  readonly partialBytes: number;
}

export interface PullPlan {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly variant: ConcreteVariant;
  readonly available: readonly ConcreteVariant[];
  readonly files: readonly PlannedFile[];
  readonly totalBytes: number;
  /** Bytes already on disk (complete blobs and partial ones that resume). */
  readonly presentBytes: number;
}

export interface PullResult {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  readonly variant: ConcreteVariant;
  /** The snapshot folder: load it, or hand it to any other tool. */
  readonly dir: string;
  readonly totalBytes: number;
  /** Bytes received over the network in this pull. */
  readonly downloadedBytes: number;
  /** Bytes of blobs that were already complete (this or another tool fetched them before). */
  readonly reusedBytes: number;
  /** Bytes of partial blobs that were resumed instead of fetched again. */
  readonly resumedBytes: number;
  /** Bytes received for offsets that were already on disk (a server ignoring Range): fetched twice. */
  readonly refetchedBytes: number;
  /** Nothing was fetched: the cache had it (offline mode, or everything present). */
  readonly fromCache: boolean;
  readonly elapsedMs: number;
}

export type PullEvent =
  | { readonly type: 'resolving'; readonly repo: string; readonly revision: string }
  | { readonly type: 'waiting'; readonly holder?: LockHolder }
  | { readonly type: 'plan'; readonly plan: PullPlan }
  | { readonly type: 'progress'; readonly file: string; readonly fileBytes: number; readonly fileTotal: number; readonly doneBytes: number; readonly totalBytes: number; readonly at: number }
  | { readonly type: 'retry'; readonly file: string; readonly attempt: number; readonly delayMs: number; readonly reason: string }
  | { readonly type: 'notice'; readonly message: string }
  | { readonly type: 'done'; readonly result: PullResult };
