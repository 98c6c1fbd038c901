/**
 * One JSON file shared by every window of the editor (and the CLI), written safely: changes run
 * under a lock file (`<file>.lock`, created exclusively, holding the owner's pid and host), and each
 * write goes to a temp file that is fsynced and renamed over the old one, so a crash mid-write
 * leaves the previous complete file. A lock whose owner died, or that is older than `staleLockMs`,
 * is taken over; temp files found under the lock were left by a writer that died and are removed.
 * The chat history (chat/historyStore.ts) and the usage ledger (cost/usageLedger.ts) both use it.
 */
import { open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processAlive } from './processAlive';

export interface LockedFileLogger {
  warn(message: string): void;
}

export interface LockedFileOptions {
  /** How long a change waits for another writer to finish (default 15 s). */
  readonly lockTimeoutMs?: number;
  /** A lock older than this is left over from a writer that died mid-write (default 10 s). */
  readonly staleLockMs?: number;
}

/** What the file is called in log lines, and the errors its owner throws (each store has its own class and words). */
export interface LockedFileMessages {
  /** `Chat history`, `Usage ledger`. */
  readonly what: string;
  /** A live writer held the lock past the timeout. */
  busy(holder: string, lockFile: string): Error;
  /** The lock file could not be created (a full disk, permissions). */
  lockFailed(error: unknown): Error;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly at: number;
}

/** What an errno means for the user. */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full (${code})`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return `the file system is read-only (${code})`;
    default:
      return (error as Error).message;
  }
}

export class LockedFile {
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(
    readonly path: string,
    private readonly log: LockedFileLogger,
    private readonly messages: LockedFileMessages,
    options: LockedFileOptions = {},
  ) {
    this.lockTimeoutMs = options.lockTimeoutMs ?? 15_000;
    this.staleLockMs = options.staleLockMs ?? 10_000;
  }

  /** Runs `task` holding the lock, after removing temp files a dead writer left. */
  async withLock<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      await this.removeStaleTempFiles();
      return await task();
    } finally {
      await release();
    }
  }

  /** A temp file, fsynced, renamed over `target`: the target is the old file or the new one, never half of one. */
  async writeDurably(target: string, text: string): Promise<void> {
    const temp = `${this.path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text, 'utf8');
      // fsync before rename: otherwise a power cut can leave the renamed file empty.
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Under the lock, every temp file of this file belongs to a writer that died before its rename. */
  private async removeStaleTempFiles(): Promise<void> {
    const folder = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
      await rm(join(folder, name), { force: true });
      this.log.warn(`${this.messages.what}: removed ${name}, left by a save that was interrupted.`);
    }
  }

  /**
   * Takes `<file>.lock` (created exclusively, holding our pid). A lock whose owner died, or that
   * is older than `staleLockMs`, is taken over; a live one is waited for up to `lockTimeoutMs`.
   */
  private async lock(): Promise<() => Promise<void>> {
    const lockFile = `${this.path}.lock`;
    const owner: LockOwner = { pid: process.pid, host: hostname(), at: Date.now() };
    const deadline = Date.now() + this.lockTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await writeFile(lockFile, JSON.stringify(owner), { flag: 'wx' });
        return () => rm(lockFile, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          // Created but not written (a full disk): ours to remove, or it would block the next save.
          await rm(lockFile, { force: true });
          throw this.messages.lockFailed(error);
        }
      }
      const holder = await this.lockHolder(lockFile);
      if (holder.stale) {
        // Move it away first: of two writers taking over the same dead lock, only one rename succeeds.
        const moved = `${lockFile}.${randomBytes(4).toString('hex')}.stale`;
        try {
          await rename(lockFile, moved);
          await rm(moved, { force: true });
          this.log.warn(`${this.messages.what}: took over a lock left by a window that stopped (${holder.description}).`);
        } catch {
          // Someone else took it over first.
        }
        continue;
      }
      if (Date.now() >= deadline) throw this.messages.busy(holder.description, lockFile);
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 10 + attempt * 10) + Math.random() * 10));
    }
  }

  private async lockHolder(lockFile: string): Promise<{ stale: boolean; description: string }> {
    let owner: Partial<LockOwner> = {};
    let age = 0;
    try {
      const [text, info] = await Promise.all([readFile(lockFile, 'utf8'), stat(lockFile)]);
      age = Date.now() - info.mtimeMs;
      owner = JSON.parse(text) as Partial<LockOwner>;
    } catch {
      // Half-written (its writer is between create and write) or just removed: judge by age only.
    }
    const description = typeof owner.pid === 'number' ? `process ${owner.pid}${owner.host && owner.host !== hostname() ? ` on ${owner.host}` : ''}` : 'an unknown process';
    const deadOwner = typeof owner.pid === 'number' && owner.host === hostname() && !processAlive(owner.pid);
    return { stale: deadOwner || age > this.staleLockMs, description };
  }
}
