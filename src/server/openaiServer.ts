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
 *
 * Its parts: servedModel.ts (the model and its description on the wire), generationRoutes.ts
 * (/v1/completions and /v1/chat/completions), httpAnswers.ts (JSON, errors, bodies). This file
 * starts the server and routes each request.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../core/openai/client';
import { FairQueue } from '../core/openai/fairQueue';
import { parseChatRequest, parseCompletionRequest, RequestError } from '../core/openai/serveRequests';
import type { RuntimeLogger } from '../core/runtime/types';
import { silentLogger } from '../core/runtime/types';
import { createGenerationRoutes } from './generationRoutes';
import { readBody, sendError, sendFailure, sendJson } from './httpAnswers';
import { describeServedModel, TOKENIZER_PATH, type ServedModel } from './servedModel';
import { monotonicMs, ServeTrace, TRACE_PATH } from './serveTrace';

export type { ServedModel } from './servedModel';

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

/** See {@link OpenAIServerOptions.streamIntervalMs} and sseStream.ts (measured in bench/server.bench.ts). */
export const DEFAULT_STREAM_INTERVAL_MS = 20;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly queue: FairQueue;
  close(): Promise<void>;
}

export async function startOpenAIServer(options: OpenAIServerOptions): Promise<RunningServer> {
  const { model } = options;
  const logger = options.logger ?? silentLogger;
  const info = model.info;
  const queue = new FairQueue(1, options.maxWaiting ?? 64);
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const apiKey = options.apiKey ? Buffer.from(options.apiKey) : undefined;
  const tracer = options.trace ? new ServeTrace() : undefined;
  const served = await describeServedModel(model);
  const { modelId, wireModel, tokenizerBody } = served;
  const routes = createGenerationRoutes({ model, served, queue, streamIntervalMs: options.streamIntervalMs ?? DEFAULT_STREAM_INTERVAL_MS });

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
      if (parsed.kind === 'completion') await routes.completion(res, parsed, controller.signal, key, trace);
      else await routes.chat(res, parsed, controller.signal, key, trace);
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
    handle(req, res).catch((error: unknown) => sendFailure(res, error, logger));
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
