/**
 * `tokenscope serve`: the local runtime over the OpenAI-compatible API, so several editors share
 * one loaded model and any OpenAI client (Continue, the `openai` SDK, curl) can use it.
 *
 *   GET  /v1/models                 the model, with what a Tokenscope client needs to build token-id prompts
 *   GET  /v1/tokenscope/tokenizer   its tokenizer.json and tokenizer_config.json
 *   POST /v1/completions            text (special tokens parsed, as vLLM does) or token-id prompts; `suffix` FIM
 *   POST /v1/chat/completions       the model's chat template
 *   GET  /health                    {status, model, active, waiting, modelProcess}
 *   GET  /v1/tokenscope/trace       the benchmark's timings (only with TOKENSCOPE_SERVE_TRACE=1, serveTrace.ts)
 *
 * Streaming (SSE, `data: [DONE]`) and not, `logprobs` in the legacy and the chat shape, `usage`,
 * `stop`, `stop_token_ids`, `max_tokens`, `temperature`, `top_p`, `seed`. Requests take turns on the
 * model through a fair queue (round-robin per client); a client that disconnects cancels its
 * generation (or its place in line); bad JSON or fields get a 400 with an OpenAI-style error body.
 * With an API key every /v1 request needs `Authorization: Bearer <key>`. The model runs in its own
 * process (processModel.ts), so this event loop is never blocked by a forward pass.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { detectFimTemplate } from '../core/completions/fimTemplates';
import { isBuiltinModel } from '../core/completions/model';
import { encodeParts } from '../core/completions/promptBuilder';
import { ModelError } from '../core/models/errors';
import { isLoopbackHost } from '../core/openai/client';
import { FairQueue, QueueFullError } from '../core/openai/fairQueue';
import type { TokenscopeModelMeta, WireChatLogprobEntry, WireLegacyLogprobs, WireModel } from '../core/openai/protocol';
import { parseChatRequest, parseCompletionRequest, RequestError, type ParsedChatRequest, type ParsedCompletionRequest } from '../core/openai/serveRequests';
import type { GenerateRequest, GenerationEnd, GenerationEvent, ModelInfo, PromptInput, RuntimeLogger, TokenEvent } from '../core/runtime/types';
import { silentLogger } from '../core/runtime/types';
import type { ModelTokenizer } from '../core/tokenizers/types';
import { monotonicMs, ServeTrace, TRACE_PATH, type RequestTrace } from './serveTrace';
import { SseStream } from './sseStream';

/**
 * What the server needs of the runtime: the model in its model process with a tokenizer copy here
 * (processModel.ts, what `tokenscope serve` runs), or a LocalModel in this process (tests).
 */
export interface ServedModel {
  readonly info: ModelInfo;
  readonly tokenizer: ModelTokenizer;
  /** Synchronous: prompts are checked and counted before they wait for a turn. */
  encodePrompt(prompt: PromptInput): number[];
  generate(request: GenerateRequest, signal?: AbortSignal): AsyncIterable<GenerationEvent>;
  /** Extra fields for /health (the model process's state; with `detail`, for this machine's eyes only, its pid). */
  health?(detail: boolean): Readonly<Record<string, unknown>>;
}

export interface OpenAIServerOptions {
  readonly model: ServedModel;
  readonly host?: string;
  /** 0: any free port. */
  readonly port?: number;
  readonly apiKey?: string;
  readonly logger?: RuntimeLogger;
  /** Requests that may wait for a turn (default 64); more get 429 with Retry-After. */
  readonly maxWaiting?: number;
  /** Largest request body (default 16 MB). */
  readonly maxBodyBytes?: number;
  /**
   * Longest a generated token waits for the next ones to go out in the same SSE event (default
   * {@link DEFAULT_STREAM_INTERVAL_MS}; 0: every token as it comes). The first and last tokens never wait.
   */
  readonly streamIntervalMs?: number;
  /** Benchmark instrumentation (serveTrace.ts): GET /v1/tokenscope/trace. Off by default. */
  readonly trace?: boolean;
}

const TOKENIZER_PATH = '/tokenscope/tokenizer';
/** See {@link OpenAIServerOptions.streamIntervalMs} and sseStream.ts (measured in bench/server.bench.ts). */
export const DEFAULT_STREAM_INTERVAL_MS = 20;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly queue: FairQueue;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorBody(message: string, type: string, param?: string, code?: string): unknown {
  return { error: { message, type, param: param ?? null, code: code ?? null } };
}

function sendError(res: ServerResponse, status: number, message: string, param?: string, code?: string, headers?: Record<string, string>): void {
  const type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  if (res.headersSent) {
    // Mid-stream: the error goes into the stream (as OpenAI and vLLM do), then it ends.
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(errorBody(message, type, param, code))}\n\ndata: [DONE]\n\n`);
    return;
  }
  sendJson(res, status, errorBody(message, type, param, code), headers);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new RequestError(413, `The request body is larger than ${Math.round(limit / 1e6)} MB.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** llama.cpp's `timings` names, so its clients read ours too. */
function wireTimings(reused: number, timings: GenerationEnd['timings']) {
  return { cache_n: reused, prompt_n: timings.prefilledTokens, prompt_ms: timings.prefillMs, predicted_n: timings.generatedTokens, predicted_ms: timings.decodeMs };
}

function finishReason(reason: string): 'stop' | 'length' {
  return reason === 'length' || reason === 'context' ? 'length' : 'stop';
}

export async function startOpenAIServer(options: OpenAIServerOptions): Promise<RunningServer> {
  const { model } = options;
  const logger = options.logger ?? silentLogger;
  const info = model.info;
  const queue = new FairQueue(1, options.maxWaiting ?? 64);
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const apiKey = options.apiKey ? Buffer.from(options.apiKey) : undefined;
  const tracer = options.trace ? new ServeTrace() : undefined;
  const streamIntervalMs = options.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS;

  // The tokenizer clients need for token-id prompts, as served (hashed once).
  const readJsonFile = async (name: string) => JSON.parse(await readFile(join(info.dir, name), 'utf8')) as unknown;
  const tokenizerJson = await readJsonFile('tokenizer.json');
  const tokenizerConfig = await readJsonFile('tokenizer_config.json').catch(() => ({}));
  const tokenizerBody = JSON.stringify({ tokenizer: tokenizerJson, config: tokenizerConfig });
  const tokenizerSha256 = createHash('sha256').update(JSON.stringify(tokenizerJson)).digest('hex');
  const specialTokens = model.tokenizer.specialTokens;
  const fim = detectFimTemplate({ modelType: info.modelType, builtin: isBuiltinModel(info.id), hasToken: (token) => specialTokens.has(token) || model.tokenizer.tokenToId(token) !== undefined });
  const created = Math.floor(Date.now() / 1000);
  const modelId = info.id === 'mini' ? 'tokenscope-mini' : info.label.split(/[\\/]/).filter(Boolean).pop() ?? info.id;
  const meta: TokenscopeModelMeta = {
    modelType: info.modelType,
    builtin: isBuiltinModel(info.id),
    contextLength: info.contextLength,
    eosTokenIds: info.eosTokenIds,
    // The built-in model has a template but cannot follow instructions (the extension says the same).
    hasChatTemplate: info.hasChatTemplate && !isBuiltinModel(info.id),
    supportsThinking: info.templateSupportsThinking,
    tokenizerPath: TOKENIZER_PATH,
    tokenizerSha256,
  };
  const wireModel: WireModel = { id: modelId, object: 'model', created, owned_by: 'tokenscope', max_model_len: info.contextLength, tokenscope: meta };

  const checkModel = (name: string | undefined) => {
    if (name && name !== modelId && name !== info.id) throw new RequestError(404, `The model "${name}" is not served here; this server serves "${modelId}".`, 'model', 'model_not_found');
  };

  const tokenText = (id: number) => model.tokenizer.decode([id]);
  const tokenBytes = (id: number) => Array.from(model.tokenizer.tokenBytes?.(id) ?? Buffer.from(tokenText(id), 'utf8'));

  /**
   * Waits for a turn (saying so in the stream), then streams the generation's events; aborting
   * `signal` ends either. When the generation fails, the tokens the stream holds go out before the error.
   */
  async function* run(key: string, request: GenerateRequest, signal: AbortSignal, stream: SseStream, trace: RequestTrace | undefined): AsyncGenerator<GenerationEvent> {
    if (queue.active > 0 || queue.waiting > 0) stream.comment(`queued: ${queue.waiting + 1} waiting`);
    const release = await queue.acquire(key, signal);
    try {
      if (!trace) {
        yield* model.generate(request, signal);
        return;
      }
      trace.grantedAt = monotonicMs();
      for await (const event of model.generate(request, signal)) {
        trace.events.push({ type: event.type, at: monotonicMs() });
        if (event.type === 'end') trace.modelMs = { prefill: event.timings.prefillMs, decode: event.timings.decodeMs };
        yield event;
      }
    } catch (error) {
      stream.flush();
      throw error;
    } finally {
      release();
    }
  }

  function completionPrompt(parsed: ParsedCompletionRequest): PromptInput {
    if (parsed.suffix !== undefined) {
      if (!fim.ok) throw new RequestError(400, `'suffix' needs a model with fill-in-the-middle tokens: ${fim.reason}`, 'suffix');
      const prefix = 'text' in parsed.prompt ? parsed.prompt.text : model.tokenizer.decode(parsed.prompt.ids);
      return { kind: 'tokens', ids: encodeParts(model.tokenizer, fim.template.build({ prefix, suffix: parsed.suffix })) };
    }
    // A text prompt is parsed like vLLM's and llama.cpp's: `<|fim_prefix|>` spelled out is the control token.
    if ('text' in parsed.prompt) return { kind: 'tokens', ids: model.tokenizer.encodeWithSpecialTokens(parsed.prompt.text) };
    return { kind: 'tokens', ids: parsed.prompt.ids };
  }

  /**
   * The runtime's request: the prompt as the ids encoded here (the model process does not tokenize
   * it again); max_tokens is capped to the room the prompt leaves (never cutting the prompt), as vLLM does.
   */
  function generateRequest(parsed: ParsedCompletionRequest | ParsedChatRequest, promptIds: readonly number[], topLogprobs: number): GenerateRequest {
    const room = info.contextLength - promptIds.length;
    if (room < 1) throw new RequestError(400, `The prompt is ${promptIds.length} tokens; ${modelId}'s context window is ${info.contextLength} tokens, leaving no room for an answer. Send a shorter prompt.`, parsed.kind === 'chat' ? 'messages' : 'prompt', 'context_length_exceeded');
    return { prompt: { kind: 'tokens', ids: promptIds }, maxTokens: Math.min(parsed.maxTokens, room), sampling: parsed.sampling, stop: parsed.stop, stopTokenIds: parsed.stopTokenIds, topLogprobs };
  }

  async function handleCompletion(res: ServerResponse, parsed: ParsedCompletionRequest, signal: AbortSignal, key: string, trace: RequestTrace | undefined): Promise<void> {
    checkModel(parsed.model);
    const prompt = completionPrompt(parsed);
    const promptIds = model.encodePrompt(prompt);
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const wantLogprobs = parsed.logprobs !== undefined;
    const request = generateRequest(parsed, promptIds, parsed.logprobs ?? 0);
    const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: modelId };
    let offset = 0;
    const logprobsOf = (tokens: readonly TokenEvent[]): WireLegacyLogprobs => {
      const result: WireLegacyLogprobs = {
        tokens: tokens.map((token) => tokenText(token.id)),
        token_logprobs: tokens.map((token) => token.logprob),
        top_logprobs: tokens.map((token) => (parsed.logprobs ? Object.fromEntries(token.top.map((alt) => [alt.text, alt.logprob])) : null)),
        text_offset: tokens.map((token) => {
          const at = offset;
          offset += token.text.length;
          return at;
        }),
      };
      return result;
    };
    const stream = new SseStream(res, {
      streaming: parsed.stream,
      intervalMs: streamIntervalMs,
      trace,
      renderTokens: (tokens) => ({ ...base, choices: [{ index: 0, text: tokens.map((token) => token.text).join(''), logprobs: wantLogprobs ? logprobsOf(tokens) : null, finish_reason: null }] }),
    });
    if (trace) trace.preparedAt = monotonicMs();
    let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let text = '';
    const tokens: TokenEvent[] = [];
    let reason: 'stop' | 'length' = 'stop';
    let reused = 0;
    let timings: ReturnType<typeof wireTimings> | undefined;
    for await (const event of run(key, request, signal, stream, trace)) {
      if (event.type === 'start') {
        reused = event.reusedTokens;
        if (parsed.stream && parsed.returnTokenIds) stream.event({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: null, prompt_token_ids: promptIds }] });
      } else if (event.type === 'token') {
        if (parsed.stream) stream.token(event);
        else tokens.push(event);
        text += event.text;
      } else {
        reason = finishReason(event.finishReason);
        usage = { prompt_tokens: event.timings.promptTokens, completion_tokens: event.timings.generatedTokens, total_tokens: event.timings.promptTokens + event.timings.generatedTokens };
        timings = wireTimings(reused, event.timings);
      }
    }
    if (parsed.stream) {
      stream.event({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: reason }], timings });
      if (parsed.includeUsage) stream.event({ ...base, choices: [], usage });
      stream.done();
      return;
    }
    sendJson(res, 200, { ...base, choices: [{ index: 0, text, logprobs: wantLogprobs ? logprobsOf(tokens) : null, finish_reason: reason, ...(parsed.returnTokenIds ? { prompt_token_ids: promptIds } : {}) }], usage, timings });
  }

  async function handleChat(res: ServerResponse, parsed: ParsedChatRequest, signal: AbortSignal, key: string, trace: RequestTrace | undefined): Promise<void> {
    checkModel(parsed.model);
    if (!meta.hasChatTemplate) throw new RequestError(400, `${modelId} cannot chat (${meta.builtin ? 'the built-in model completes code; it was never trained to follow instructions' : 'it has no chat template: it completes code'}): use /v1/completions, or serve an instruct model.`, 'messages');
    const prompt: PromptInput = { kind: 'chat', messages: parsed.messages, addGenerationPrompt: true, variables: parsed.variables };
    // Rendering errors (a template that rejects the messages) are the request's fault: 400.
    let promptIds: number[];
    try {
      promptIds = model.encodePrompt(prompt);
    } catch (error) {
      throw new RequestError(400, `The chat template rejected these messages: ${error instanceof Error ? error.message : String(error)}`, 'messages');
    }
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const request = generateRequest(parsed, promptIds, parsed.logprobs ? parsed.topLogprobs : 0);
    const base = { id, object: parsed.stream ? 'chat.completion.chunk' : 'chat.completion', created: Math.floor(Date.now() / 1000), model: modelId };
    const entryOf = (token: TokenEvent): WireChatLogprobEntry => ({
      token: tokenText(token.id),
      logprob: token.logprob,
      bytes: tokenBytes(token.id),
      top_logprobs: token.top.slice(0, parsed.topLogprobs).map((alt) => ({ token: alt.text, logprob: alt.logprob, bytes: tokenBytes(alt.id) })),
    });
    const stream = new SseStream(res, {
      streaming: parsed.stream,
      intervalMs: streamIntervalMs,
      trace,
      renderTokens: (tokens) => ({ ...base, choices: [{ index: 0, delta: { content: tokens.map((token) => token.text).join('') }, logprobs: parsed.logprobs ? { content: tokens.map(entryOf) } : null, finish_reason: null }] }),
    });
    if (trace) trace.preparedAt = monotonicMs();
    let usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let content = '';
    const entries: WireChatLogprobEntry[] = [];
    let reason: 'stop' | 'length' = 'stop';
    let reused = 0;
    let timings: ReturnType<typeof wireTimings> | undefined;
    for await (const event of run(key, request, signal, stream, trace)) {
      if (event.type === 'start') {
        reused = event.reusedTokens;
        if (parsed.stream) stream.event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
      } else if (event.type === 'token') {
        content += event.text;
        if (parsed.stream) stream.token(event);
        else if (parsed.logprobs) entries.push(entryOf(event));
      } else {
        reason = finishReason(event.finishReason);
        usage = { prompt_tokens: event.timings.promptTokens, completion_tokens: event.timings.generatedTokens, total_tokens: event.timings.promptTokens + event.timings.generatedTokens };
        timings = wireTimings(reused, event.timings);
      }
    }
    if (parsed.stream) {
      stream.event({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason }], timings });
      if (parsed.includeUsage) stream.event({ ...base, choices: [], usage });
      stream.done();
      return;
    }
    sendJson(res, 200, { ...base, choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: parsed.logprobs ? { content: entries } : null, finish_reason: reason }], usage, timings });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (path === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', model: modelId, active: queue.active, waiting: queue.waiting, ...model.health?.(isLoopbackHost(req.socket.remoteAddress ?? '')) });
      return;
    }
    if (!path.startsWith('/v1/')) {
      sendError(res, 404, `No route ${req.method} ${path}: the API lives under /v1 (e.g. ${'http://host:port'}/v1/models).`);
      return;
    }
    if (apiKey) {
      const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
      if (given.length !== apiKey.length || !timingSafeEqual(given, apiKey)) {
        sendError(res, 401, 'Incorrect or missing API key: send "Authorization: Bearer <key>" (the key given to tokenscope serve with --api-key or TOKENSCOPE_API_KEY).', undefined, 'invalid_api_key');
        return;
      }
    }
    const route = path.slice('/v1'.length);
    if (req.method === 'GET' && route === '/models') {
      sendJson(res, 200, { object: 'list', data: [wireModel] });
      return;
    }
    if (req.method === 'GET' && route.startsWith('/models/')) {
      const name = decodeURIComponent(route.slice('/models/'.length));
      if (name === modelId || name === info.id) sendJson(res, 200, wireModel);
      else sendError(res, 404, `The model "${name}" is not served here; this server serves "${modelId}".`, 'model', 'model_not_found');
      return;
    }
    if (tracer && req.method === 'GET' && route === TRACE_PATH) {
      const eventLoop = url.searchParams.get('eventLoop');
      sendJson(res, 200, tracer.take(eventLoop === 'on' ? true : eventLoop === 'off' ? false : undefined));
      return;
    }
    if (req.method === 'GET' && route === TOKENIZER_PATH) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(tokenizerBody) });
      res.end(tokenizerBody);
      return;
    }
    if (route !== '/completions' && route !== '/chat/completions') {
      sendError(res, 404, `No route ${req.method} ${path}. tokenscope serve answers GET /v1/models, POST /v1/completions and POST /v1/chat/completions.`);
      return;
    }
    if (req.method !== 'POST') {
      sendError(res, 405, `${path} takes POST.`, undefined, undefined, { Allow: 'POST' });
      return;
    }
    const trace = tracer?.begin(route);
    const text = await readBody(req, maxBody);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new RequestError(400, `The request body is not valid JSON (${error instanceof Error ? error.message : String(error)}).`);
    }
    const parsed = route === '/completions' ? parseCompletionRequest(body) : parseChatRequest(body);
    // Client disconnect (or the response closing early) cancels: its turn in line, or its generation.
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    // One line of the fair queue per client: its `user`, else its address (an editor aborts and
    // reconnects often, so a connection is no identity; editors on one machine share a line).
    const key = parsed.user ? `user:${parsed.user}` : `address:${req.socket.remoteAddress ?? 'unknown'}`;
    const started = performance.now();
    try {
      if (parsed.kind === 'completion') await handleCompletion(res, parsed, controller.signal, key, trace);
      else await handleChat(res, parsed, controller.signal, key, trace);
      if (trace) trace.endedAt = monotonicMs();
      logger.debug('request done', { route, ms: Math.round(performance.now() - started), stream: parsed.stream });
    } catch (error) {
      if (controller.signal.aborted) {
        logger.info('client went away; generation cancelled', { route, ms: Math.round(performance.now() - started) });
        return;
      }
      throw error;
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof RequestError) {
        sendError(res, error.status, error.message, error.param, error.code);
      } else if (error instanceof QueueFullError) {
        sendError(res, 429, `The server is busy (${error.waiting} requests waiting for the model). Try again shortly.`, undefined, 'queue_full', { 'Retry-After': '2' });
      } else if (error instanceof RangeError) {
        sendError(res, 400, error.message);
      } else if (error instanceof ModelError && error.code === 'process') {
        // The model process crashed or is restarting: the client may retry shortly (ours does, before any byte).
        logger.warn('request failed: the model process is not available', { message: error.message });
        sendError(res, 503, error.message, undefined, 'model_unavailable', { 'Retry-After': '1' });
      } else {
        logger.error('request failed', { message: error instanceof Error ? error.message : String(error) });
        sendError(res, 500, `The model failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}/v1`,
    port: address.port,
    queue,
    close: () =>
      new Promise<void>((resolve) => {
        tracer?.dispose();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
