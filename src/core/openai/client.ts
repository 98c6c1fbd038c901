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
 *
 * Its parts: serverError.ts (the error and its messages), serverUrl.ts (base URL, loopback),
 * retry.ts (when to try again), requestCall.ts (one request's timeouts and signal), serverAnswers.ts
 * (JSON and SSE answers). This file holds `ServerClient`, which runs them; it re-exports what
 * callers import from here.
 */
import { sleep } from '../abortableSleep';
import { defaultRetryPolicy, retryAfterMs, retryDelayMs, type RetryPolicy } from './retry';
import { defaultTimeouts, RequestCall, type FetchFunction, type FetchResponse, type ServerTimeouts } from './requestCall';
import { parseDocument, readEventStream } from './serverAnswers';
import { abortError, errorDetail, statusError, type ServerIdentity } from './serverError';
import { isLoopbackHost, normalizeBaseUrl, serverName } from './serverUrl';

export { defaultRetryPolicy, retryAfterMs, retryDelayMs, type RetryPolicy } from './retry';
export { defaultTimeouts, type FetchFunction, type FetchResponse, type ServerTimeouts } from './requestCall';
export { ServerError, type ServerErrorKind } from './serverError';
export { isLoopbackHost, normalizeBaseUrl, serverName } from './serverUrl';

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

const defaultSleep = (ms: number, signal: AbortSignal) => sleep(ms, signal, abortError);

/**
 * npm undici, only for an explicit proxy (the CLI's HTTPS_PROXY): Node's own fetch takes no proxy.
 * The computed specifier keeps esbuild from bundling it into the extension, whose fetch VS Code
 * already routes through `http.proxy` (http.fetchAdditionalSupport).
 */
type Undici = typeof import('undici');
let undiciModule: Undici | undefined;
const loadUndici = (): Undici => (undiciModule ??= require(['un', 'dici'].join('')) as Undici);

/** One server. Cheap to create; the connection pool is per client. */
export class ServerClient implements ServerIdentity {
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
    const call = new RequestCall(this.timeouts, signal);
    try {
      const response = await this.send('POST', path, body, call, true);
      const contentType = response.headers.get('content-type') ?? '';
      if (!/event-stream/i.test(contentType)) {
        // Not a stream: one JSON answer (a server that ignores `stream`), or something else entirely.
        const text = await call.readText(response).catch((error: unknown) => {
          throw call.translate(error, this, 'waiting for the answer');
        });
        yield parseDocument<T>(this, text, contentType, response.status, path);
        return;
      }
      yield* readEventStream<T>(this, response, call, path);
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
    const call = new RequestCall(this.timeouts, signal);
    try {
      const response = await this.send(method, path, body, call, false);
      const text = await call.readText(response).catch((error: unknown) => {
        throw call.translate(error, this, 'waiting for the answer');
      });
      return parseDocument<T>(this, text, response.headers.get('content-type') ?? '', response.status, path);
    } finally {
      call.dispose();
    }
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
  private async send(method: string, path: string, body: unknown, call: RequestCall, stream: boolean): Promise<FetchResponse> {
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
      const detail = errorDetail(text, response.headers.get('content-type') ?? '');
      if (retryable && attempt < this.retry.maxRetries) {
        const asked = retryAfterMs(response.headers.get('retry-after'));
        if (asked !== undefined && asked > this.retry.maxRetryAfterMs) throw statusError(this, Boolean(this.options.apiKey), response.status, path, detail, attempt, asked);
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
      throw statusError(this, Boolean(this.options.apiKey), response.status, path, detail, attempt, undefined);
    }
  }
}
