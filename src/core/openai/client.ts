/**
 * The HTTP side of an OpenAI-compatible server: requests with the API key and extra headers, a
 * proxy when one is configured, timeouts for connecting, for the first byte and for a stream that
 * stalls, retries with backoff and jitter on 429 and 5xx before anything was received (never after),
 * SSE parsing (eventsource-parser), and one error type whose message names the server and says what
 * to do. Aborting the caller's signal aborts the HTTP request at once, which is what makes vLLM,
 * llama.cpp and `tokenscope serve` stop generating.
 *
 * HTTP goes through Node's fetch (undici); with an explicit proxy (the CLI's HTTPS_PROXY) through
 * npm undici's ProxyAgent. In the editor, VS Code's own fetch support applies `http.proxy`.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
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

export interface ServerTimeouts {
  /** Establishing the TCP/TLS connection (default 10 s). */
  readonly connectMs: number;
  /** From sending the request to the first byte of the answer's body (default 60 s: a big model's prefill). */
  readonly firstByteMs: number;
  /** Longest silence between two pieces of a stream once it has started (default 30 s). */
  readonly stallMs: number;
}

export interface RetryPolicy {
  /** Retries after the first attempt (default 2). */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the request fails and says how long the server asked for. */
  readonly maxRetryAfterMs: number;
}

export const defaultTimeouts: ServerTimeouts = { connectMs: 10_000, firstByteMs: 60_000, stallMs: 30_000 };
export const defaultRetryPolicy: RetryPolicy = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

/** The subset of fetch this client uses (tests and the CLI may pass another implementation). */
export type FetchFunction = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) => Promise<FetchResponse>;

export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: AsyncIterable<Uint8Array> | null;
  text(): Promise<string>;
}

export interface ServerClientOptions {
  /** E.g. `http://127.0.0.1:8000/v1`; paths are appended to it. */
  readonly baseUrl: string;
  readonly apiKey?: string;
  /** Extra headers for gateways (sent with every request; cannot replace Authorization when an API key is set). */
  readonly headers?: Readonly<Record<string, string>>;
  /** An http(s) proxy URL (the CLI's HTTPS_PROXY; the editor's fetch applies `http.proxy` itself); never used for loopback servers. */
  readonly proxy?: string;
  /** Check the proxy's or server's TLS certificate (the editor's `http.proxyStrictSSL`, default true). */
  readonly strictSSL?: boolean;
  readonly timeouts?: Partial<ServerTimeouts>;
  readonly retry?: Partial<RetryPolicy>;
  readonly fetch?: FetchFunction;
  /** Injectable for tests: waits `ms` unless the signal aborts first. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Injectable for tests: 0 <= x < 1, for jitter. */
  readonly random?: () => number;
  /** Called before each retry (logs). */
  readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly status: number; readonly message: string }) => void;
}

/** True for 127.0.0.0/8, ::1 and localhost: servers on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '0:0:0:0:0:0:0:1';
}

/**
 * Checks a base URL and returns it normalized (no trailing slash). A URL without `/v1` is kept as
 * typed: some gateways serve the API elsewhere; a 404 then says where it is usually.
 */
export function normalizeBaseUrl(raw: string): string {
  const trimmed = raw.trim();
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new ServerError('bad-request', `"${trimmed}" is not a URL. Give the server's base URL, e.g. http://127.0.0.1:8000/v1 (vLLM) or http://127.0.0.1:11434/v1 (Ollama).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ServerError('bad-request', `"${trimmed}" is not an http(s) URL. Give the server's base URL, e.g. http://127.0.0.1:8000/v1.`);
  if (url.search || url.hash) throw new ServerError('bad-request', `"${trimmed}" has a query or fragment; give only the base URL, e.g. http://127.0.0.1:8000/v1.`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** A short name for messages: `host:port`. */
export function serverName(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Backoff for retry `attempt` (1-based): exponential with full jitter, or the server's Retry-After. */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number, retryAfter?: number): number {
  if (retryAfter !== undefined) return retryAfter;
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  // Half fixed, half random: clients that failed together do not retry together.
  return Math.round(cap / 2 + (random() * cap) / 2);
}

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError());
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

function abortError(): Error {
  const error = new Error('The request was cancelled.');
  error.name = 'AbortError';
  return error;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
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

/**
 * npm undici, only for an explicit proxy (the CLI's HTTPS_PROXY): Node's own fetch takes no proxy.
 * The computed specifier keeps esbuild from bundling it into the extension, whose fetch VS Code
 * already routes through `http.proxy` (http.fetchAdditionalSupport).
 */
type Undici = typeof import('undici');
let undiciModule: Undici | undefined;
const loadUndici = (): Undici => (undiciModule ??= require(['un', 'dici'].join('')) as Undici);

/** One server. Cheap to create; the connection pool is per client. */
export class ServerClient {
  readonly baseUrl: string;
  readonly name: string;
  private readonly timeouts: ServerTimeouts;
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private fetchImpl: Promise<FetchFunction> | undefined;
  private dispatcher: { close(): Promise<void> } | undefined;

  constructor(private readonly options: ServerClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.baseUrl);
    this.name = serverName(this.baseUrl);
    this.timeouts = { ...defaultTimeouts, ...options.timeouts };
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  get isLoopback(): boolean {
    return isLoopbackHost(new URL(this.baseUrl).hostname);
  }

  /** GET a JSON document (e.g. `/models`), with the same timeouts and retries as any request. */
  async getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.requestJson<T>('GET', path, undefined, signal);
  }

  async postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    return this.requestJson<T>('POST', path, body, signal);
  }

  /**
   * POSTs a streaming request and yields each SSE event's JSON, until `data: [DONE]`. A server that
   * answers with one JSON document instead of a stream yields that document once. Stops (and
   * aborts the request) when the consumer stops iterating.
   */
  async *stream<T>(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<T> {
    const call = new Call(this.timeouts, signal);
    try {
      const response = await this.send('POST', path, body, call, true);
      const contentType = response.headers.get('content-type') ?? '';
      if (!/event-stream/i.test(contentType)) {
        // Not a stream: one JSON answer (a server that ignores `stream`), or something else entirely.
        const text = await call.readText(response).catch((error: unknown) => {
          throw call.translate(error, this, 'waiting for the answer');
        });
        yield this.parseDocument<T>(text, contentType, response.status, path);
        return;
      }
      yield* this.events<T>(response, call, path);
    } finally {
      call.dispose();
    }
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.dispatcher?.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------------------------------

  private async requestJson<T>(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<T> {
    const call = new Call(this.timeouts, signal);
    try {
      const response = await this.send(method, path, body, call, false);
      const text = await call.readText(response).catch((error: unknown) => {
        throw call.translate(error, this, 'waiting for the answer');
      });
      return this.parseDocument<T>(text, response.headers.get('content-type') ?? '', response.status, path);
    } finally {
      call.dispose();
    }
  }

  private parseDocument<T>(text: string, contentType: string, status: number, path: string): T {
    const trimmed = text.trimStart();
    if (/html/i.test(contentType) || trimmed.startsWith('<')) throw this.htmlError(status, path);
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      throw new ServerError('protocol', `${this.name} answered ${path} with something that is not JSON (${JSON.stringify(trimmed.slice(0, 80))}): is ${this.baseUrl} an OpenAI-compatible API? The base URL usually ends in /v1.`, status);
    }
    const message = errorMessageOf(value);
    if (message !== undefined && (value as { choices?: unknown; data?: unknown }).choices === undefined && (value as { data?: unknown }).data === undefined) {
      throw new ServerError('stream-error', `${this.name} reported an error: ${message}`, status);
    }
    return value as T;
  }

  private htmlError(status: number, path: string): ServerError {
    return new ServerError(
      'protocol',
      `${this.name} answered ${path} with a web page, not the API (HTTP ${status}, HTML): a captive portal or proxy login page, or the wrong URL. Open ${new URL(this.baseUrl).origin} in a browser (sign in if asked), or check the server URL: it usually ends in /v1.`,
      status,
    );
  }

  private async getFetch(): Promise<FetchFunction> {
    if (this.options.fetch) return this.options.fetch;
    this.fetchImpl ??= Promise.resolve().then((): FetchFunction => {
      if (!this.options.proxy || this.isLoopback) {
        // Node's fetch (undici inside Node): in the editor VS Code routes it through http.proxy.
        return (url, init) => fetch(url, init) as unknown as Promise<FetchResponse>;
      }
      const undici = loadUndici();
      const tls = { timeout: this.timeouts.connectMs, rejectUnauthorized: this.options.strictSSL !== false };
      // Timeouts of our own cover headers and body (they know what the request is waiting for).
      const dispatcher = new undici.ProxyAgent({ uri: this.options.proxy, headersTimeout: 0, bodyTimeout: 0, requestTls: tls, proxyTls: tls });
      this.dispatcher = dispatcher;
      return (url, init) => undici.fetch(url, { ...init, dispatcher }) as unknown as Promise<FetchResponse>;
    });
    return this.fetchImpl;
  }

  /** Sends the request, retrying 429 and 5xx answers (which carry no generated text) with backoff. */
  private async send(method: string, path: string, body: unknown, call: Call, stream: boolean): Promise<FetchResponse> {
    const fetchImpl = await this.getFetch();
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { ...this.options.headers, Accept: stream ? 'text/event-stream' : 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      call.waitForFirstByte();
      let response: FetchResponse;
      try {
        response = await fetchImpl(url, { method, headers, body: payload, signal: call.signal });
      } catch (error) {
        throw call.translate(error, this, 'connecting');
      }
      if (response.status >= 200 && response.status < 300) return response;
      const text = await call.readText(response).catch(() => '');
      const retryable = response.status === 429 || response.status >= 500;
      const detail = this.detailOf(text, response.headers.get('content-type') ?? '');
      if (retryable && attempt < this.retry.maxRetries) {
        const asked = retryAfterMs(response.headers.get('retry-after'));
        if (asked !== undefined && asked > this.retry.maxRetryAfterMs) throw this.statusError(response.status, path, detail, attempt, asked);
        const delayMs = retryDelayMs(attempt + 1, this.retry, this.random, asked);
        this.options.onRetry?.({ attempt: attempt + 1, delayMs, status: response.status, message: detail });
        call.pause();
        try {
          await this.sleep(delayMs, call.signal);
        } catch (error) {
          throw call.translate(error, this, 'waiting to retry');
        }
        continue;
      }
      throw this.statusError(response.status, path, detail, attempt, undefined);
    }
  }

  private detailOf(text: string, contentType: string): string {
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

  private statusError(status: number, path: string, detail: string, retries: number, retryAfter: number | undefined): ServerError {
    const tried = retries > 0 ? ` (tried ${retries + 1} times)` : '';
    const at = `${this.name} (HTTP ${status}: ${detail})`;
    if (status === 401 || status === 403) {
      return new ServerError('auth', `${at} refused the request${this.options.apiKey ? ': the API key was not accepted' : ': it needs an API key'}. Set it with "Tokenscope: Set Server API Key…" (CLI: the TOKENSCOPE_API_KEY environment variable).`, status);
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

  private async *events<T>(response: FetchResponse, call: Call, path: string): AsyncGenerator<T> {
    if (!response.body) throw new ServerError('protocol', `${this.name} answered ${path} with an empty body. Check the server URL.`, response.status);
    const pending: EventSourceMessage[] = [];
    let badLine: string | undefined;
    const parser = createParser({
      onEvent: (event) => pending.push(event),
      onError: (error) => {
        // A line that is not `field: value` SSE: a raw JSON error (Ollama writes those) or garbage.
        badLine ??= error.line ?? `${error.field ?? ''}:${error.value ?? ''}`;
      },
    });
    const decoder = new TextDecoder();
    let done = false;
    let received = 0;
    try {
      for await (const chunk of call.read(response.body)) {
        // After [DONE] the rest of the body is read to its end (the server closes it at once), so
        // the connection goes back to the pool instead of being torn down.
        if (done) continue;
        received += chunk.byteLength;
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (badLine !== undefined && pending.length === 0) throw this.badStreamLine(badLine);
        while (pending.length > 0 && !done) {
          const event = pending.shift()!;
          if (event.data.trim() === '[DONE]') {
            done = true;
            break;
          }
          yield this.parseEvent<T>(event.data);
        }
        if (badLine !== undefined && !done) throw this.badStreamLine(badLine);
      }
      if (done) return;
    } catch (error) {
      if (error instanceof ServerError) throw error;
      throw call.translate(error, this, received > 0 ? 'streaming' : 'waiting for the answer');
    } finally {
      if (!done) call.abort();
    }
    parser.feed('\n\n');
    for (const event of pending) {
      if (event.data.trim() === '[DONE]') return;
      yield this.parseEvent<T>(event.data);
    }
    if (badLine !== undefined) throw this.badStreamLine(badLine);
    throw new ServerError('dropped', `${this.name} ended the stream before it finished (no "data: [DONE]"): the answer may be cut short. The server may have restarted or hit an error; see its log and try again.`);
  }

  private badStreamLine(line: string): ServerError {
    const trimmed = line.trim();
    if (trimmed.startsWith('{')) {
      try {
        const message = errorMessageOf(JSON.parse(trimmed));
        if (message) return new ServerError('stream-error', `${this.name} reported an error in the middle of the answer: ${message}`);
      } catch {
        // Fall through: malformed.
      }
    }
    if (trimmed.startsWith('<')) return this.htmlError(200, 'the stream');
    return new ServerError('protocol', `${this.name} sent a malformed stream line (${JSON.stringify(trimmed.slice(0, 80))}), not server-sent events: is it an OpenAI-compatible server? Check the URL; if it is, see its log.`);
  }

  private parseEvent<T>(data: string): T {
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      throw new ServerError('protocol', `${this.name} sent a malformed stream event (not JSON: ${JSON.stringify(data.slice(0, 80))}). The server or a proxy in between garbled the stream; try again, and see the server's log if it persists.`);
    }
    if (typeof value !== 'object' || value === null) throw new ServerError('protocol', `${this.name} sent a stream event that is not an object (${JSON.stringify(data.slice(0, 80))}).`);
    const message = (value as { error?: unknown }).error !== undefined ? (errorMessageOf(value) ?? JSON.stringify((value as { error?: unknown }).error)) : undefined;
    if (message !== undefined) throw new ServerError('stream-error', `${this.name} reported an error in the middle of the answer: ${message}`);
    return value as T;
  }
}

/**
 * One request's signal and timers: the caller's signal, plus our own abort for a timeout. The
 * timeout that fired is remembered, so the error can say which one it was.
 */
class Call {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal;
  private timer: NodeJS.Timeout | undefined;
  private armed: { readonly what: string; readonly ms: number } | undefined;
  private firedTimeout: { what: string; ms: number } | undefined;
  private readonly outer: AbortSignal | undefined;
  private readonly onOuterAbort = () => this.controller.abort(abortError());

  constructor(
    private readonly timeouts: ServerTimeouts,
    outer: AbortSignal | undefined,
  ) {
    this.outer = outer;
    this.signal = this.controller.signal;
    if (outer?.aborted) this.controller.abort(abortError());
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  waitForFirstByte(): void {
    this.arm(this.timeouts.firstByteMs, 'first-byte');
  }

  /** No timer while waiting to retry (the wait has its own length). */
  pause(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Reads a body, resetting the stall timer at every chunk. */
  async *read(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of body) {
      this.arm(this.timeouts.stallMs, 'stall');
      yield chunk;
    }
  }

  async readText(response: FetchResponse): Promise<string> {
    if (!response.body) return '';
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of this.read(response.body)) {
      text += decoder.decode(chunk, { stream: true });
      if (text.length > 4_000_000) throw new ServerError('protocol', 'The server sent more than 4 MB for a JSON answer; check the server URL.');
    }
    return text + decoder.decode();
  }

  abort(): void {
    this.pause();
    if (!this.controller.signal.aborted) this.controller.abort(abortError());
  }

  /** Turns a fetch/stream failure into a ServerError (or rethrows the caller's cancellation). */
  translate(error: unknown, client: ServerClient, phase: 'connecting' | 'waiting for the answer' | 'streaming' | 'waiting to retry'): Error {
    if (this.outer?.aborted) return abortError();
    const fired = this.firedTimeout;
    if (fired?.what === 'first-byte') {
      return new ServerError('timeout', `${client.name} accepted the request but sent nothing for ${seconds(fired.ms)}: the model may still be loading, or the server is overloaded. Try again in a moment, or raise tokenscope.server.timeoutSeconds.`);
    }
    if (fired?.what === 'stall') {
      return new ServerError('timeout', `${client.name} stopped sending in the middle of the answer (nothing for ${seconds(fired.ms)}): the server may be overloaded or stuck. What arrived is kept; try again, and see the server's log if it persists.`);
    }
    if (error instanceof ServerError) return error;
    const cause = networkCause(error);
    switch (cause.code) {
      case 'ECONNREFUSED':
        return new ServerError('unreachable', `Nothing is listening at ${client.baseUrl} (connection refused). Start the server, or check the server URL in the Tokenscope settings.`);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new ServerError('unreachable', `The server's host name in ${client.baseUrl} does not resolve (${cause.code}). Check the URL, your network or VPN.`);
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT':
        return new ServerError('unreachable', `Connecting to ${client.name} timed out after ${seconds(this.timeouts.connectMs)}. Check that the server is up and reachable from here (VPN, firewall, the http.proxy setting).`);
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return new ServerError('unreachable', `${client.name} cannot be reached from this machine (${cause.code}). Check the URL, your network or VPN.`);
      case 'CERT_HAS_EXPIRED':
      case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      case 'SELF_SIGNED_CERT_IN_CHAIN':
      case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return new ServerError('unreachable', `The TLS certificate of ${client.name} was not accepted (${cause.code}). Fix the server's certificate, or use http:// for a server on a trusted network.`);
      default:
        if (phase === 'connecting') return new ServerError('unreachable', `Cannot reach ${client.baseUrl}: ${cause.message}. Check the URL and that the server is running.`);
        return new ServerError('dropped', `The connection to ${client.name} dropped ${phase === 'streaming' ? 'in the middle of the answer' : 'before the answer came'} (${cause.message}): the server may have crashed or restarted. What arrived is kept; try again.`);
    }
  }

  dispose(): void {
    this.pause();
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    // Whatever is still open (a consumer that stopped early) is closed: the server stops generating.
    if (!this.controller.signal.aborted) this.controller.abort(abortError());
  }

  private arm(ms: number, what: 'first-byte' | 'stall'): void {
    // Every chunk of a stream re-arms the stall timer: restarting the running one is cheaper than a new one.
    if (this.timer && this.armed?.what === what && this.armed.ms === ms) {
      this.timer.refresh();
      return;
    }
    this.pause();
    this.armed = { what, ms };
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.firedTimeout = { what, ms };
      const reason = new Error(`timed out (${what})`);
      reason.name = 'TimeoutError';
      this.controller.abort(reason);
    }, ms);
  }
}
