/**
 * HTTP to the Hub and its CDN over undici (Node's own HTTP client): one connection pool per pull,
 * direct or through a proxy, with a stall timeout between body chunks, redirects followed by hand
 * (the token goes to the endpoint's origin only, never to the CDN a 302 names) and every failure
 * turned into a HubError that says what to do.
 */
import { Agent, EnvHttpProxyAgent, fetch as undiciFetch, request, type Dispatcher } from 'undici';
import { HubError, connectionError, displayUrl, errorCode } from './errors';
import type { HubSettings } from './settings';

export interface HubHttpOptions {
  /** Milliseconds without a byte (headers or body) before a request counts as stalled. */
  readonly stallTimeoutMs?: number;
  readonly userAgent?: string;
}

export interface HubResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  readonly url: string;
  /** Redirects followed to get here. */
  readonly redirects: number;
}

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 10;

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function flatHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

export class HubHttp {
  readonly dispatcher: Dispatcher;
  readonly stallTimeoutMs: number;
  private readonly endpointOrigin: string;
  private readonly userAgent: string;

  constructor(readonly settings: HubSettings, options: HubHttpOptions = {}) {
    this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? 'tokenscope';
    this.endpointOrigin = new URL(settings.endpoint).origin;
    const tls = { rejectUnauthorized: settings.strictSSL };
    const timeouts = { headersTimeout: this.stallTimeoutMs, bodyTimeout: this.stallTimeoutMs, connectTimeout: Math.min(this.stallTimeoutMs, 30_000) };
    this.dispatcher = settings.proxy
      ? new EnvHttpProxyAgent({ httpProxy: settings.proxy, httpsProxy: settings.proxy, noProxy: settings.noProxy ?? '', requestTls: tls, proxyTls: tls, ...timeouts })
      : new Agent({ connect: { ...tls, timeout: timeouts.connectTimeout }, headersTimeout: timeouts.headersTimeout, bodyTimeout: timeouts.bodyTimeout });
  }

  /** Headers for a request to `url`: the token only on the endpoint's own origin. */
  private headersFor(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...extra };
    if (this.settings.token && new URL(url).origin === this.endpointOrigin) headers.authorization = `Bearer ${this.settings.token}`;
    return headers;
  }

  /**
   * One request, following redirects (relative ones as the Hub sends for renamed repos, absolute
   * ones to its CDN). A connection failure or stall becomes a HubError; HTTP errors come back as
   * responses for the caller to read.
   */
  async request(url: string, options: { readonly method?: 'GET' | 'HEAD' | 'POST'; readonly headers?: Record<string, string>; readonly body?: string; readonly signal?: AbortSignal; readonly followRedirects?: 'all' | 'relative' } = {}): Promise<HubResponse> {
    let current = url;
    const seen = new Set<string>();
    for (let redirects = 0; ; redirects++) {
      if (options.signal?.aborted) throw cancelled();
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, {
          method: options.method ?? 'GET',
          headers: this.headersFor(current, options.headers),
          body: options.body,
          signal: options.signal,
          dispatcher: this.dispatcher,
          headersTimeout: this.stallTimeoutMs,
          bodyTimeout: this.stallTimeoutMs,
        });
      } catch (error) {
        throw this.failure(error, current, options.signal);
      }
      const location = header(response.headers, 'location');
      // HEAD for metadata follows only relative redirects (a renamed repo), as huggingface_hub
      // does: the 302 to the CDN itself carries X-Linked-Size and X-Linked-Etag.
      const follow = options.followRedirects !== 'relative' || (location !== undefined && new URL(location, current).origin === new URL(current).origin);
      if ([301, 302, 303, 307, 308].includes(response.statusCode) && location && follow) {
        await response.body.dump().catch(() => undefined);
        const next = new URL(location, current).toString();
        if (redirects + 1 > MAX_REDIRECTS || seen.has(next)) {
          throw new HubError('redirect-loop', `${displayUrl(url)} redirected ${redirects + 1} times (last to ${displayUrl(next)}): a mirror or proxy between you and the Hub is misconfigured. Check tokenscope.hub.endpoint / HF_ENDPOINT and the proxy setting.`, { url });
        }
        seen.add(current);
        current = next;
        continue;
      }
      return { status: response.statusCode, headers: flatHeaders(response.headers), body: response.body, url: current, redirects };
    }
  }

  /** A HubError for a thrown request error (connection, TLS, stall, abort). */
  failure(error: unknown, url: string, signal?: AbortSignal): HubError {
    if (error instanceof HubError) return error;
    if (signal?.aborted || (error as { name?: string })?.name === 'AbortError' || errorCode(error) === 'UND_ERR_ABORTED') return cancelled();
    const code = errorCode(error);
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
      return new HubError('stalled', `${new URL(url).host} sent nothing for ${Math.round(this.stallTimeoutMs / 1000)} s (${displayUrl(url)}). The server or your connection is too slow right now: try again later; the download resumes where it stopped.`, { url, retryable: true });
    }
    return connectionError(error, url, this.settings.proxy);
  }

  /**
   * A `fetch` for @huggingface/hub's API calls: the same pool and proxy, the caller's signal, and
   * connection failures as HubErrors.
   */
  fetchWith(signal?: AbortSignal): typeof fetch {
    return (async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url;
      try {
        const response = await undiciFetch(url, { ...(init as object), signal: init?.signal ?? signal, dispatcher: this.dispatcher, headers: { ...(init?.headers as Record<string, string> | undefined), 'user-agent': this.userAgent } });
        return response as unknown as Response;
      } catch (error) {
        throw this.failure(error, url, signal);
      }
    }) as typeof fetch;
  }

  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }
}

export function cancelled(): HubError {
  return new HubError('cancelled', 'The download was cancelled. What was downloaded is kept: start it again to resume.');
}
