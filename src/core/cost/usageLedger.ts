/**
 * The usage ledger: what completions, chat and explain read and generated, per day, kept in one
 * file in the extension's global storage (`usage-ledger.json`) that every window adds to and the
 * CLI (`tokenscope usage`) reads. Records collect in memory and are added to the file at the next
 * flush (a few seconds later, and on close) under the shared lock (core/lockedFile.ts): each flush
 * reads the file fresh and adds this process's counts to it, so two windows writing at once lose
 * nothing, and a crash mid-write leaves the previous complete file (a crash loses at most the
 * counts not flushed yet). A file that is not a ledger is moved aside, never deleted; one that
 * cannot be read is never overwritten.
 */
import { mkdir, readFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { describeFsError, LockedFile, type LockedFileLogger, type LockedFileOptions } from '../lockedFile';
import { addUsage, dayKey, MAX_LEDGER_DAYS, parseLedger, usageKey, type DayUsage, type LedgerFile, type UsageBackend, type UsageFeature } from './usageFormat';

export const LEDGER_FILE_NAME = 'usage-ledger.json';

/** A write that did not reach the disk; the message says why. */
export class LedgerWriteError extends Error {
  override readonly name = 'LedgerWriteError';
}

/** One request's usage. */
export interface UsageRecord {
  readonly feature: UsageFeature;
  readonly backend: UsageBackend;
  readonly promptTokens: number;
  readonly generatedTokens: number;
  /** When it happened (default: now); its local date is the day it counts for. */
  readonly at?: Date;
}

export interface UsageLedgerOptions extends LockedFileOptions {
  /** How long records wait in memory before they are written (default 5 s; 0 writes at once). */
  readonly flushDelayMs?: number;
  readonly maxDays?: number;
}

export class UsageLedger {
  private readonly locked: LockedFile;
  /** Counts recorded here and not yet in the file. */
  private pending: Record<string, Record<string, { requests: number; read: number; generated: number }>> = {};
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly flushDelayMs: number;
  private readonly maxDays: number;
  private readonly writeListeners = new Set<() => void>();

  constructor(
    readonly path: string,
    private readonly log: LockedFileLogger,
    options: UsageLedgerOptions = {},
  ) {
    this.flushDelayMs = options.flushDelayMs ?? 5000;
    this.maxDays = options.maxDays ?? MAX_LEDGER_DAYS;
    this.locked = new LockedFile(
      path,
      log,
      {
        what: 'Usage ledger',
        busy: (holder, lockFile) => new LedgerWriteError(`The usage ledger ${path} is being written by another Tokenscope window (${holder}); the counts are kept and written later. If no other window is open, delete ${lockFile}.`),
        lockFailed: (error) => new LedgerWriteError(`The usage ledger could not be written to ${path}: ${describeFsError(error)}; the counts are kept and written later.`),
      },
      options,
    );
  }

  /** Listens for this process's writes (the Usage & Cost view redraws). */
  onDidWrite(listener: () => void): { dispose(): void } {
    this.writeListeners.add(listener);
    return { dispose: () => this.writeListeners.delete(listener) };
  }

  static inFolder(folder: string, log: LockedFileLogger, options?: UsageLedgerOptions): UsageLedger {
    return new UsageLedger(join(folder, LEDGER_FILE_NAME), log, options);
  }

  /** Adds one request's usage (written at the next flush). Negative or fractional counts are refused. */
  record(record: UsageRecord): void {
    for (const value of [record.promptTokens, record.generatedTokens]) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`token counts must be whole numbers >= 0, got ${value}`);
    }
    const day = (this.pending[dayKey(record.at ?? new Date())] ??= {});
    const entry = (day[usageKey(record.feature, record.backend)] ??= { requests: 0, read: 0, generated: 0 });
    entry.requests += 1;
    entry.read += record.promptTokens;
    entry.generated += record.generatedTokens;
    if (this.flushDelayMs === 0) void this.flush().catch((error: unknown) => this.log.warn(String(error)));
    else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => this.log.warn(error instanceof Error ? error.message : String(error)));
    }, this.flushDelayMs);
  }

  /** Writes what was recorded so far; a failed write keeps the counts for the next flush. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const run = this.queue.then(async () => {
      if (Object.keys(this.pending).length === 0) return;
      const delta = this.pending;
      this.pending = {};
      try {
        await this.write(delta);
        for (const listener of this.writeListeners) listener();
      } catch (error) {
        // Put them back under what was recorded meanwhile: nothing counted twice, nothing lost.
        this.pending = addUsage(delta, this.pending, Number.MAX_SAFE_INTEGER) as typeof this.pending;
        throw error;
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The days on disk plus what this process has not written yet. */
  async read(): Promise<LedgerFile['days']> {
    return addUsage(await readLedger(this.path, this.log), this.pending, this.maxDays);
  }

  private async write(delta: LedgerFile['days']): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new LedgerWriteError(`The usage ledger could not be written to ${this.path}: ${describeFsError(error)}.`);
    }
    await this.locked.withLock(async () => {
      const onDisk = await this.readForWrite();
      const body: LedgerFile = { version: 1, days: addUsage(onDisk, delta, this.maxDays) };
      try {
        await this.locked.writeDurably(this.path, JSON.stringify(body));
      } catch (error) {
        throw new LedgerWriteError(`The usage ledger could not be written to ${this.path}: ${describeFsError(error)}; the counts are kept and written later.`);
      }
    });
  }

  private async readForWrite(): Promise<Record<string, DayUsage>> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new LedgerWriteError(`${this.path} could not be read (${describeFsError(error)}), so it was not overwritten.`);
    }
    const parsed = parseLedger(text);
    if (parsed === undefined || 'otherVersion' in parsed) {
      const aside = `${this.path}.${parsed ? `version-${String(parsed.otherVersion)}` : 'corrupt'}-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
      try {
        await rename(this.path, aside);
      } catch (error) {
        throw new LedgerWriteError(`${this.path} is not a usage ledger this Tokenscope reads and could not be moved aside (${describeFsError(error)}), so it was not overwritten.`);
      }
      this.log.warn(`Usage ledger ${this.path} was not one this Tokenscope reads; kept it as ${aside} and started a new one.`);
      return {};
    }
    return { ...parsed.file.days };
  }

  dispose(): Promise<void> {
    return this.flush();
  }
}

/** The days in a ledger file ({} when there is none); the CLI reads it this way too. Throws when it cannot be read. */
export async function readLedger(path: string, log?: LockedFileLogger): Promise<LedgerFile['days']> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new Error(`the usage ledger ${path} could not be read: ${describeFsError(error)}`);
  }
  const parsed = parseLedger(text);
  if (parsed === undefined || 'otherVersion' in parsed) {
    log?.warn(`Usage ledger ${path} is not one this Tokenscope reads; it is moved aside at the next write.`);
    return {};
  }
  if (parsed.dropped > 0) log?.warn(`Usage ledger ${path}: ${parsed.dropped} malformed entries left out.`);
  return parsed.file.days;
}
