import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isLoopbackHost } from '../core/openai/client';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import type { RuntimeLogger } from '../core/runtime/types';
import { DEFAULT_STREAM_INTERVAL_MS, startOpenAIServer } from '../server/openaiServer';
import { ProcessServedModel } from '../server/processModel';
import { SERVE_TRACE_ENV } from '../server/serveTrace';
import { numberFlag, parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { packageRoot } from './packageRoot';
import { threadsFlag, variantFlag } from './modelFlags';

const usage = `Usage: tokenscope serve --model <dir|id> [--host 127.0.0.1] [--port 8765] [--api-key K]

Serves a local model over the OpenAI-compatible API (the same engine as the editor, in its own
model process, as in the editor), so several editors share one loaded model and any OpenAI client (Continue, the openai SDK, curl) can use it:
GET /v1/models, POST /v1/completions, POST /v1/chat/completions (streaming and not, logprobs,
usage, stop, max_tokens, temperature, top_p, seed). Requests take turns fairly; a client that
disconnects cancels its generation.

Options:
  --model <dir|id>   \`mini\` (built-in) or a Hugging Face ONNX model folder
  --host H           address to listen on (default 127.0.0.1: this machine only). Any other address
                     needs an API key
  --port N           port (default 8765; 0 picks a free one)
  --api-key K        require "Authorization: Bearer K" (default: TOKENSCOPE_API_KEY, if set)
  --variant V        ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N        ONNX Runtime threads (default: physical cores, at most 4)
  --max-waiting N    requests that may wait for the model (default 64; more get 429)
  --stream-interval-ms MS
                     longest a streamed token waits to go out with the next ones in one event
                     (default ${DEFAULT_STREAM_INTERVAL_MS}; 0: every token on its own). The first and last never wait
  --verbose          log every request to stderr

Prints "tokenscope serve: listening on <URL>" once ready; stop it with Ctrl+C.

Examples:
  tokenscope serve --model mini
  TOKENSCOPE_API_KEY=secret tokenscope serve --model ~/models/Qwen2.5-Coder-0.5B-Instruct --host 0.0.0.0`;

function stderrLogger(io: CliIO, verbose: boolean): RuntimeLogger {
  const write = (level: string) => (message: string, data?: Readonly<Record<string, unknown>>) => io.stderr.write(`[${level}] ${message}${data ? ` ${JSON.stringify(data)}` : ''}\n`);
  const quiet = () => undefined;
  return { debug: verbose ? write('debug') : quiet, info: verbose ? write('info') : quiet, warn: write('warn'), error: write('error') };
}

/**
 * How to start the model process: dist/cli.js runs dist/modelProcess.js beside it; from source
 * (tsx) the TypeScript entry, with the loader flags this process was started with.
 */
function modelProcessEntry(): { entry: string; execArgv: readonly string[] } {
  const bundled = join(__dirname, 'modelProcess.js');
  if (existsSync(bundled)) return { entry: bundled, execArgv: [] };
  return { entry: join(packageRoot(), 'src', 'model-process', 'main.ts'), execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')) };
}

export const serveCommand: CliCommand = {
  name: 'serve',
  summary: 'Serve a local model over the OpenAI-compatible API (/v1/completions, /v1/chat/completions)',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model', 'host', 'port', 'api-key', 'variant', 'threads', 'max-waiting', 'stream-interval-ms'], booleans: ['verbose'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const modelRef = strings.get('model');
    if (!modelRef) throw new UsageError('--model is required (`mini` or a model folder)');
    const host = strings.get('host') ?? '127.0.0.1';
    const port = numberFlag(strings, 'port', 8765, { min: 0, max: 65535, integer: true });
    const threads = threadsFlag(strings);
    const maxWaiting = numberFlag(strings, 'max-waiting', 64, { min: 1, max: 10_000, integer: true });
    const streamIntervalMs = numberFlag(strings, 'stream-interval-ms', DEFAULT_STREAM_INTERVAL_MS, { min: 0, max: 1000 });
    const variant = variantFlag(strings);
    const apiKey = strings.get('api-key') ?? (process.env.TOKENSCOPE_API_KEY || undefined);
    if (!isLoopbackHost(host) && !apiKey) {
      throw new UsageError(`--host ${host} lets other machines send code to this model: give an API key too (--api-key, or TOKENSCOPE_API_KEY), or keep the default --host 127.0.0.1`);
    }
    const logger = stderrLogger(io, booleans.has('verbose'));
    const model = await ProcessServedModel.start({ load: { model: modelRef, variant, threads }, packageRoot: packageRoot(), cwd: process.cwd(), ...modelProcessEntry(), logger });
    let server;
    try {
      server = await startOpenAIServer({ model, host, port, apiKey, logger, maxWaiting, streamIntervalMs, trace: process.env[SERVE_TRACE_ENV] === '1' });
    } catch (error) {
      await model.dispose();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new Error(`port ${port} on ${host} is already in use: stop what listens there, or pick another with --port (0 picks a free one)`);
      if (code === 'EADDRNOTAVAIL') throw new Error(`${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its own addresses`);
      throw error;
    }
    io.stderr.write(`tokenscope serve: ${model.info.label} (${model.info.variant}, ${model.info.contextLength}-token context) loaded in ${model.info.loadMs} ms\n`);
    io.stdout.write(`tokenscope serve: listening on ${server.url}${apiKey ? ' (API key required)' : ''}\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      process.once('SIGTERM', () => resolve());
    });
    io.stderr.write('tokenscope serve: stopping\n');
    await server.close();
    await model.dispose();
    return 0;
  },
};
