/**
 * `--server <baseURL> [--server-model NAME]`, shared by every command that runs a model: the same
 * command then runs on an OpenAI-compatible server instead of a local model. The API key comes from
 * TOKENSCOPE_API_KEY (never a flag: flags end up in shell history), extra headers from
 * TOKENSCOPE_SERVER_HEADERS (a JSON object), a proxy from HTTPS_PROXY / HTTP_PROXY.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerConnection } from '../core/openai/server';
import { TokenizerRegistry } from '../core/tokenizers/registry';
import { UsageError } from './command';
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
