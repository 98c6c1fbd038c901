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
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, statfs, truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { AUTO_ORDER, listVariants, type ConcreteVariant } from '../models/modelFolder';
import { blobPath, findCachedSnapshot, incompletePath, linkSnapshotFile, repoFolder, snapshotDir, writeRef } from './cache';
import { HubError, displayUrl, errorCode, isHubError } from './errors';
import { HubHttp, cancelled, type HubResponse } from './http';
import { acquireRepoLock, type LockHolder } from './lock';
import { fetchFileInfo, fetchRepoRevision, selectFiles, statusError, type RemoteFile, type RepoRevision } from './metadata';
import { checkRepoId, checkRevision, type HubSettings } from './settings';
import { formatBytes } from './units';

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

const FREE_SPACE_MARGIN = 32 * 1024 * 1024;

export { formatBytes } from './units';

async function defaultFreeBytes(dir: string): Promise<number> {
  let current = dir;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  const stats = await statfs(current);
  return stats.bavail * stats.bsize;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function newDigest(file: RemoteFile): Hash {
  const hash = createHash(file.digest.algorithm === 'sha256' ? 'sha256' : 'sha1');
  // A git blob's id is SHA-1 over "blob <size>\0" and the content.
  if (file.digest.algorithm === 'git-sha1') hash.update(`blob ${file.size}\0`);
  return hash;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function isDiskFull(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** A write stream that reports its first error and lets the writer wait for it to drain. */
class BlobWriter {
  private failure: unknown;
  constructor(private readonly stream: Writable) {
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  get error(): unknown {
    return this.failure;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.stream.write(chunk)) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.stream.off('drain', done);
        this.stream.off('error', failed);
        resolve();
      };
      const failed = (error: unknown) => {
        this.stream.off('drain', done);
        this.stream.off('error', failed);
        reject(error);
      };
      this.stream.on('drain', done);
      this.stream.on('error', failed);
    });
    if (this.failure) throw this.failure;
  }

  /** Flushes and closes; rejects with the first write error. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed) return this.failure ? reject(this.failure) : resolve();
      this.stream.end(() => (this.failure ? reject(this.failure) : resolve()));
      this.stream.once('error', reject);
    });
  }

  destroy(): void {
    this.stream.destroy();
  }
}

interface FileOutcome {
  readonly downloaded: number;
  readonly resumed: number;
  readonly refetched: number;
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

function writeError(error: unknown, cacheDir: string, label: string): HubError {
  if (error instanceof HubError) return error;
  if (isDiskFull(error)) return new HubError('disk-full', `The disk holding ${cacheDir} is full: ${label} could not be written. Free some space (or move the cache: HF_HUB_CACHE), then download again: it resumes where it stopped.`);
  return new HubError('cache', `Cannot write into the Hugging Face cache ${cacheDir}: ${(error as Error).message}. Fix the folder's permissions, or point HF_HUB_CACHE at a writable folder.`);
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
      await sleep(Math.min(retryDelayMs * 2 ** (attempt - 1), 30_000), signal);
    }
  }
}

interface BlobOptions {
  readonly signal: AbortSignal;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly progressIntervalMs: number;
  readonly openWrite?: (path: string, start: number) => Writable;
  readonly onProgress: (fileBytes: number, at: number) => void;
  readonly onRetry: (attempt: number, delayMs: number, reason: string) => void;
}

/** Hashes the bytes already in a partial blob, so a resume continues the checksum without refetching them. */
async function hashPrefix(path: string, bytes: number, hash: Hash): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

function retryAfterMs(response: HubResponse): number | undefined {
  const value = response.headers['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? Math.min(seconds * 1000, 60_000) : undefined;
}

/**
 * Fetches one file into `blobs/{etag}.incomplete`, resuming with Range, retrying what can be
 * retried, then verifies it and renames it to `blobs/{etag}`. Never leaves a wrong blob behind.
 */
async function downloadBlob(http: HubHttp, remote: RepoRevision, file: RemoteFile, label: string, options: BlobOptions): Promise<FileOutcome> {
  const { settings } = http;
  const { repo, commit } = remote;
  const partial = incompletePath(settings.cacheDir, repo, file.etag);
  const final = blobPath(settings.cacheDir, repo, file.etag);
  const host = new URL(settings.endpoint).host;
  const url = `${settings.endpoint}/${repo}/resolve/${commit}/${file.path.split('/').map(encodeURIComponent).join('/')}`;
  try {
    await mkdir(dirname(final), { recursive: true });
  } catch (error) {
    throw writeError(error, settings.cacheDir, label);
  }

  let offset = fileSize(partial);
  if (offset > file.size) {
    await truncate(partial, 0).catch(() => undefined);
    offset = 0;
  }
  /** Bytes that were on disk when this pull started: receiving them again counts as refetched. */
  const onDiskAtStart = offset;
  let hash = newDigest(file);
  await hashPrefix(partial, offset, hash);
  let downloaded = 0;
  let refetched = 0;
  let failuresInARow = 0;
  let lastReport = 0;

  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) throw cancelled();
    if (offset === file.size) break;
    let writer: BlobWriter | undefined;
    let progressed = false;
    try {
      const response = await http.request(url, { headers: { 'accept-encoding': 'identity', ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, signal: options.signal });
      if (response.status === 416) {
        await response.body.dump().catch(() => undefined);
        // Our partial file is longer than what the server has: start over.
        offset = 0;
        hash = newDigest(file);
        continue;
      }
      if (response.status >= 400) {
        await response.body.dump().catch(() => undefined);
        const error = statusError(response.status, { repo, revision: remote.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token), path: file.path, gated: remote.gated, errorCode: response.headers['x-error-code'], serverMessage: response.headers['x-error-message'], attempts: attempt });
        if (error.details.retryable) throw Object.assign(error, { retryAfterMs: retryAfterMs(response) });
        throw error;
      }
      let start = offset;
      if (offset > 0) {
        const range = /^bytes (\d+)-/.exec(response.headers['content-range'] ?? '');
        if (response.status !== 206 || !range || Number(range[1]) !== offset) {
          // The server (or a proxy) ignored the Range header and sends the whole file again.
          start = 0;
          hash = newDigest(file);
        }
      }
      writer = new BlobWriter(options.openWrite ? options.openWrite(partial, start) : createWriteStream(partial, { flags: start > 0 ? 'r+' : 'w', start }));
      offset = start;
      for await (const chunk of response.body) {
        const bytes = chunk as Buffer;
        if (offset + bytes.length > file.size) {
          throw new HubError('checksum', `${host} sent more bytes for ${file.path} than the Hub's ${formatBytes(file.size)}: the file is not the one the Hub lists. Nothing was used; download again. If it keeps happening, a proxy or mirror is changing the file.`, { repo });
        }
        hash.update(bytes);
        await writer.write(bytes);
        if (offset < onDiskAtStart) refetched += Math.min(bytes.length, onDiskAtStart - offset);
        offset += bytes.length;
        downloaded += bytes.length;
        progressed = true;
        const now = performance.now();
        if (now - lastReport >= options.progressIntervalMs) {
          lastReport = now;
          options.onProgress(offset, now);
        }
      }
      await writer.close();
      writer = undefined;
      if (offset < file.size) throw Object.assign(new Error(`the connection closed after ${offset} of ${file.size} bytes`), { code: 'UND_ERR_SOCKET' });
    } catch (error) {
      writer?.destroy();
      if (options.signal.aborted) throw cancelled();
      if (isDiskFull(error) || (error as { code?: string })?.code === 'EACCES' || (error as { code?: string })?.code === 'EROFS') throw writeError(error, settings.cacheDir, label);
      if (isHubError(error) && !error.details.retryable) throw error;
      const failure = isHubError(error) ? error : http.failure(error, url, options.signal);
      if (failure.code === 'cancelled') throw failure;
      if (!failure.details.retryable && !isMidBody(error)) throw failure;
      failuresInARow = progressed ? 1 : failuresInARow + 1;
      if (failuresInARow >= options.maxAttempts) {
        if (failure.code === 'stalled') throw new HubError('stalled', `${failure.message.replace(/ try again later;/, ` it stalled ${failuresInARow} times in a row; try again later;`)}`, failure.details);
        throw failure.code === 'server' ? failure : new HubError(failure.code, `${failure.message} (${failuresInARow} attempts in a row for ${file.path}; what was downloaded is kept, download again to resume.)`, failure.details);
      }
      const delay = (error as { retryAfterMs?: number }).retryAfterMs ?? Math.min(options.retryDelayMs * 2 ** (failuresInARow - 1), 30_000);
      options.onRetry(attempt, delay, failure.message);
      offset = fileSize(partial);
      if (offset > file.size) offset = 0;
      // Bytes past what the hash has seen (a write that landed after an error) are re-read from disk.
      hash = newDigest(file);
      await hashPrefix(partial, offset, hash);
      await sleep(delay, options.signal);
    }
  }

  const digest = hash.digest('hex');
  const size = fileSize(partial);
  if (size !== file.size || digest !== file.digest.hex) {
    await rm(partial, { force: true });
    const what = size !== file.size ? `${formatBytes(size)} instead of ${formatBytes(file.size)}` : `its ${file.digest.algorithm === 'sha256' ? 'SHA-256' : 'git SHA-1'} is ${digest.slice(0, 12)}… but the Hub lists ${file.digest.hex.slice(0, 12)}…`;
    throw new HubError('checksum', `${file.path} of ${label} arrived corrupt from ${host}: ${what}. The bad file was deleted and nothing was used; download again. If it keeps happening, a proxy or mirror is changing the file (${displayUrl(url)}).`, { repo });
  }
  try {
    if (existsSync(final) && fileSize(final) === file.size) await rm(partial, { force: true });
    else await rename(partial, final);
  } catch (error) {
    throw writeError(error, settings.cacheDir, label);
  }
  return { downloaded, resumed: Math.max(0, onDiskAtStart - refetched), refetched };
}

/** A body that ended or broke before its last byte: retry from where it stopped. */
function isMidBody(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
