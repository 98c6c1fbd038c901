/**
 * Downloads one ONNX variant of a Hub model into the shared Hugging Face cache, as a stream of
 * events (plan, progress, retries, done) that the editor's progress notification and the CLI's
 * progress bar render.
 *
 * What @huggingface/hub's downloadFileToCacheDir does not do, and this does: resume a partial blob
 * (`blobs/{etag}.incomplete`) with an HTTP Range request after a cancel, a dropped connection or a
 * restart; verify the size and the SHA-256 (LFS) or git SHA-1 (small files) before the blob gets its
 * final name; report progress; retry 5xx/429, resets and stalls with backoff; check free space
 * first; hold one lock per repo so two windows never download the same files; key the snapshot by
 * the revision's commit and record refs/{revision} (it uses each file's last commit and writes no
 * ref). The snapshot links are made only after every file is verified, the .onnx file last, so the
 * model loader never finds half a model.
 *
 * The words (request, options, plan, events, result) are in pullTypes.ts; fetching and verifying
 * one file is blobDownload.ts. This file runs a pull: resolve, lock, plan, fetch each file, link.
 */
import { existsSync } from 'node:fs';
import { mkdir, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sleep } from '../abortableSleep';
import { AUTO_ORDER, listVariants } from '../models/modelFolder';
import { downloadBlob, fileSize, writeError, type FileOutcome } from './blobDownload';
import { blobPath, findCachedSnapshot, incompletePath, linkSnapshotFile, repoFolder, snapshotDir, writeRef } from './cache';
import { HubError, isHubError } from './errors';
import { HubHttp, cancelled } from './http';
import { acquireRepoLock, type LockHolder } from './lock';
import { fetchFileInfo, fetchRepoRevision, selectFiles, type RemoteFile, type RepoRevision } from './metadata';
import type { PlannedFile, PullEvent, PullOptions, PullPlan, PullRequest, PullResult } from './pullTypes';
import { checkRepoId, checkRevision } from './settings';
import { formatBytes } from './units';

export type { PlannedFile, PullEvent, PullOptions, PullPlan, PullRequest, PullResult } from './pullTypes';

const FREE_SPACE_MARGIN = 32 * 1024 * 1024;

export { formatBytes } from './units';

async function defaultFreeBytes(dir: string): Promise<number> {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  const stats = await statfs(current);
  return stats.bavail * stats.bsize;
}


/**
 * Pulls `request.repo` into the cache. The returned stream ends with a `done` event; it throws a
 * HubError (what happened, what to do) on failure, after releasing the lock and keeping every
 * verified byte for the next attempt.
 */
export async function* pullModel(request: PullRequest, options: PullOptions): AsyncGenerator<PullEvent, PullResult> {
  const started = performance.now();
  const repo = checkRepoId(request.repo);
  const revision = checkRevision(request.revision ?? 'main');
  const variant = request.variant ?? 'auto';
  const label = request.label ?? repo;
  const { settings } = options;
  const outer = options.signal ?? new AbortController().signal;
  const explicitVariant = variant === 'auto' ? undefined : variant;

  const fromCache = (snapshot: { commit: string; dir: string }): PullResult => {
    const present = listVariants(snapshot.dir);
    const chosen = explicitVariant ?? (request.preferredVariant && present.has(request.preferredVariant) ? request.preferredVariant : AUTO_ORDER.find((candidate) => present.has(candidate)));
    return {
      repo,
      revision,
      commit: snapshot.commit,
      variant: chosen ?? 'q4',
      dir: snapshot.dir,
      totalBytes: 0,
      downloadedBytes: 0,
      reusedBytes: 0,
      resumedBytes: 0,
      refetchedBytes: 0,
      fromCache: true,
      elapsedMs: Math.round(performance.now() - started),
    };
  };

  if (settings.offline) {
    const cached = findCachedSnapshot(settings.cacheDir, repo, { revision, variant: explicitVariant });
    if (!cached) {
      throw new HubError('offline', `Offline mode is on and ${label} is not in the Hugging Face cache (${settings.cacheDir})${explicitVariant ? ` with its ${explicitVariant} variant` : ''}. Turn offline mode off (tokenscope.hub.offline, HF_HUB_OFFLINE) to download it, or copy the model into the cache from a machine that has it.`, { repo });
    }
    const result = fromCache(cached);
    yield { type: 'done', result };
    return result;
  }

  const http = new HubHttp(settings, { stallTimeoutMs: options.stallTimeoutMs, userAgent: options.userAgent });
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  try {
    yield { type: 'resolving', repo, revision };
    let remote: RepoRevision;
    let files: RemoteFile[];
    let selection: ReturnType<typeof selectFiles>;
    try {
      remote = await withRetries(() => fetchRepoRevision(http, repo, revision, outer), maxAttempts, retryDelayMs, outer);
      selection = selectFiles(repo, remote.files, variant, request.preferredVariant);
      files = await withRetries(() => fetchFileInfo(http, remote, selection.paths, outer), maxAttempts, retryDelayMs, outer);
    } catch (error) {
      // Cannot reach the Hub, but the cache has the model: use it, as huggingface_hub does.
      if (isHubError(error) && (error.code === 'network' || error.code === 'proxy')) {
        const cached = findCachedSnapshot(settings.cacheDir, repo, { revision, variant: explicitVariant });
        if (cached) {
          yield { type: 'notice', message: `${error.message} Using the copy already in the cache (${cached.commit.slice(0, 7)}).` };
          const result = fromCache(cached);
          yield { type: 'done', result };
          return result;
        }
      }
      throw error;
    }

    const waits: (LockHolder | undefined)[] = [];
    const lockPromise = acquireRepoLock(settings.cacheDir, repo, { staleMs: options.lockStaleMs, signal: outer, what: `the download of ${label} (pid ${process.pid})`, onWait: (holder) => waits.push(holder) });
    // Report waiting while the lock is held elsewhere.
    let lock: Awaited<typeof lockPromise> | undefined;
    let lockError: unknown;
    lockPromise.then((value) => (lock = value), (error: unknown) => (lockError = error));
    let reported = 0;
    while (!lock && lockError === undefined) {
      if (waits.length > reported) {
        reported = waits.length;
        if (reported === 1) yield { type: 'waiting', holder: waits[waits.length - 1] };
      }
      await Promise.race([lockPromise.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    if (lockError !== undefined) throw lockError;
    const held = lock!;
    const signal = AbortSignal.any([outer, held.lost]);
    try {
      // Planned under the lock: another window may just have finished these files.
      const planned: PlannedFile[] = files.map((file) => {
        const blob = blobPath(settings.cacheDir, repo, file.etag);
        if (fileSize(blob) === file.size && existsSync(blob)) return { path: file.path, size: file.size, state: 'present', partialBytes: 0 };
        const partial = fileSize(incompletePath(settings.cacheDir, repo, file.etag));
        return partial > 0 && partial <= file.size ? { path: file.path, size: file.size, state: 'partial', partialBytes: partial } : { path: file.path, size: file.size, state: 'missing', partialBytes: 0 };
      });
      const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
      const presentBytes = planned.reduce((sum, file) => sum + (file.state === 'present' ? file.size : file.partialBytes), 0);
      const plan: PullPlan = { repo, revision, commit: remote.commit, variant: selection.variant, available: selection.available, files: planned, totalBytes, presentBytes };
      const needed = totalBytes - presentBytes;
      if (needed > 0) {
        const free = await (options.freeBytes ?? defaultFreeBytes)(repoFolder(settings.cacheDir, repo));
        if (free < needed + FREE_SPACE_MARGIN) {
          throw new HubError('disk-full', `Not enough disk space for ${label}: it needs ${formatBytes(needed)} more and the disk holding ${settings.cacheDir} has ${formatBytes(free)} free. Free some space, or move the Hugging Face cache to a bigger disk (set HF_HUB_CACHE), then try again.`, { repo });
        }
      }
      yield { type: 'plan', plan };

      let done = presentBytes;
      let downloaded = 0;
      let resumed = 0;
      let refetched = 0;
      const reused = planned.reduce((sum, file) => sum + (file.state === 'present' ? file.size : 0), 0);
      for (const [index, file] of files.entries()) {
        if (planned[index].state === 'present') continue;
        const before = planned[index].partialBytes;
        const events: PullEvent[] = [];
        const transfer = downloadBlob(http, remote, file, label, {
          signal,
          maxAttempts,
          retryDelayMs,
          progressIntervalMs: options.progressIntervalMs ?? 100,
          openWrite: options.openWrite,
          onProgress: (fileBytes, at) => events.push({ type: 'progress', file: file.path, fileBytes, fileTotal: file.size, doneBytes: done - before + fileBytes, totalBytes, at }),
          onRetry: (attempt, delayMs, reason) => events.push({ type: 'retry', file: file.path, attempt, delayMs, reason }),
        });
        let outcome: FileOutcome | undefined;
        let failure: unknown;
        let settled = false;
        transfer.then((value) => { outcome = value; settled = true; }, (error: unknown) => { failure = error; settled = true; });
        while (!settled || events.length > 0) {
          if (events.length > 0) {
            yield* events.splice(0);
            continue;
          }
          await Promise.race([transfer.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, options.progressIntervalMs ?? 100))]);
        }
        if (failure !== undefined) {
          if (held.lost.aborted && !outer.aborted) throw held.lost.reason;
          throw failure;
        }
        done += file.size - before;
        downloaded += outcome!.downloaded;
        resumed += outcome!.resumed;
        refetched += outcome!.refetched;
        yield { type: 'progress', file: file.path, fileBytes: file.size, fileTotal: file.size, doneBytes: done, totalBytes, at: performance.now() };
      }

      // Links last, weights last of all: a loader looking at the snapshot sees all or nothing.
      const order = (path: string) => (path.endsWith('.onnx') ? 2 : /\.onnx[._]data|_data$/.test(path) ? 1 : 0);
      for (const file of [...files].sort((a, b) => order(a.path) - order(b.path))) {
        try {
          await linkSnapshotFile(settings.cacheDir, repo, remote.commit, file.path, file.etag);
        } catch (error) {
          throw writeError(error, settings.cacheDir, label);
        }
      }
      // refs/ exists even for a pinned commit: some readers (@huggingface/hub's scanCachedRepo) require it.
      await mkdir(join(repoFolder(settings.cacheDir, repo), 'refs'), { recursive: true }).catch(() => undefined);
      await writeRef(settings.cacheDir, repo, revision, remote.commit).catch((error: unknown) => {
        throw writeError(error, settings.cacheDir, label);
      });
      const result: PullResult = {
        repo,
        revision,
        commit: remote.commit,
        variant: selection.variant,
        dir: snapshotDir(settings.cacheDir, repo, remote.commit),
        totalBytes,
        downloadedBytes: downloaded,
        reusedBytes: reused,
        resumedBytes: resumed,
        refetchedBytes: refetched,
        fromCache: downloaded === 0,
        elapsedMs: Math.round(performance.now() - started),
      };
      yield { type: 'done', result };
      return result;
    } finally {
      await held.release();
    }
  } finally {
    await http.close();
  }
}

/** Metadata calls: retried on 5xx/429, resets and stalls. */
async function withRetries<T>(call: () => Promise<T>, maxAttempts: number, retryDelayMs: number, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (signal.aborted) throw cancelled();
      const retryable = isHubError(error) && error.details.retryable === true;
      if (!retryable || attempt >= maxAttempts) {
        if (isHubError(error, 'server') && error.details.status) throw new HubError('server', error.message.replace(/ answered (\d+)/, ` answered $1 after ${attempt} attempts`), error.details);
        throw error;
      }
      await sleep(Math.min(retryDelayMs * 2 ** (attempt - 1), 30_000), signal, cancelled);
    }
  }
}
