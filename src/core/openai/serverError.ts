/**
 * How a request to an OpenAI-compatible server fails, in words the user can act on: the one error
 * type (`ServerError`, with a `kind` the editor picks its buttons by), and the messages for each way
 * it goes wrong: an HTTP status (`statusError`), a web page instead of the API (`htmlPageError`), a
 * timeout (`timeoutError`), a socket or TLS failure from undici's error causes (`networkError`).
 * Each names the server and says what to do.
 */
import { errorBrand } from '../errorBrand';
import { errorMessageOf } from './protocol';

export type ServerErrorKind =
  /** Nothing listens there, the name does not resolve, or connecting timed out. */
  | 'unreachable'
  | 'timeout'
  | 'auth'
  | 'not-found'
  | 'rate-limited'
  | 'server-error'
  | 'bad-request'
  /** The answer is not the API: HTML (a captive portal), malformed JSON or SSE. */
  | 'protocol'
  /** The server reported an error inside a stream. */
  | 'stream-error'
  /** The connection closed before the answer finished. */
  | 'dropped';

const serverErrorBrand = errorBrand('ServerError');

/** A failed request to a server; `message` names the server and says what to do. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  /** Thrown in the servers bundle, checked in the extension's (see errorBrand). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return serverErrorBrand.has(value);
  }

  constructor(
    readonly kind: ServerErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    serverErrorBrand.mark(this);
  }
}

/** The server as messages name it: `name` is `host:port`, `baseUrl` the normalized base URL. */
export interface ServerIdentity {
  readonly name: string;
  readonly baseUrl: string;
}

/** What a fetch rejects with when the caller cancels. */
export function abortError(): Error {
  const error = new Error('The request was cancelled.');
  error.name = 'AbortError';
  return error;
}

export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** What a failed answer says about itself: its API error message, "an HTML page", or the start of its text. */
export function errorDetail(text: string, contentType: string): string {
  const trimmed = text.trim();
  if (/html/i.test(contentType) || trimmed.startsWith('<')) return 'an HTML page';
  try {
    const message = errorMessageOf(JSON.parse(trimmed));
    if (message) return message;
  } catch {
    // Not JSON: show the start of the text.
  }
  return trimmed.slice(0, 200) || 'no details';
}

/** An answer with a non-2xx status, after `retries` retries; `hasApiKey` tells a refused key from a missing one. */
export function statusError(server: ServerIdentity, hasApiKey: boolean, status: number, path: string, detail: string, retries: number, retryAfter: number | undefined): ServerError {
  const tried = retries > 0 ? ` (tried ${retries + 1} times)` : '';
  const at = `${server.name} (HTTP ${status}: ${detail})`;
  if (status === 401 || status === 403) {
    return new ServerError('auth', `${at} refused the request${hasApiKey ? ': the API key was not accepted' : ': it needs an API key'}. Set it with "Tokenscope: Set Server API Key…" (CLI: the TOKENSCOPE_API_KEY environment variable).`, status);
  }
  if (status === 404) {
    return new ServerError('not-found', `${at} has no ${path}, or not the model asked for. Check the server URL (it usually ends in /v1, e.g. http://127.0.0.1:8000/v1) and the model name (Connect to a Server… lists the server's models).`, status);
  }
  if (status === 429) {
    const wait = retryAfter !== undefined ? ` and asks to wait ${seconds(retryAfter)}` : '';
    return new ServerError('rate-limited', `${at} is rate-limiting requests${wait}${tried}. Wait a moment and try again.`, status);
  }
  if (status >= 500) return new ServerError('server-error', `${at} failed${tried}. See the server's log; if it is still loading the model, try again in a moment.`, status);
  return new ServerError('bad-request', `${at} rejected the request. Check the model name and settings (see the Tokenscope log for the request).`, status);
}

export function htmlPageError(server: ServerIdentity, status: number, path: string): ServerError {
  return new ServerError(
    'protocol',
    `${server.name} answered ${path} with a web page, not the API (HTTP ${status}, HTML): a captive portal or proxy login page, or the wrong URL. Open ${new URL(server.baseUrl).origin} in a browser (sign in if asked), or check the server URL: it usually ends in /v1.`,
    status,
  );
}

/** One of the request's own timeouts fired: nothing came after sending it, or a stream went silent. */
export function timeoutError(server: ServerIdentity, fired: { readonly what: 'first-byte' | 'stall'; readonly ms: number }): ServerError {
  if (fired.what === 'first-byte') {
    return new ServerError('timeout', `${server.name} accepted the request but sent nothing for ${seconds(fired.ms)}: the model may still be loading, or the server is overloaded. Try again in a moment, or raise tokenscope.server.timeoutSeconds.`);
  }
  return new ServerError('timeout', `${server.name} stopped sending in the middle of the answer (nothing for ${seconds(fired.ms)}): the server may be overloaded or stuck. What arrived is kept; try again, and see the server's log if it persists.`);
}

export type RequestPhase = 'connecting' | 'waiting for the answer' | 'streaming' | 'waiting to retry';

/** A fetch or body read that failed at the socket or TLS level, said by its cause's code. */
export function networkError(error: unknown, server: ServerIdentity, connectMs: number, phase: RequestPhase): ServerError {
  const cause = networkCause(error);
  switch (cause.code) {
    case 'ECONNREFUSED':
      return new ServerError('unreachable', `Nothing is listening at ${server.baseUrl} (connection refused). Start the server, or check the server URL in the Tokenscope settings.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ServerError('unreachable', `The server's host name in ${server.baseUrl} does not resolve (${cause.code}). Check the URL, your network or VPN.`);
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return new ServerError('unreachable', `Connecting to ${server.name} timed out after ${seconds(connectMs)}. Check that the server is up and reachable from here (VPN, firewall, the http.proxy setting).`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ServerError('unreachable', `${server.name} cannot be reached from this machine (${cause.code}). Check the URL, your network or VPN.`);
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new ServerError('unreachable', `The TLS certificate of ${server.name} was not accepted (${cause.code}). Fix the server's certificate, or use http:// for a server on a trusted network.`);
    default:
      if (phase === 'connecting') return new ServerError('unreachable', `Cannot reach ${server.baseUrl}: ${cause.message}. Check the URL and that the server is running.`);
      return new ServerError('dropped', `The connection to ${server.name} dropped ${phase === 'streaming' ? 'in the middle of the answer' : 'before the answer came'} (${cause.message}): the server may have crashed or restarted. What arrived is kept; try again.`);
  }
}

/** What went wrong at the socket level, from undici's error causes. */
function networkCause(error: unknown): { code?: string; message: string } {
  let current: unknown = error;
  // undici says "fetch failed"; the reason is in its causes ("connect ECONNREFUSED …", "bad port").
  let message = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 5 && current; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof candidate.message === 'string' && candidate.message) message = candidate.message;
    if (typeof candidate.code === 'string') return { code: candidate.code, message };
    current = candidate.cause;
  }
  return { message };
}
