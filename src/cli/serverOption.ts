/**
 * `--server <baseURL> [--server-model NAME]`, shared by every command that runs a model: the same
 * command then runs on an OpenAI-compatible server instead of a local model. The API key comes from
 * TOKENSCOPE_API_KEY (never a flag: flags end up in shell history), extra headers from
 * TOKENSCOPE_SERVER_HEADERS (a JSON object), a proxy from HTTPS_PROXY / HTTP_PROXY.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inertText } from '../core/completions/fimTemplates';
import type { ChatCompletionChunk, ChatCompletionRequestBody, CompletionChunk, CompletionRequestBody, WireChatLogprobs, WireLegacyLogprobs, WireUsage } from '../core/openai/protocol';
import { capabilitiesOf, ServerConnection } from '../core/openai/server';
import { TokenizerRegistry } from '../core/tokenizers/registry';
import { UsageError, type CliIO } from './command';
import { packageRoot } from './packageRoot';

export const serverFlagNames = ['server', 'server-model'] as const;

export const serverUsage = `  --server URL            run on an OpenAI-compatible server instead of a local model, e.g.
                          http://127.0.0.1:8000/v1 (vLLM), http://127.0.0.1:11434/v1 (Ollama),
                          a \`tokenscope serve\`; API key from TOKENSCOPE_API_KEY
  --server-model NAME     the server's model (default: its first in /models)`;

export interface ServerChoice {
  readonly connection: ServerConnection;
  readonly model: string;
}

function headersFromEnv(): Record<string, string> | undefined {
  const raw = process.env.TOKENSCOPE_SERVER_HEADERS;
  if (!raw) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError('TOKENSCOPE_SERVER_HEADERS must be a JSON object of header names to values, e.g. {"X-Team": "ml"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === 'string')) {
    throw new UsageError('TOKENSCOPE_SERVER_HEADERS must be a JSON object of header names to string values');
  }
  return parsed as Record<string, string>;
}

/** The server the flags name, or undefined without --server; --model together with --server is a usage error. */
export function serverFromFlags(strings: Map<string, string>): ServerChoice | undefined {
  const url = strings.get('server');
  if (url === undefined) {
    if (strings.has('server-model')) throw new UsageError('--server-model needs --server');
    return undefined;
  }
  if (strings.has('model')) throw new UsageError('give either --model (a local model) or --server (a server), not both');
  let connection: ServerConnection;
  try {
    connection = new ServerConnection({
      baseUrl: url,
      apiKey: process.env.TOKENSCOPE_API_KEY || undefined,
      headers: headersFromEnv(),
      proxy: process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy || undefined,
      cacheDir: join(tmpdir(), 'tokenscope-server-tokenizers'),
      tokenizers: new TokenizerRegistry({ rootDir: packageRoot() }),
    });
  } catch (error) {
    throw new UsageError(`--server: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { connection, model: strings.get('server-model') ?? '' };
}

export interface ServerGenerateOptions {
  readonly prompt: string;
  readonly chat: boolean;
  readonly thinking?: 'on' | 'off';
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
  readonly stop?: string;
  readonly topLogprobs: number;
  readonly json: boolean;
}

interface TokenOut {
  text: string;
  logprob?: number;
  top?: { text: string; logprob: number }[];
}

/**
 * `tokenscope generate --server`: the prompt as a completion (special-token spellings in it made
 * inert, as a local prompt keeps them plain text) or, with --chat, as one user message; tokens and
 * logprobs from the server's answer in either shape.
 */
export async function generateOnServer(choice: ServerChoice, options: ServerGenerateOptions, io: CliIO): Promise<number> {
  const { connection } = choice;
  const model = await connection.model(choice.model, io.signal);
  const flavour = await connection.flavour(io.signal);
  const capabilities = capabilitiesOf(flavour);
  const sampling = {
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.topP !== undefined ? { top_p: options.topP } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.stop !== undefined ? { stop: [options.stop] } : {}),
  };
  const tokens: TokenOut[] = [];
  let text = '';
  let reasoning = '';
  let finishReason: string | undefined;
  let usage: WireUsage | undefined;
  const started = performance.now();
  const write = (piece: string) => {
    text += piece;
    if (!options.json) io.stdout.write(piece);
  };
  try {
    if (options.chat) {
      const body: ChatCompletionRequestBody = {
        model: model.id,
        messages: [{ role: 'user', content: options.prompt }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: options.maxTokens,
        ...sampling,
        ...(options.json && capabilities.chatLogprobs ? { logprobs: true, ...(options.topLogprobs > 0 ? { top_logprobs: options.topLogprobs } : {}) } : {}),
        ...(options.thinking && capabilities.chatTemplateKwargs ? { chat_template_kwargs: { enable_thinking: options.thinking === 'on' } } : {}),
      };
      for await (const chunk of connection.client.stream<ChatCompletionChunk>('/chat/completions', body, io.signal)) {
        if (chunk.usage) usage = chunk.usage;
        const entry = chunk.choices?.[0];
        if (!entry) continue;
        finishReason = entry.finish_reason ?? finishReason;
        reasoning += entry.delta?.reasoning_content ?? entry.delta?.reasoning ?? '';
        for (const lp of entry.logprobs?.content ?? []) tokens.push({ text: lp.token, logprob: lp.logprob, top: (lp.top_logprobs ?? []).map((alt) => ({ text: alt.token, logprob: alt.logprob })) });
        if (entry.delta?.content) write(entry.delta.content);
      }
    } else {
      const body: CompletionRequestBody = {
        model: model.id,
        prompt: inertText(options.prompt),
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: options.maxTokens,
        ...sampling,
        ...(options.json ? { logprobs: options.topLogprobs } : {}),
      };
      for await (const chunk of connection.client.stream<CompletionChunk>('/completions', body, io.signal)) {
        if (chunk.usage) usage = chunk.usage;
        const entry = chunk.choices?.[0];
        if (!entry) continue;
        finishReason = entry.finish_reason ?? finishReason;
        const legacy = entry.logprobs as WireLegacyLogprobs | null | undefined;
        const chatShape = (entry.logprobs as WireChatLogprobs | null | undefined)?.content;
        if (Array.isArray(chatShape)) for (const lp of chatShape) tokens.push({ text: lp.token, logprob: lp.logprob, top: (lp.top_logprobs ?? []).map((alt: { token: string; logprob: number }) => ({ text: alt.token, logprob: alt.logprob })) });
        else if (legacy?.tokens) legacy.tokens.forEach((token, index) => tokens.push({ text: token, logprob: legacy.token_logprobs?.[index] ?? undefined, top: Object.entries(legacy.top_logprobs?.[index] ?? {}).map(([alt, logprob]) => ({ text: alt, logprob })) }));
        if (entry.text) write(entry.text);
      }
    }
  } catch (error) {
    if (error instanceof Error && error.name === 'AbortError') {
      if (!options.json) io.stdout.write('\n');
      io.stderr.write('tokenscope generate: interrupted\n');
      return 130;
    }
    throw error;
  } finally {
    await connection.close();
  }
  const totalMs = Math.round(performance.now() - started);
  const server = { url: connection.baseUrl, model: model.id, flavour };
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ text, ...(reasoning ? { reasoning } : {}), tokens, logprobs: tokens.length > 0 ? 'returned' : 'not returned by the server', finishReason: finishReason ?? null, usage: usage ?? null, server, timings: { totalMs } })}\n`);
  } else {
    io.stdout.write('\n');
    const counts = usage ? `${usage.prompt_tokens ?? '?'} prompt tokens, ${usage.completion_tokens ?? '?'} generated (the server's count)` : 'the server sent no usage';
    io.stderr.write(`[${finishReason ?? 'unknown'}] ${counts}; ${totalMs} ms; ${model.id} on ${connection.name} (${flavour})\n`);
  }
  return 0;
}
