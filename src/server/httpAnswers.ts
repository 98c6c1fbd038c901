/**
 * The HTTP side of `tokenscope serve`'s answers: JSON bodies, errors in OpenAI's shape (`{error:
 * {message, type, param, code}}`, with the type its status implies; inside the stream when one has
 * begun, as OpenAI and vLLM do), the request body read up to a size limit, and what each failure
 * becomes (`sendFailure`: 400 for the request's faults, 429 when the line is full, 503 while the
 * model process restarts, 500 otherwise).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ModelError } from '../core/models/errors';
import { QueueFullError } from '../core/openai/fairQueue';
import { RequestError } from '../core/openai/serveRequests';
import type { RuntimeLogger } from '../core/runtime/types';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function errorBody(message: string, type: string, param?: string, code?: string): unknown {
  return { error: { message, type, param: param ?? null, code: code ?? null } };
}

export function sendError(res: ServerResponse, status: number, message: string, param?: string, code?: string, headers?: Record<string, string>): void {
  const type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  if (res.headersSent) {
    // Mid-stream: the error goes into the stream (as OpenAI and vLLM do), then it ends.
    if (!res.writableEnded) res.end(`data: ${JSON.stringify(errorBody(message, type, param, code))}\n\ndata: [DONE]\n\n`);
    return;
  }
  sendJson(res, status, errorBody(message, type, param, code), headers);
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
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

/** Answers a request that failed with what its error means for the client. */
export function sendFailure(res: ServerResponse, error: unknown, logger: RuntimeLogger): void {
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
}
