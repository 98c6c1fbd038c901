/**
 * A local Hugging Face Hub for tests and the download bench: two HTTP servers on 127.0.0.1 (free
 * ports), the Hub and a separate "CDN" origin, answering as huggingface.co does (facts from
 * huggingface_hub's file_download.py and @huggingface/hub's sources):
 *
 * - GET  /api/models/{repo}/revision/{rev}       {_id, id, sha, siblings: [{rfilename}], gated, private}
 * - POST /api/models/{repo}/paths-info/{rev}     [{type, path, size, oid, lfs?: {oid, size, pointerSize}}]
 * - HEAD|GET /{repo}/resolve/{rev}/{path}        small files: 200 with ETag (git SHA-1) and X-Repo-Commit;
 *                                                LFS files: 302 to the CDN with X-Linked-Etag (SHA-256),
 *                                                X-Linked-Size, X-Repo-Commit
 * - GET  {cdn}/lfs/{sha256}?X-Amz-Signature=…    the bytes, with Accept-Ranges, Range → 206, 416
 * - errors: 401 (private/gated without token), 403 (gated, not granted), 404 with X-Error-Code
 *   RepoNotFound / RevisionNotFound / EntryNotFound
 *
 * Faults a test can switch on: an HTTP status for the next N requests, a connection closed after N
 * body bytes, a stall after N bytes, corrupt bytes, a server that ignores Range, a redirect loop,
 * a bandwidth limit. Every request is recorded, with the body bytes sent per blob.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative } from 'node:path';

export interface FakeRepo {
  readonly repo: string;
  /** The commit every revision of this repo resolves to (a 40-hex revision is echoed as is). */
  readonly commit: string;
  readonly files: ReadonlyMap<string, Buffer>;
  /** 'auto' | 'manual': a token is needed; `grantedTokens` lists tokens with access. */
  readonly gated?: false | 'auto' | 'manual';
  readonly private?: boolean;
  readonly grantedTokens?: readonly string[];
}

export interface Faults {
  /** Answer this status to the next `count` requests whose path contains `match` (default: any resolve or CDN request). */
  status?: { code: number; count: number; match?: string; retryAfter?: number };
  /** Close the connection after sending this many body bytes, `count` times, for files whose repo path ends with `match`. */
  closeAfterBytes?: { bytes: number; count: number; match?: string };
  /** Send this many body bytes, then nothing (the socket stays open), `count` times. */
  stallAfterBytes?: { bytes: number; count: number; match?: string };
  /** Flip one byte of every answer for files whose repo path ends with `match`. */
  corrupt?: { match: string };
  /** Answer Range requests with 200 and the whole file, as a misconfigured proxy does. */
  ignoreRange?: boolean;
  /** The resolve endpoint redirects to itself. */
  redirectLoop?: boolean;
  /** Hide paths-info (404 without an error code), as a minimal mirror does: clients must fall back to HEAD. */
  noPathsInfo?: boolean;
  /** Bytes per second for CDN bodies (all connections together). */
  throttleBytesPerSecond?: number;
}

export interface RecordedRequest {
  readonly origin: 'hub' | 'cdn';
  readonly method: string;
  readonly path: string;
  readonly range?: string;
  readonly authorization?: string;
  status: number;
  bodyBytes: number;
}

interface Blob {
  readonly repo: string;
  readonly path: string;
  readonly content: Buffer;
  readonly sha256: string;
  readonly gitSha1: string;
  readonly lfs: boolean;
}

export interface FakeHub {
  /** The Hub endpoint (`http://127.0.0.1:PORT`). */
  readonly endpoint: string;
  readonly cdnOrigin: string;
  readonly faults: Faults;
  readonly requests: RecordedRequest[];
  addRepo(repo: FakeRepo): void;
  /** Body bytes sent for one repo file (by path), over all requests. */
  bytesSent(path?: string): number;
  /** SHA-256 and git SHA-1 of a served file. */
  digest(repo: string, path: string): { sha256: string; gitSha1: string; size: number; lfs: boolean };
  reset(): void;
  close(): Promise<void>;
}

/** A repo's files from a folder (a model fixture), plus the files every Hub repo has. */
export function filesFromFolder(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path).split('\\').join('/'), readFileSync(path));
    }
  };
  walk(dir);
  files.set('.gitattributes', Buffer.from('*.onnx filter=lfs diff=lfs merge=lfs -text\n*.onnx_data filter=lfs diff=lfs merge=lfs -text\ntokenizer.json filter=lfs diff=lfs merge=lfs -text\n'));
  files.set('README.md', Buffer.from('---\nlicense: apache-2.0\nlibrary_name: transformers.js\n---\nA tiny test model.\n'));
  return files;
}

const isLfs = (path: string) => /\.onnx$|\.onnx_data|tokenizer\.json$/.test(path);

function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startFakeHub(initial: readonly FakeRepo[] = []): Promise<FakeHub> {
  const repos = new Map<string, FakeRepo>();
  const blobs = new Map<string, Blob>();
  const bySha = new Map<string, Blob>();
  const faults: Faults = {};
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let throttleClock = 0;

  const addRepo = (repo: FakeRepo) => {
    repos.set(repo.repo, repo);
    for (const [path, content] of repo.files) {
      const blob: Blob = { repo: repo.repo, path, content, sha256: createHash('sha256').update(content).digest('hex'), gitSha1: gitBlobSha1(content), lfs: isLfs(path) };
      blobs.set(`${repo.repo}\0${path}`, blob);
      bySha.set(blob.sha256, blob);
    }
  };
  initial.forEach(addRepo);

  const takeStatusFault = (path: string): { code: number; retryAfter?: number } | undefined => {
    const fault = faults.status;
    // The Hub API is only hit when `match` names it; by default faults hit file transfers.
    if (!fault || fault.count <= 0 || !(fault.match ? path.includes(fault.match) : /\/resolve\/|\/lfs\//.test(path))) return undefined;
    fault.count--;
    return { code: fault.code, retryAfter: fault.retryAfter };
  };

  /** Access rules: 401 without a token for private or gated repos, 403 for a gated repo the token may not read. */
  const accessError = (repo: FakeRepo, request: IncomingMessage, forFiles: boolean): { status: number; code: string; message: string } | undefined => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (repo.private && !(token && repo.grantedTokens?.includes(token))) return { status: 401, code: 'RepoNotFound', message: 'Repository Not Found' };
    if (forFiles && repo.gated) {
      if (!token) return { status: 401, code: 'GatedRepo', message: `Access to model ${repo.repo} is restricted. You must have access to it and be authenticated to access it. Please log in.` };
      if (!repo.grantedTokens?.includes(token)) return { status: 403, code: 'GatedRepo', message: `Access to model ${repo.repo} is restricted and you are not in the authorized list. Visit https://huggingface.co/${repo.repo} to ask for access.` };
    }
    return undefined;
  };

  const resolveRevision = (repo: FakeRepo, revision: string) => (/^[0-9a-f]{40}$/.test(revision) ? revision : revision === 'main' || revision === 'HEAD' || revision === 'v1.0' ? repo.commit : undefined);

  const hub = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const record: RecordedRequest = { origin: 'hub', method: request.method ?? 'GET', path: url.pathname, range: request.headers.range, authorization: request.headers.authorization, status: 0, bodyBytes: 0 };
    requests.push(record);
    response.on('finish', () => (record.status = response.statusCode));
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|paths-info)\/(.+)$/.exec(decodeURIComponent(url.pathname));
    if (api) {
      const apiFault = takeStatusFault(url.pathname);
      if (apiFault) return sendJson(response, apiFault.code, { error: 'Internal Error' });
      const [, name, kind, revision] = api;
      const repo = repos.get(name);
      if (!repo) return sendJson(response, request.headers.authorization ? 404 : 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
      const denied = accessError(repo, request, false);
      if (denied) return sendJson(response, denied.status, { error: denied.message }, { 'x-error-code': denied.code, 'x-error-message': denied.message });
      const commit = resolveRevision(repo, revision);
      if (!commit) return sendJson(response, 404, { error: `Invalid rev id: ${revision}` }, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revision}` });
      if (kind === 'revision') {
        return sendJson(response, 200, { _id: `id-${repo.repo}`, id: repo.repo, modelId: repo.repo, sha: commit, private: Boolean(repo.private), gated: repo.gated ?? false, disabled: false, downloads: 0, likes: 0, tags: ['onnx', 'transformers.js'], pipeline_tag: 'text-generation', library_name: 'transformers.js', lastModified: '2026-01-01T00:00:00.000Z', siblings: [...repo.files.keys()].sort().map((rfilename) => ({ rfilename })) });
      }
      if (faults.noPathsInfo) return sendJson(response, 404, { error: 'Not Found' });
      let paths: string[];
      try {
        paths = (JSON.parse(await readBody(request)) as { paths?: string[] }).paths ?? [];
      } catch {
        return sendJson(response, 400, { error: 'bad json' });
      }
      const entries = paths.flatMap((path) => {
        const blob = blobs.get(`${repo.repo}\0${path}`);
        if (!blob) return [];
        if (!blob.lfs) return [{ type: 'file', path, size: blob.content.length, oid: blob.gitSha1 }];
        const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${blob.sha256}\nsize ${blob.content.length}\n`;
        return [{ type: 'file', path, size: blob.content.length, oid: gitBlobSha1(Buffer.from(pointer)), lfs: { oid: blob.sha256, size: blob.content.length, pointerSize: pointer.length } }];
      });
      return sendJson(response, 200, entries);
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const [, name, revisionRaw, pathRaw] = resolve;
      const revision = decodeURIComponent(revisionRaw);
      const path = pathRaw.split('/').map(decodeURIComponent).join('/');
      const repo = repos.get(name);
      if (!repo) return sendJson(response, 401, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
      const denied = accessError(repo, request, true);
      if (denied) return sendJson(response, denied.status, { error: denied.message }, { 'x-error-code': denied.code, 'x-error-message': denied.message });
      const commit = resolveRevision(repo, revision);
      if (!commit) return sendJson(response, 404, { error: 'Revision not found' }, { 'x-error-code': 'RevisionNotFound', 'x-error-message': `Invalid rev id: ${revision}` });
      const blob = blobs.get(`${repo.repo}\0${path}`);
      if (!blob) return sendJson(response, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound', 'x-error-message': `${path} does not exist on "${revision}"` });
      const fault = takeStatusFault(url.pathname);
      if (fault) return sendJson(response, fault.code, { error: 'Internal Error - We\'re working hard to fix this as soon as possible!' }, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
      if (faults.redirectLoop) {
        response.writeHead(302, { location: url.pathname });
        return response.end();
      }
      if (blob.lfs) {
        const pointerEtag = gitBlobSha1(Buffer.from(`oid sha256:${blob.sha256}`));
        response.writeHead(302, {
          location: `${cdnOrigin}/lfs/${blob.sha256}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${blob.sha256.slice(0, 16)}&response-content-disposition=attachment`,
          'x-repo-commit': commit,
          'x-linked-etag': `"${blob.sha256}"`,
          'x-linked-size': String(blob.content.length),
          etag: `"${pointerEtag}"`,
          'content-length': '0',
        });
        return response.end();
      }
      return sendBytes(request, response, blob, record, { etag: `"${blob.gitSha1}"`, 'x-repo-commit': commit });
    }
    sendJson(response, 404, { error: 'Not Found' });
  });

  const sendBytes = (request: IncomingMessage, response: ServerResponse, blob: Blob, record: RecordedRequest, headers: Record<string, string>) => {
    let content = blob.content;
    if (faults.corrupt && blob.path.endsWith(faults.corrupt.match)) {
      content = Buffer.from(content);
      content[Math.floor(content.length / 2)] ^= 0xff;
    }
    const size = content.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range && !faults.ignoreRange) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        response.writeHead(416, { 'content-range': `bytes */${size}` });
        return response.end();
      }
      status = 206;
    }
    response.writeHead(status, {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'content-length': String(end - start + 1),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      ...headers,
    });
    if (request.method === 'HEAD') return response.end();
    const body = content.subarray(start, end + 1);
    const closeFault = faults.closeAfterBytes && faults.closeAfterBytes.count > 0 && (!faults.closeAfterBytes.match || blob.path.endsWith(faults.closeAfterBytes.match)) ? faults.closeAfterBytes : undefined;
    const stallFault = faults.stallAfterBytes && faults.stallAfterBytes.count > 0 && (!faults.stallAfterBytes.match || blob.path.endsWith(faults.stallAfterBytes.match)) ? faults.stallAfterBytes : undefined;
    if (closeFault) closeFault.count--;
    if (stallFault) stallFault.count--;
    const limit = closeFault?.bytes ?? stallFault?.bytes ?? body.length;
    // Small chunks when throttled, so an interrupted transfer has little in flight.
    const chunkSize = faults.throttleBytesPerSecond ? 16 * 1024 : 64 * 1024;
    let sent = 0;
    let gone = false;
    response.on('close', () => (gone = true));
    const count = (bytes: number) => {
      sent += bytes;
      record.bodyBytes += bytes;
    };
    const pump = () => {
      // A client that went away gets nothing more (and nothing more is counted as sent).
      while (!gone && sent < Math.min(limit, body.length)) {
        const size = Math.min(chunkSize, Math.min(limit, body.length) - sent);
        const rate = faults.throttleBytesPerSecond;
        if (rate) {
          const now = Date.now();
          throttleClock = Math.max(throttleClock, now) + (size / rate) * 1000;
          const wait = throttleClock - now;
          const chunk = body.subarray(sent, sent + size);
          count(size);
          // Backpressure too: a client slower than the rate (a busy machine) must not let bytes pile
          // up in this process's buffer, where they would count as sent without ever being on the wire.
          const flowing = response.write(chunk);
          if (!flowing) {
            response.once('drain', () => (wait > 0 ? setTimeout(pump, Math.max(0, throttleClock - Date.now())) : pump()));
            return;
          }
          if (wait > 0) {
            setTimeout(pump, wait);
            return;
          }
          continue;
        }
        const chunk = body.subarray(sent, sent + size);
        count(size);
        if (!response.write(chunk)) {
          response.once('drain', pump);
          return;
        }
      }
      if (gone) return;
      if (sent >= body.length) response.end();
      else if (closeFault) {
        // Close once this process has handed every byte to the kernel: destroying a socket with
        // bytes still in its buffer would cut the body short of the fault's own count.
        const socket = response.socket;
        const close = () => setTimeout(() => socket?.destroy(), 10);
        if (socket && socket.writableLength > 0) socket.once('drain', close);
        else close();
      }
      // a stall leaves the response open: the client's stall timeout has to notice
    };
    pump();
  };

  const cdn = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const record: RecordedRequest = { origin: 'cdn', method: request.method ?? 'GET', path: url.pathname, range: request.headers.range, authorization: request.headers.authorization, status: 0, bodyBytes: 0 };
    requests.push(record);
    response.on('finish', () => (record.status = response.statusCode));
    const match = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname);
    const blob = match ? bySha.get(match[1]) : undefined;
    if (!blob || !url.searchParams.get('X-Amz-Signature')) {
      response.writeHead(403, { 'content-type': 'application/xml' });
      return response.end('<Error><Code>AccessDenied</Code></Error>');
    }
    const fault = takeStatusFault(url.pathname);
    if (fault) {
      response.writeHead(fault.code, { 'content-type': 'text/plain', ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}) });
      return response.end('Service Unavailable');
    }
    sendBytes(request, response, blob, record, { etag: `"${blob.sha256}"` });
  });

  for (const server of [hub, cdn]) server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const endpoint = await listen(hub);
  const cdnOrigin = await listen(cdn);

  return {
    endpoint,
    cdnOrigin,
    faults,
    requests,
    addRepo,
    bytesSent: (path) => requests.filter((request) => request.origin === 'cdn' || request.path.includes('/resolve/')).filter((request) => {
      if (!path) return true;
      const blob = [...blobs.values()].find((candidate) => candidate.path === path);
      return blob ? request.path.endsWith(`/lfs/${blob.sha256}`) || request.path.endsWith(`/${path}`) : false;
    }).reduce((sum, request) => sum + request.bodyBytes, 0),
    digest: (repo, path) => {
      const blob = blobs.get(`${repo}\0${path}`);
      if (!blob) throw new Error(`no ${path} in ${repo}`);
      return { sha256: blob.sha256, gitSha1: blob.gitSha1, size: blob.content.length, lfs: blob.lfs };
    },
    reset: () => {
      for (const key of Object.keys(faults) as (keyof Faults)[]) delete faults[key];
      requests.length = 0;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([hub, cdn].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
