/**
 * What `tokenscope serve` accepts on /v1/completions and /v1/chat/completions, checked field by
 * field: a wrong type or value is a 400 with an OpenAI-style error naming the parameter (as vLLM's
 * validators do), never an exception deep in the runtime. Pure functions of the parsed JSON body.
 */
import type { ChatTemplateMessage, JsonValue, SamplingOptions } from '../runtime/types';

export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

interface Common {
  readonly model?: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly maxTokens: number;
  readonly sampling: SamplingOptions;
  readonly stop: readonly string[];
  readonly stopTokenIds: readonly number[];
  /** The client's own id (OpenAI's `user`): its requests share one line of the fair queue. */
  readonly user?: string;
}

export interface ParsedCompletionRequest extends Common {
  readonly kind: 'completion';
  readonly prompt: { readonly text: string } | { readonly ids: readonly number[] };
  readonly suffix?: string;
  /** Legacy logprobs: alternatives per token (0 still reports the chosen token's); undefined: none. */
  readonly logprobs?: number;
  /** vLLM's `return_token_ids`: the prompt's token ids come back (what the model really saw). */
  readonly returnTokenIds: boolean;
}

export interface ParsedChatRequest extends Common {
  readonly kind: 'chat';
  readonly messages: readonly ChatTemplateMessage[];
  readonly logprobs: boolean;
  readonly topLogprobs: number;
  readonly variables: Readonly<Record<string, JsonValue>>;
}

export const MAX_LOGPROBS = 20;
const MAX_STOP = 16;
const DEFAULT_COMPLETION_MAX_TOKENS = 16;
const DEFAULT_CHAT_MAX_TOKENS = 512;

type Body = Record<string, unknown>;

function asBody(value: unknown): Body {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError(400, 'The request body must be a JSON object.');
  return value as Body;
}

function optionalNumber(body: Body, name: string, check: (value: number) => boolean, rule: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw new RequestError(400, `'${name}' must be ${rule}, got ${JSON.stringify(value)}.`, name);
  return value;
}

function optionalBoolean(body: Body, name: string): boolean | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new RequestError(400, `'${name}' must be true or false, got ${JSON.stringify(value)}.`, name);
  return value;
}

function optionalString(body: Body, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new RequestError(400, `'${name}' must be a string, got ${JSON.stringify(value)}.`, name);
  return value;
}

const isInteger = (value: number) => Number.isInteger(value);

function common(body: Body, defaultMaxTokens: number, maxTokensName: 'max_tokens' | 'max_completion_tokens' = 'max_tokens'): Common {
  const n = optionalNumber(body, 'n', isInteger, 'an integer');
  if (n !== undefined && n !== 1) throw new RequestError(400, `'n' must be 1: tokenscope serve returns one choice per request.`, 'n');
  const stream = optionalBoolean(body, 'stream') ?? false;
  const streamOptions = body.stream_options;
  let includeUsage = false;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (typeof streamOptions !== 'object' || Array.isArray(streamOptions)) throw new RequestError(400, `'stream_options' must be an object.`, 'stream_options');
    if (!stream) throw new RequestError(400, `'stream_options' is only allowed with "stream": true.`, 'stream_options');
    includeUsage = optionalBoolean(streamOptions as Body, 'include_usage') ?? false;
  }
  const maxTokens = optionalNumber(body, maxTokensName, (v) => isInteger(v) && v >= 1, 'a positive integer') ?? optionalNumber(body, 'max_tokens', (v) => isInteger(v) && v >= 1, 'a positive integer') ?? defaultMaxTokens;
  const temperature = optionalNumber(body, 'temperature', (v) => v >= 0 && v <= 2, 'between 0 and 2');
  const topP = optionalNumber(body, 'top_p', (v) => v > 0 && v <= 1, 'greater than 0 and at most 1');
  const topK = optionalNumber(body, 'top_k', (v) => isInteger(v) && v >= -1, 'an integer >= -1');
  const seed = optionalNumber(body, 'seed', (v) => isInteger(v) && v >= 0 && v < 2 ** 31, 'an integer from 0 to 2147483647');
  const repetitionPenalty = optionalNumber(body, 'repetition_penalty', (v) => v > 0 && v <= 10, 'greater than 0 and at most 10');
  const sampling: SamplingOptions = {
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(topK !== undefined ? { topK: topK === -1 ? 0 : topK } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(repetitionPenalty !== undefined ? { repetitionPenalty } : {}),
  };
  const rawStop = body.stop;
  let stop: string[] = [];
  if (typeof rawStop === 'string') stop = [rawStop];
  else if (Array.isArray(rawStop)) {
    if (!rawStop.every((entry) => typeof entry === 'string')) throw new RequestError(400, `'stop' must be a string or a list of strings.`, 'stop');
    stop = rawStop as string[];
  } else if (rawStop !== undefined && rawStop !== null) throw new RequestError(400, `'stop' must be a string or a list of strings.`, 'stop');
  if (stop.length > MAX_STOP) throw new RequestError(400, `'stop' may hold at most ${MAX_STOP} strings, got ${stop.length}.`, 'stop');
  stop = stop.filter((entry) => entry.length > 0);
  const rawStopIds = body.stop_token_ids;
  let stopTokenIds: number[] = [];
  if (rawStopIds !== undefined && rawStopIds !== null) {
    if (!Array.isArray(rawStopIds) || !rawStopIds.every((id) => Number.isInteger(id) && id >= 0)) throw new RequestError(400, `'stop_token_ids' must be a list of token ids.`, 'stop_token_ids');
    stopTokenIds = rawStopIds as number[];
  }
  const model = optionalString(body, 'model');
  const user = optionalString(body, 'user');
  return { ...(model ? { model } : {}), stream, includeUsage, maxTokens, sampling, stop, stopTokenIds, ...(user ? { user } : {}) };
}

export function parseCompletionRequest(value: unknown): ParsedCompletionRequest {
  const body = asBody(value);
  if (optionalBoolean(body, 'echo')) throw new RequestError(400, `'echo' is not supported by tokenscope serve.`, 'echo');
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) throw new RequestError(400, `'best_of' must be 1.`, 'best_of');
  const raw = body.prompt;
  let prompt: ParsedCompletionRequest['prompt'];
  // A one-element list is the same single prompt (the OpenAI SDK's list forms).
  const single = Array.isArray(raw) && raw.length === 1 && (typeof raw[0] === 'string' || Array.isArray(raw[0])) ? raw[0] : raw;
  if (typeof single === 'string') {
    if (single.length === 0) throw new RequestError(400, `'prompt' must not be empty.`, 'prompt');
    prompt = { text: single };
  } else if (Array.isArray(single) && single.length > 0 && single.every((id) => Number.isInteger(id) && id >= 0)) {
    prompt = { ids: single as number[] };
  } else if (Array.isArray(single) && single.length > 1) {
    throw new RequestError(400, `'prompt' holds ${single.length} prompts; tokenscope serve takes one prompt per request (a string or a list of token ids).`, 'prompt');
  } else {
    throw new RequestError(400, `'prompt' must be a non-empty string or a list of token ids.`, 'prompt');
  }
  const logprobs = optionalNumber(body, 'logprobs', (v) => isInteger(v) && v >= 0 && v <= MAX_LOGPROBS, `an integer from 0 to ${MAX_LOGPROBS}`);
  const suffix = optionalString(body, 'suffix');
  return {
    kind: 'completion',
    ...common(body, DEFAULT_COMPLETION_MAX_TOKENS),
    prompt,
    ...(suffix !== undefined && suffix !== '' ? { suffix } : {}),
    ...(logprobs !== undefined ? { logprobs } : {}),
    returnTokenIds: optionalBoolean(body, 'return_token_ids') ?? false,
  };
}

function messageContent(value: unknown, index: number): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    return value
      .map((part, partIndex) => {
        if (typeof part === 'object' && part !== null && (part as Body).type === 'text' && typeof (part as Body).text === 'string') return (part as Body).text as string;
        throw new RequestError(400, `messages[${index}].content[${partIndex}]: tokenscope serve takes text parts only ({"type": "text", "text": ...}).`, `messages[${index}].content`);
      })
      .join('');
  }
  throw new RequestError(400, `messages[${index}].content must be a string or a list of text parts.`, `messages[${index}].content`);
}

export function parseChatRequest(value: unknown): ParsedChatRequest {
  const body = asBody(value);
  const raw = body.messages;
  if (!Array.isArray(raw) || raw.length === 0) throw new RequestError(400, `'messages' must be a non-empty list.`, 'messages');
  const messages = raw.map((entry, index): ChatTemplateMessage => {
    if (typeof entry !== 'object' || entry === null) throw new RequestError(400, `messages[${index}] must be an object with "role" and "content".`, `messages[${index}]`);
    const role = (entry as Body).role;
    const known = role === 'system' || role === 'user' || role === 'assistant' || role === 'tool' ? role : role === 'developer' ? 'system' : undefined;
    if (!known) throw new RequestError(400, `messages[${index}].role must be "system", "user", "assistant" or "tool", got ${JSON.stringify(role)}.`, `messages[${index}].role`);
    const reasoning = (entry as Body).reasoning_content;
    return { role: known, content: messageContent((entry as Body).content, index), ...(typeof reasoning === 'string' ? { reasoning_content: reasoning } : {}) };
  });
  if (body.tools !== undefined && body.tools !== null && (!Array.isArray(body.tools) || body.tools.length > 0)) throw new RequestError(400, `'tools' are not supported by tokenscope serve.`, 'tools');
  const logprobs = optionalBoolean(body, 'logprobs') ?? false;
  const topLogprobs = optionalNumber(body, 'top_logprobs', (v) => isInteger(v) && v >= 0 && v <= MAX_LOGPROBS, `an integer from 0 to ${MAX_LOGPROBS}`) ?? 0;
  if (topLogprobs > 0 && !logprobs) throw new RequestError(400, `'top_logprobs' needs "logprobs": true.`, 'top_logprobs');
  const kwargs = body.chat_template_kwargs;
  if (kwargs !== undefined && kwargs !== null && (typeof kwargs !== 'object' || Array.isArray(kwargs))) throw new RequestError(400, `'chat_template_kwargs' must be an object.`, 'chat_template_kwargs');
  return {
    kind: 'chat',
    ...common(body, DEFAULT_CHAT_MAX_TOKENS, 'max_completion_tokens'),
    messages,
    logprobs,
    topLogprobs,
    variables: (kwargs ?? {}) as Record<string, JsonValue>,
  };
}
