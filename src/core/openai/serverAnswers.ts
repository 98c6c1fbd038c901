/**
 * Reading what an OpenAI-compatible server answered: one JSON document (`parseDocument`), or a
 * server-sent-events stream (`readEventStream`, parsed with eventsource-parser) yielding each
 * event's JSON until `data: [DONE]`. Whatever is not the API is said as such: a web page, text
 * that is not JSON, a malformed stream line, an error reported inside the stream, a stream that
 * ends without `[DONE]`.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { errorMessageOf } from './protocol';
import type { FetchResponse, RequestCall } from './requestCall';
import { htmlPageError, ServerError, type ServerIdentity } from './serverError';

/** A JSON answer, or the ServerError it stands for (a web page, not JSON, an API error object). */
export function parseDocument<T>(server: ServerIdentity, text: string, contentType: string, status: number, path: string): T {
  const trimmed = text.trimStart();
  if (/html/i.test(contentType) || trimmed.startsWith('<')) throw htmlPageError(server, status, path);
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    throw new ServerError('protocol', `${server.name} answered ${path} with something that is not JSON (${JSON.stringify(trimmed.slice(0, 80))}): is ${server.baseUrl} an OpenAI-compatible API? The base URL usually ends in /v1.`, status);
  }
  const message = errorMessageOf(value);
  if (message !== undefined && (value as { choices?: unknown; data?: unknown }).choices === undefined && (value as { data?: unknown }).data === undefined) {
    throw new ServerError('stream-error', `${server.name} reported an error: ${message}`, status);
  }
  return value as T;
}

/** Yields each SSE event's JSON until `data: [DONE]`; aborts the request if the consumer stops first. */
export async function* readEventStream<T>(server: ServerIdentity, response: FetchResponse, call: RequestCall, path: string): AsyncGenerator<T> {
  if (!response.body) throw new ServerError('protocol', `${server.name} answered ${path} with an empty body. Check the server URL.`, response.status);
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
      if (badLine !== undefined && pending.length === 0) throw badStreamLine(server, badLine);
      while (pending.length > 0 && !done) {
        const event = pending.shift()!;
        if (event.data.trim() === '[DONE]') {
          done = true;
          break;
        }
        yield parseEvent<T>(server, event.data);
      }
      if (badLine !== undefined && !done) throw badStreamLine(server, badLine);
    }
    if (done) return;
  } catch (error) {
    if (error instanceof ServerError) throw error;
    throw call.translate(error, server, received > 0 ? 'streaming' : 'waiting for the answer');
  } finally {
    if (!done) call.abort();
  }
  parser.feed('\n\n');
  for (const event of pending) {
    if (event.data.trim() === '[DONE]') return;
    yield parseEvent<T>(server, event.data);
  }
  if (badLine !== undefined) throw badStreamLine(server, badLine);
  throw new ServerError('dropped', `${server.name} ended the stream before it finished (no "data: [DONE]"): the answer may be cut short. The server may have restarted or hit an error; see its log and try again.`);
}

function badStreamLine(server: ServerIdentity, line: string): ServerError {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const message = errorMessageOf(JSON.parse(trimmed));
      if (message) return new ServerError('stream-error', `${server.name} reported an error in the middle of the answer: ${message}`);
    } catch {
      // Fall through: malformed.
    }
  }
  if (trimmed.startsWith('<')) return htmlPageError(server, 200, 'the stream');
  return new ServerError('protocol', `${server.name} sent a malformed stream line (${JSON.stringify(trimmed.slice(0, 80))}), not server-sent events: is it an OpenAI-compatible server? Check the URL; if it is, see its log.`);
}

function parseEvent<T>(server: ServerIdentity, data: string): T {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    throw new ServerError('protocol', `${server.name} sent a malformed stream event (not JSON: ${JSON.stringify(data.slice(0, 80))}). The server or a proxy in between garbled the stream; try again, and see the server's log if it persists.`);
  }
  if (typeof value !== 'object' || value === null) throw new ServerError('protocol', `${server.name} sent a stream event that is not an object (${JSON.stringify(data.slice(0, 80))}).`);
  const message = (value as { error?: unknown }).error !== undefined ? (errorMessageOf(value) ?? JSON.stringify((value as { error?: unknown }).error)) : undefined;
  if (message !== undefined) throw new ServerError('stream-error', `${server.name} reported an error in the middle of the answer: ${message}`);
  return value as T;
}
