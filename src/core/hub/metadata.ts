/**
 * What a pull needs to know before it downloads a byte: the commit a revision points to, the repo's
 * files, and for the files it will fetch their size and checksum (the LFS SHA-256, or the git blob
 * SHA-1 of a small file). The API calls are @huggingface/hub's (modelInfo, pathsInfo); a mirror
 * without paths-info is asked with HEAD on each file's resolve URL, as huggingface_hub does.
 */
import { HubApiError, modelInfo, pathsInfo } from '@huggingface/hub';
import { AUTO_ORDER, variantFileStems, type ConcreteVariant } from '../models/modelFolder';
import { HubError, displayUrl } from './errors';
import type { HubHttp } from './http';
import { COMMIT_HASH } from './settings';

export interface RemoteFile {
  /** Path in the repo (`onnx/model_q4.onnx`). */
  readonly path: string;
  readonly size: number;
  /** The blob's name in the cache, as huggingface_hub names it: the SHA-256 for LFS files, else the git SHA-1. */
  readonly etag: string;
  readonly digest: { readonly algorithm: 'sha256' | 'git-sha1'; readonly hex: string };
}

export interface RepoRevision {
  readonly repo: string;
  readonly revision: string;
  readonly commit: string;
  /** Every file of the repo at that commit. */
  readonly files: readonly string[];
  /** `false`, or how access is granted ('auto' | 'manual'): a token and an accepted licence are needed. */
  readonly gated: false | string;
}

export interface StatusContext {
  readonly repo: string;
  readonly revision: string;
  readonly endpoint: string;
  readonly hasToken: boolean;
  readonly path?: string;
  readonly gated?: false | string;
  /** X-Error-Code of the answer (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo). */
  readonly errorCode?: string;
  readonly serverMessage?: string;
  readonly attempts?: number;
}

const tokenHowTo = 'set it in VS Code with "Tokenscope: Set Hugging Face Token…", or HF_TOKEN for the CLI';

/** The HubError for an HTTP error status, in the words a user needs. */
export function statusError(status: number, context: StatusContext): HubError {
  const host = new URL(context.endpoint).host;
  const page = `${context.endpoint}/${context.repo}`;
  const details = { status, repo: context.repo };
  const said = context.serverMessage ? ` The server said: "${context.serverMessage.slice(0, 200)}".` : '';
  if (status === 401) {
    if (context.hasToken) return new HubError('unauthorized', `${host} did not accept your access token for ${context.repo} (401): it is invalid or expired. Create a new "read" token at ${context.endpoint}/settings/tokens and ${tokenHowTo}.`, details);
    return new HubError('unauthorized', `${context.repo} needs a Hugging Face access token (401): it is private or gated, or no repo has that name. Check the name at ${page}; if the model is gated, accept its licence there, create a "read" token at ${context.endpoint}/settings/tokens and ${tokenHowTo}.`, details);
  }
  if (status === 403) {
    if (context.errorCode === 'GatedRepo' || context.gated) return new HubError('forbidden', `${context.repo} is gated and your account has no access yet (403): open ${page}, accept the licence while logged in, then try again.${context.hasToken ? '' : ` You also need an access token: ${tokenHowTo}.`}`, details);
    return new HubError('forbidden', `${host} refused access to ${context.repo} (403).${said} If the model is gated, accept its licence at ${page}; a fine-grained token needs read access to it (${tokenHowTo}).`, details);
  }
  if (status === 404) {
    if (context.errorCode === 'RevisionNotFound') return new HubError('not-found', `${context.repo} has no revision "${context.revision}" (404). Use a branch (main), a tag or a commit that exists on ${page}/commits/main.`, details);
    if (context.path && context.errorCode !== 'RepoNotFound') return new HubError('not-found', `${context.path} is not in ${context.repo} at ${context.revision} (404): the repo's files changed. Choose another variant, or see ${page}/tree/${context.revision}.`, details);
    return new HubError('not-found', `No model "${context.repo}" on ${host} (404): it was renamed or deleted, or the name is misspelled. Search for it at ${context.endpoint}/models?search=${encodeURIComponent(context.repo.split('/').pop() ?? context.repo)}.`, details);
  }
  if (status === 429 || status >= 500) {
    const tries = context.attempts ? ` after ${context.attempts} attempts` : '';
    return new HubError('server', `${host} answered ${status}${status === 429 ? ' (too many requests)' : ''}${tries}${context.path ? ` for ${context.path}` : ''}: the Hub or your mirror is busy or down. Try again in a few minutes; the download resumes where it stopped.${said}`, { ...details, retryable: true });
  }
  return new HubError('bad-response', `${host} answered ${status} for ${context.repo}${context.path ? `/${context.path}` : ''}.${said} This is not an answer the Hub gives: check tokenscope.hub.endpoint / HF_ENDPOINT.`, details);
}

/** Maps what @huggingface/hub throws (HubApiError carries the status) to a HubError. */
function apiError(error: unknown, context: Omit<StatusContext, 'errorCode'>, errorCode: string | undefined): HubError {
  if (error instanceof HubError) return error;
  if (error instanceof HubApiError) {
    const message = typeof error.data?.error === 'string' ? error.data.error : undefined;
    return statusError(error.statusCode, { ...context, errorCode, serverMessage: message });
  }
  return new HubError('bad-response', `Unexpected answer from ${new URL(context.endpoint).host} for ${context.repo}: ${error instanceof Error ? error.message : String(error)}. Check tokenscope.hub.endpoint / HF_ENDPOINT.`, { repo: context.repo });
}

/** A `fetch` that remembers the X-Error-Code of the last failed answer (@huggingface/hub drops headers). */
function recordingFetch(http: HubHttp, signal: AbortSignal | undefined): { fetch: typeof fetch; lastErrorCode: () => string | undefined } {
  const inner = http.fetchWith(signal);
  let code: string | undefined;
  return {
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const response = await inner(input, init);
      if (!response.ok) code = response.headers.get('x-error-code') ?? undefined;
      return response;
    }) as typeof fetch,
    lastErrorCode: () => code,
  };
}

/** Resolves a revision to its commit and lists the repo's files (GET /api/models/{repo}/revision/{rev}). */
export async function fetchRepoRevision(http: HubHttp, repo: string, revision: string, signal?: AbortSignal): Promise<RepoRevision> {
  const { settings } = http;
  const recorder = recordingFetch(http, signal);
  const context = { repo, revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token) };
  let info: { sha?: unknown; filePaths?: unknown; gated?: unknown };
  try {
    info = await modelInfo({ name: repo, revision, additionalFields: ['sha', 'filePaths'], hubUrl: settings.endpoint, accessToken: settings.token, fetch: recorder.fetch });
  } catch (error) {
    throw apiError(error, context, recorder.lastErrorCode());
  }
  const commit = info.sha;
  if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) throw new HubError('bad-response', `${new URL(settings.endpoint).host} did not say which commit ${repo}@${revision} is (no "sha" in its answer). Check tokenscope.hub.endpoint / HF_ENDPOINT.`, { repo });
  const files = Array.isArray(info.filePaths) ? info.filePaths.filter((name): name is string => typeof name === 'string') : [];
  const gated = info.gated === 'auto' || info.gated === 'manual' ? info.gated : false;
  return { repo, revision, commit, files, gated };
}

/** Files Tokenscope's loader reads besides the weights; the first two are required. */
const REQUIRED_FILES = ['config.json', 'tokenizer.json'];
const OPTIONAL_FILES = ['generation_config.json', 'tokenizer_config.json', 'special_tokens_map.json'];

export interface FileSelection {
  readonly variant: ConcreteVariant;
  readonly paths: readonly string[];
  /** Variants the repo offers, in Tokenscope's CPU preference order. */
  readonly available: readonly ConcreteVariant[];
}

/** The ONNX file of a variant in a file list (`onnx/` first, then the repo root), if any. */
function variantFile(files: ReadonlySet<string>, variant: ConcreteVariant): string | undefined {
  for (const stem of variantFileStems(variant)) {
    for (const candidate of [`onnx/${stem}.onnx`, `${stem}.onnx`]) if (files.has(candidate)) return candidate;
  }
  return undefined;
}

/** External weight files that belong to an ONNX file: `model.onnx_data`, `model.onnx_data_1`, `model.onnx.data`, `model_data`. */
function externalDataFiles(files: readonly string[], onnxPath: string): string[] {
  const base = onnxPath.slice(0, -'.onnx'.length);
  return files.filter((file) => file.startsWith(`${base}.onnx_data`) || file === `${base}.onnx.data` || file === `${base}_data`).sort();
}

/**
 * The files to download for a variant: config and tokenizer files, the variant's ONNX file and its
 * external data. `auto` takes `preferred` (the catalog's choice) when present, else the first of
 * the CPU order the repo has.
 */
export function selectFiles(repo: string, files: readonly string[], variant: ConcreteVariant | 'auto', preferred?: ConcreteVariant): FileSelection {
  const set = new Set(files);
  const available = AUTO_ORDER.filter((candidate) => variantFile(set, candidate) !== undefined);
  if (available.length === 0) {
    throw new HubError('invalid-request', `${repo} has no ONNX model (no onnx/model*.onnx): Tokenscope runs ONNX exports. Look for an ONNX version of it (often under onnx-community/ on the Hub), or choose a catalog model.`, { repo });
  }
  for (const required of REQUIRED_FILES) {
    if (!set.has(required)) throw new HubError('invalid-request', `${repo} has no ${required}, which the model needs; it cannot run in Tokenscope.`, { repo });
  }
  const chosen = variant === 'auto' ? (preferred && available.includes(preferred) ? preferred : available[0]) : variant;
  const onnx = variantFile(set, chosen);
  if (!onnx) throw new HubError('invalid-request', `${repo} has no ${chosen} variant. It has: ${available.join(', ')}. Choose one of these (or auto).`, { repo });
  const paths = [...REQUIRED_FILES, ...OPTIONAL_FILES.filter((file) => set.has(file)), ...externalDataFiles(files, onnx), onnx];
  return { variant: chosen, paths, available };
}

function normalizeEtag(value: string | undefined): string | undefined {
  return value?.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}

function remoteFile(path: string, size: number, lfsSha256: string | undefined, gitOid: string | undefined, repo: string, host: string): RemoteFile {
  if (lfsSha256 && /^[0-9a-f]{64}$/.test(lfsSha256)) return { path, size, etag: lfsSha256, digest: { algorithm: 'sha256', hex: lfsSha256 } };
  if (gitOid && /^[0-9a-f]{40}$/.test(gitOid)) return { path, size, etag: gitOid, digest: { algorithm: 'git-sha1', hex: gitOid } };
  throw new HubError('bad-response', `${host} gave no checksum for ${repo}/${path}, so it could not be verified: refusing to use it. Check tokenscope.hub.endpoint / HF_ENDPOINT.`, { repo });
}

/**
 * Size and checksum of each path at `commit`: one paths-info call (what @huggingface/hub uses), or
 * where a mirror lacks it, a HEAD per file (X-Linked-Size / X-Linked-Etag for LFS files, ETag and
 * Content-Length for small ones), as huggingface_hub reads them.
 */
export async function fetchFileInfo(http: HubHttp, revision: RepoRevision, paths: readonly string[], signal?: AbortSignal): Promise<RemoteFile[]> {
  const { settings } = http;
  const { repo, commit } = revision;
  const host = new URL(settings.endpoint).host;
  const recorder = recordingFetch(http, signal);
  const context = { repo, revision: revision.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token), gated: revision.gated };
  let infos: { path: string; size: number; oid?: string; lfs?: { oid: string; size: number } }[] | undefined;
  try {
    infos = await pathsInfo({ repo, paths: [...paths], revision: commit, hubUrl: settings.endpoint, accessToken: settings.token, fetch: recorder.fetch });
  } catch (error) {
    const status = error instanceof HubApiError ? error.statusCode : undefined;
    // 404/405/501 without an error code: a mirror that does not implement paths-info.
    if (!(status === 404 || status === 405 || status === 501) || recorder.lastErrorCode()) throw apiError(error, context, recorder.lastErrorCode());
  }
  if (infos) {
    const byPath = new Map(infos.map((info) => [info.path, info]));
    return paths.map((path) => {
      const info = byPath.get(path);
      if (!info) throw new HubError('not-found', `${path} is not in ${repo} at ${revision.revision} (${commit.slice(0, 7)}): the repo's files changed. Choose another variant, or see ${settings.endpoint}/${repo}/tree/${revision.revision}.`, { repo });
      return remoteFile(path, info.lfs?.size ?? info.size, info.lfs?.oid, info.oid, repo, host);
    });
  }
  const files: RemoteFile[] = [];
  for (const path of paths) {
    const url = `${settings.endpoint}/${repo}/resolve/${commit}/${path}`;
    const response = await http.request(url, { method: 'HEAD', headers: { 'accept-encoding': 'identity' }, signal, followRedirects: 'relative' });
    await response.body.dump().catch(() => undefined);
    if (response.status >= 400) throw statusError(response.status, { ...context, path, errorCode: response.headers['x-error-code'], serverMessage: response.headers['x-error-message'] });
    const linkedSize = Number(response.headers['x-linked-size']);
    const size = Number.isFinite(linkedSize) && response.headers['x-linked-size'] ? linkedSize : Number(response.headers['content-length']);
    const linked = normalizeEtag(response.headers['x-linked-etag']);
    const etag = normalizeEtag(response.headers.etag);
    if (!Number.isFinite(size)) throw new HubError('bad-response', `${host} gave no size for ${repo}/${path} (${displayUrl(url)}). Check tokenscope.hub.endpoint / HF_ENDPOINT.`, { repo });
    files.push(remoteFile(path, size, linked, linked ? undefined : etag, repo, host));
  }
  return files;
}
