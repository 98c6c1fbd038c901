/**
 * One download of a repo at a time, across editor windows and CLI runs: a lock in the cache's
 * `.locks/models--org--name/` folder (where huggingface_hub keeps its own per-file locks), taken
 * with proper-lockfile (an atomic mkdir, refreshed while held; one not refreshed for `staleMs` is
 * taken over, so a crashed window never blocks the next one). The holder writes who it is beside
 * the lock, so a waiting pull can say what it waits for.
 */
import { lock } from 'proper-lockfile';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../abortableSleep';
import { HubError } from './errors';
import { cancelled } from './http';
import { locksDir } from './cache';

export interface RepoLock {
  /** Releases the lock (idempotent). */
  release(): Promise<void>;
  /** Rejects if the lock was lost while held (its folder removed or taken over). */
  readonly lost: AbortSignal;
}

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly since: number;
  readonly what: string;
}

const LOCK_NAME = 'tokenscope-download';

export interface AcquireOptions {
  readonly staleMs?: number;
  readonly pollMs?: number;
  /** Who we are, for another pull's "waiting for …" message. */
  readonly what?: string;
  readonly signal?: AbortSignal;
  /** Called each time the lock is found held by someone else, with what they wrote about themselves. */
  readonly onWait?: (holder: LockHolder | undefined) => void;
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits for and takes the repo's download lock. */
export async function acquireRepoLock(cacheDir: string, repo: string, options: AcquireOptions = {}): Promise<RepoLock> {
  const folder = locksDir(cacheDir, repo);
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    throw new HubError('cache', `Cannot create ${folder} (${(error as Error).message}): the Hugging Face cache folder is not writable. Fix its permissions, or point HF_HUB_CACHE (or HF_HOME) at a writable folder.`);
  }
  const target = join(folder, LOCK_NAME);
  const ownerFile = join(folder, `${LOCK_NAME}.owner.json`);
  const staleMs = options.staleMs ?? 20_000;
  const lost = new AbortController();
  for (;;) {
    if (options.signal?.aborted) throw cancelled();
    try {
      const release = await lock(target, {
        realpath: false,
        stale: staleMs,
        update: Math.max(1000, Math.floor(staleMs / 4)),
        retries: 0,
        onCompromised: (error) => lost.abort(new HubError('cache', `The download lock ${target} was taken over while this download held it (${error.message}); stopping so two downloads never write the same files. Try again.`)),
      });
      const holder: LockHolder = { pid: process.pid, host: hostname(), since: Date.now(), what: options.what ?? 'a Tokenscope download' };
      await writeFile(ownerFile, JSON.stringify(holder)).catch(() => undefined);
      let released = false;
      return {
        lost: lost.signal,
        release: async () => {
          if (released) return;
          released = true;
          await rm(ownerFile, { force: true }).catch(() => undefined);
          await release().catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new HubError('cache', `Cannot lock ${target} (${(error as Error).message}): the Hugging Face cache folder is not writable. Fix its permissions, or point HF_HUB_CACHE at a writable folder.`);
      }
      const holder = await readHolder(ownerFile);
      // A holder on this machine whose process is gone (a killed window or CLI) left the lock
      // behind: take it over now instead of waiting for it to go stale.
      if (holder && holder.host === hostname() && holder.pid !== process.pid && !processAlive(holder.pid)) {
        await rm(`${target}.lock`, { recursive: true, force: true }).catch(() => undefined);
        await rm(ownerFile, { force: true }).catch(() => undefined);
        continue;
      }
      options.onWait?.(holder);
      await sleep(options.pollMs ?? 500, options.signal, cancelled);
    }
  }
}
