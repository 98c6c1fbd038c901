/**
 * Every way talking to the Hugging Face Hub (or a mirror) and writing its files can fail, each with
 * a message that says what happened and what to do. The message is complete on its own: the editor
 * and the CLI show it as is. Messages never contain the access token.
 */
import { errorBrand } from '../errorBrand';

export type HubErrorCode =
  /** 401: the repo needs a token (private or gated) or the token is wrong; the Hub also answers 401 for a repo that does not exist. */
  | 'unauthorized'
  /** 403: the token is valid but has no access (gated licence not accepted, or a fine-grained token without read rights). */
  | 'forbidden'
  /** 404 on the repo, its revision or a file. */
  | 'not-found'
  /** The server kept failing (5xx, 429) after the retries. */
  | 'server'
  /** DNS failure, connection refused or reset, TLS failure: the endpoint cannot be reached. */
  | 'network'
  /** The proxy refused the connection or asked for credentials. */
  | 'proxy'
  /** Offline mode is on and the cache lacks what was asked for. */
  | 'offline'
  /** No bytes arrived for the stall timeout, several times in a row. */
  | 'stalled'
  /** More redirects than any Hub answer needs: a mirror or proxy is misconfigured. */
  | 'redirect-loop'
  /** The downloaded bytes do not match the Hub's size or SHA-256. */
  | 'checksum'
  /** Not enough free space for the download, or a write failed with ENOSPC. */
  | 'disk-full'
  /** Writing into the cache folder failed for another reason (permissions, read-only file system). */
  | 'cache'
  /** The user (or the editor) cancelled. */
  | 'cancelled'
  /** The server answered something no Hub answers (missing fields, bad JSON). */
  | 'bad-response'
  /** The repo id, revision or variant asked for is not valid, or the repo has no ONNX model. */
  | 'invalid-request';

const hubErrorBrand = errorBrand('HubError');

export class HubError extends Error {
  override readonly name = 'HubError';
  /** Thrown in the download bundle (dist/hubPull.js), checked in the extension's (see errorBrand). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return hubErrorBrand.has(value);
  }

  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly details: { readonly status?: number; readonly url?: string; readonly repo?: string; readonly retryable?: boolean } = {},
  ) {
    super(message);
    hubErrorBrand.mark(this);
  }
}

export function isHubError(error: unknown, code?: HubErrorCode): error is HubError {
  return error instanceof HubError && (code === undefined || error.code === code);
}

/** The URL without its query (signed CDN URLs carry signatures) for messages and logs. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url.replace(/\?.*$/, '');
  }
}

const networkCodes: Readonly<Record<string, string>> = {
  ENOTFOUND: 'its host name does not resolve (DNS)',
  EAI_AGAIN: 'its host name could not be resolved right now (DNS; are you offline?)',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable (are you offline?)',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate could not be verified (a proxy that inspects TLS needs its CA in NODE_EXTRA_CA_CERTS)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain has a self-signed certificate (a proxy that inspects TLS needs its CA in NODE_EXTRA_CA_CERTS)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it presented a self-signed TLS certificate',
};

/** The innermost `code` of an error and its causes (undici wraps socket errors in `cause`). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  let code: string | undefined;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const candidate = (current as { code?: unknown }).code;
    if (typeof candidate === 'string') code = candidate;
    current = (current as { cause?: unknown }).cause;
  }
  return code;
}

/**
 * A connection-level failure as a HubError: which host, what went wrong, what to do. `viaProxy`
 * names the proxy when one is configured: a refused or failed connection then is the proxy's.
 */
export function connectionError(error: unknown, target: string, viaProxy?: string): HubError {
  const code = errorCode(error);
  const host = (() => {
    try {
      return new URL(target).host;
    } catch {
      return target;
    }
  })();
  const message = error instanceof Error ? error.message : String(error);
  if (viaProxy && (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /proxy/i.test(message))) {
    const what = /407/.test(message) ? 'it asked for credentials (407 Proxy Authentication Required)' : code ? (networkCodes[code] ?? code) : message;
    return new HubError('proxy', `Connecting to ${host} through the proxy ${displayUrl(viaProxy)} failed: ${what}. Check the proxy setting (VS Code: http.proxy; CLI: HTTPS_PROXY), or clear it if you need none.`, { url: target, retryable: false });
  }
  const reason = code ? (networkCodes[code] ?? `${code}: ${message}`) : message;
  const offlineHint = code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENETUNREACH' ? ' If you are offline, models already in the cache still work: turn on offline mode (tokenscope.hub.offline, or HF_HUB_OFFLINE=1).' : '';
  const retryable = code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EAI_AGAIN';
  return new HubError('network', `Cannot reach ${host}: ${reason}. Check your connection, or the Hub endpoint (tokenscope.hub.endpoint / HF_ENDPOINT) if you use a mirror.${offlineHint}`, { url: target, retryable });
}
