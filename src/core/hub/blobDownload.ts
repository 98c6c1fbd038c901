/**
 * Fetches one file of a Hub download into the cache: into `blobs/{etag}.incomplete`, resuming a
 * partial blob with an HTTP Range request (and hashing the bytes already there, so the checksum
 * continues without refetching them), retrying resets, stalls, 5xx and 429 with backoff, writing
 * through a stream that reports a full disk at once, then verifying the size and the SHA-256 (LFS)
 * or git SHA-1 (small files) before the blob gets its final name. Never leaves a wrong blob behind.
 * Also the two helpers pull.ts shares with it: `fileSize` and `writeError` (a cache write failed).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { sleep } from '../abortableSleep';
import { blobPath, incompletePath } from './cache';
import { HubError, displayUrl, errorCode, isHubError } from './errors';
import { cancelled, type HubHttp, type HubResponse } from './http';
import { statusError, type RemoteFile, type RepoRevision } from './metadata';
import { formatBytes } from './units';

function newDigest(file: RemoteFile): Hash {
  const hash = createHash(file.digest.algorithm === 'sha256' ? 'sha256' : 'sha1');
  // A git blob's id is SHA-1 over "blob <size>\0" and the content.
  if (file.digest.algorithm === 'git-sha1') hash.update(`blob ${file.size}\0`);
  return hash;
}

export function fileSize(path: string): number {
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

export interface FileOutcome {
  readonly downloaded: number;
  readonly resumed: number;
  readonly refetched: number;
}

/** A write into the cache failed: a full disk, or a folder that cannot be written. */
export function writeError(error: unknown, cacheDir: string, label: string): HubError {
  if (error instanceof HubError) return error;
  if (isDiskFull(error)) return new HubError('disk-full', `The disk holding ${cacheDir} is full: ${label} could not be written. Free some space (or move the cache: HF_HUB_CACHE), then download again: it resumes where it stopped.`);
  return new HubError('cache', `Cannot write into the Hugging Face cache ${cacheDir}: ${(error as Error).message}. Fix the folder's permissions, or point HF_HUB_CACHE at a writable folder.`);
}

export interface BlobOptions {
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
export async function downloadBlob(http: HubHttp, remote: RepoRevision, file: RemoteFile, label: string, options: BlobOptions): Promise<FileOutcome> {
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
      // Keep what arrived: flush the bytes still buffered in the file stream before the resume reads
      // the file's size (destroying the stream dropped them, and on a busy machine the resume then
      // fetched a few hundred bytes twice). A stream that failed itself (a full disk) is destroyed.
      const failedWriter = writer;
      if (failedWriter) await failedWriter.close().catch(() => failedWriter.destroy());
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
      await sleep(delay, options.signal, cancelled);
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
