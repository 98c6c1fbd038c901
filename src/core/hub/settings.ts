/**
 * Where Hub requests go and how: endpoint, token, proxy, offline mode, cache folder. The editor
 * fills them from its settings and SecretStorage, the CLI from its flags; both fall back to the
 * environment variables huggingface_hub reads (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE /
 * HF_HOME / XDG_CACHE_HOME), so one cache and one configuration serve every tool.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HubError } from './errors';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubSettings {
  /** `https://huggingface.co` or a mirror, without a trailing slash. */
  readonly endpoint: string;
  /** Access token for gated and private repos. Sent only to the endpoint's origin, never logged. */
  readonly token?: string;
  /** Never touch the network; use what the cache has. */
  readonly offline: boolean;
  /** The hub cache folder (`…/huggingface/hub`). */
  readonly cacheDir: string;
  /** `http://host:port` (credentials allowed in the URL); undefined: direct connections. */
  readonly proxy?: string;
  /** Hosts that bypass the proxy (comma separated, as NO_PROXY). */
  readonly noProxy?: string;
  /** Verify TLS certificates (VS Code's http.proxyStrictSSL); true unless turned off. */
  readonly strictSSL: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** huggingface_hub's rule for boolean environment variables. */
function envTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'on', 'yes', 'true'].includes(value.trim().toLowerCase());
}

/**
 * The cache folder huggingface_hub would use with this environment: HF_HUB_CACHE (or the older
 * HUGGINGFACE_HUB_CACHE), else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else
 * ~/.cache/huggingface/hub. The same rule as @huggingface/hub's getHFHubCachePath (a unit test
 * compares them); written out here because the model loader needs it synchronously at start-up
 * and importing that library costs the editor's activation ~100 ms.
 */
export function hubCacheDir(env: Env = process.env): string {
  const set = (value: string | undefined) => (value !== undefined && value !== '' ? value : undefined);
  return set(env.HF_HUB_CACHE) ?? set(env.HUGGINGFACE_HUB_CACHE) ?? join(set(env.HF_HOME) ?? join(set(env.XDG_CACHE_HOME) ?? join(homedir(), '.cache'), 'huggingface'), 'hub');
}

/** Checks and normalizes an endpoint URL (a mirror such as `https://hf-mirror.example`). */
export function normalizeEndpoint(raw: string): string {
  const trimmed = raw.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new HubError('invalid-request', `The Hub endpoint "${raw}" is not a URL. Use https://huggingface.co or your mirror's address (tokenscope.hub.endpoint / HF_ENDPOINT / --endpoint).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new HubError('invalid-request', `The Hub endpoint "${raw}" must start with https:// (or http:// for a local mirror).`);
  }
  return trimmed;
}

export interface HubOverrides {
  readonly endpoint?: string;
  readonly token?: string;
  readonly offline?: boolean;
  readonly cacheDir?: string;
  readonly proxy?: string;
  readonly noProxy?: string;
  readonly strictSSL?: boolean;
}

/**
 * Settings from explicit values (editor settings, CLI flags) over the environment. An empty string
 * counts as not set.
 */
export function resolveHubSettings(overrides: HubOverrides = {}, env: Env = process.env): HubSettings {
  const pick = (value: string | undefined) => (value !== undefined && value.trim() !== '' ? value.trim() : undefined);
  const endpoint = normalizeEndpoint(pick(overrides.endpoint) ?? pick(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT);
  const token = pick(overrides.token) ?? pick(env.HF_TOKEN) ?? pick(env.HUGGING_FACE_HUB_TOKEN);
  const proxy = pick(overrides.proxy) ?? pick(env.HTTPS_PROXY) ?? pick(env.https_proxy) ?? pick(env.HTTP_PROXY) ?? pick(env.http_proxy);
  const noProxy = pick(overrides.noProxy) ?? pick(env.NO_PROXY) ?? pick(env.no_proxy);
  return {
    endpoint,
    ...(token ? { token } : {}),
    offline: overrides.offline === true || envTrue(env.HF_HUB_OFFLINE),
    cacheDir: pick(overrides.cacheDir) ?? hubCacheDir(env),
    ...(proxy ? { proxy } : {}),
    ...(noProxy ? { noProxy } : {}),
    strictSSL: overrides.strictSSL ?? true,
  };
}

/**
 * huggingface_hub's repo id rule (validate_repo_id): `name` or `namespace/name`, letters, digits,
 * `-`, `_`, `.`, at most 96 characters, no `--` or `..`, not starting or ending with `-` or `.`.
 */
export function isRepoId(value: string): boolean {
  if (value.length === 0 || value.length > 96) return false;
  if (!/^(?:[\w.-]+\/)?[\w.-]+$/.test(value)) return false;
  if (value.includes('--') || value.includes('..')) return false;
  return value.split('/').every((part) => /^[\w](?:[\w.-]*[\w])?$/.test(part));
}

export function checkRepoId(value: string): string {
  const trimmed = value.trim();
  if (!isRepoId(trimmed) || !trimmed.includes('/')) {
    throw new HubError('invalid-request', `"${value}" is not a Hugging Face model id: use "organisation/name" as on its Hub page (for example onnx-community/Qwen2.5-Coder-0.5B-Instruct), or a catalog id (tokenscope models lists them).`);
  }
  return trimmed;
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** A branch, tag or commit; refs may contain `/` (refs/pr/1) but never `..` or spaces. */
export function checkRevision(value: string): string {
  const trimmed = value.trim();
  if (!trimmed || /\s|\.\.|^\/|\/$|[~^:?*[\\]/.test(trimmed)) throw new HubError('invalid-request', `"${value}" is not a git revision: use a branch (main), a tag or a 40-character commit hash.`);
  return trimmed;
}
