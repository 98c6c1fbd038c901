import { readFile } from 'node:fs/promises';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { LocalModel } from '../core/runtime/localModel';
import { fitGenerationSettings } from '../core/runtime/requestLimits';
import { GenerationAbortedError, type GenerateRequest, type GenerationEnd, type GenerationStart, type PromptInput, type RuntimeLogger, type SamplingOptions, type TokenEvent } from '../core/runtime/types';
import { numberFlag, parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { packageRoot } from './packageRoot';
import { generateOnServer, serverFlagNames, serverFromFlags, serverUsage } from './serverOption';
import { threadsFlag, variantFlag } from './modelFlags';

const usage = `Usage: tokenscope generate (--model <dir|id> | --server URL) (--prompt S | --prompt-file F) [options]

Generates text with a local ONNX model (the same engine the extension runs in its model process).

Options:
  --model <dir|id>        \`mini\` (built-in), a catalog id or org/name in the HF cache (tokenscope models), or a model folder
${serverUsage}
  --prompt S              the prompt text (special-token strings in it stay plain text)
  --prompt-file F         read the prompt from a file (\`-\` for standard input)
  --chat                  wrap the prompt as a user message in the model's chat template
  --thinking on|off       with --chat: ask a reasoning model to think or not (Qwen3 enable_thinking)
  --max-tokens N          most tokens to generate (default 128)
  --temperature T         0 = greedy (default: the model's generation_config.json)
  --top-p P               nucleus sampling mass, (0, 1]
  --top-k K               sample among the K most likely tokens (0 = off)
  --repetition-penalty R  > 1 discourages repeats
  --seed S                sampling seed (same seed, same output)
  --stop S                stop when the output contains S
  --top-logprobs K        alternatives per token in --json output (0-20, default 5)
  --variant V             ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N             ONNX Runtime threads (default: physical cores, at most 4)
  --json                  print {text, tokens:[{id,text,logprob,top}], timings} instead of streaming
  --verbose               log loading details to stderr

Without --json the text streams to stdout and the timings go to stderr.

Examples:
  tokenscope generate --model test/fixtures/models/tiny-qwen2 --prompt hi --json
  tokenscope generate --model ~/models/Qwen2.5-Coder-0.5B-Instruct --chat --prompt "Write fizzbuzz in Go"`;

function stderrLogger(io: CliIO): RuntimeLogger {
  const write = (level: string) => (message: string, data?: Readonly<Record<string, unknown>>) => io.stderr.write(`[${level}] ${message}${data ? ` ${JSON.stringify(data)}` : ''}\n`);
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** The prompt of --prompt or --prompt-file (`-`: standard input); a usage error when neither or both. */
export async function readPrompt(strings: Map<string, string>, io: CliIO): Promise<string> {
  const inline = strings.get('prompt');
  const file = strings.get('prompt-file');
  if (inline !== undefined && file !== undefined) throw new UsageError('give either --prompt or --prompt-file, not both');
  if (inline !== undefined) return inline;
  if (file === undefined) throw new UsageError('--prompt or --prompt-file is required');
  if (file === '-') return io.readStdin();
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --prompt-file ${file}: ${(error as Error).message}`);
  }
}

export const generateCommand: CliCommand = {
  name: 'generate',
  summary: 'Generate text with a local ONNX model (tokens, logprobs, timings)',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, {
      strings: ['model', 'prompt', 'prompt-file', 'max-tokens', 'temperature', 'top-p', 'top-k', 'repetition-penalty', 'seed', 'stop', 'top-logprobs', 'variant', 'threads', 'thinking', ...serverFlagNames],
      booleans: ['json', 'chat', 'verbose'],
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const server = serverFromFlags(strings);
    const modelRef = strings.get('model');
    if (!modelRef && !server) throw new UsageError('--model is required (`mini` or a model folder), or --server URL to run on an OpenAI-compatible server');
    const variant = variantFlag(strings);
    const thinking = strings.get('thinking');
    if (thinking !== undefined && thinking !== 'on' && thinking !== 'off') throw new UsageError(`--thinking must be on or off, got "${thinking}"`);
    if (thinking !== undefined && !booleans.has('chat')) throw new UsageError('--thinking needs --chat');
    const maxTokens = numberFlag(strings, 'max-tokens', 128, { min: 1, max: 32768, integer: true });
    const threads = threadsFlag(strings);
    const topLogprobs = numberFlag(strings, 'top-logprobs', 5, { min: 0, max: 20, integer: true });
    const sampling: SamplingOptions = {
      ...(strings.has('temperature') ? { temperature: numberFlag(strings, 'temperature', 0, { min: 0, max: 10 }) } : {}),
      ...(strings.has('top-p') ? { topP: numberFlag(strings, 'top-p', 1, { min: 0.000001, max: 1 }) } : {}),
      ...(strings.has('top-k') ? { topK: numberFlag(strings, 'top-k', 0, { min: 0, integer: true }) } : {}),
      ...(strings.has('repetition-penalty') ? { repetitionPenalty: numberFlag(strings, 'repetition-penalty', 1, { min: 0.01, max: 10 }) } : {}),
      ...(strings.has('seed') ? { seed: numberFlag(strings, 'seed', 0, { min: 0, max: 2 ** 31 - 1, integer: true }) } : {}),
    };
    const text = await readPrompt(strings, io);
    if (server) {
      return generateOnServer(server, { prompt: text, chat: booleans.has('chat'), thinking: thinking as 'on' | 'off' | undefined, maxTokens, temperature: sampling.temperature, topP: sampling.topP, seed: sampling.seed, stop: strings.get('stop'), topLogprobs, json: booleans.has('json') }, io);
    }
    const prompt: PromptInput = booleans.has('chat')
      ? { kind: 'chat', messages: [{ role: 'user', content: text }], ...(thinking ? { variables: { enable_thinking: thinking === 'on' } } : {}) }
      : { kind: 'text', text };
    const json = booleans.has('json');

    const model = await LocalModel.load({ model: modelRef!, variant, threads }, { packageRoot: packageRoot(), cwd: process.cwd(), logger: booleans.has('verbose') ? stderrLogger(io) : undefined });
    try {
      // Fitted to the model now that its context is known; each change is said on stderr.
      const fitted = fitGenerationSettings({ maxTokens }, { modelLabel: model.info.label, contextLength: model.info.contextLength, promptTokens: model.encodePrompt(prompt).length }, { maxTokens: '--max-tokens', temperature: '--temperature', topP: '--top-p' });
      for (const change of fitted.changes) io.stderr.write(`tokenscope generate: ${change}\n`);
      const request: GenerateRequest = { prompt, maxTokens: fitted.settings.maxTokens, sampling, topLogprobs: json ? topLogprobs : 0, ...(strings.has('stop') ? { stop: [strings.get('stop')!] } : {}) };
      const tokens: TokenEvent[] = [];
      let start: GenerationStart | undefined;
      let end: GenerationEnd | undefined;
      try {
        for await (const event of model.generate(request, io.signal)) {
          if (event.type === 'start') start = event;
          else if (event.type === 'end') end = event;
          else {
            tokens.push(event);
            if (!json) io.stdout.write(event.text);
          }
        }
      } catch (error) {
        if (error instanceof GenerationAbortedError) {
          if (!json) io.stdout.write('\n');
          io.stderr.write('tokenscope generate: interrupted\n');
          return 130;
        }
        throw error;
      }
      if (!start || !end) throw new Error('generation ended without a result');
      const timings = { loadMs: model.info.loadMs, ...end.timings };
      if (json) {
        io.stdout.write(
          `${JSON.stringify({
            text: end.text,
            tokens: tokens.map((token) => ({ id: token.id, text: token.text, logprob: token.logprob, top: token.top })),
            finishReason: end.finishReason,
            ...(end.stopSequence !== undefined ? { stopSequence: end.stopSequence } : {}),
            truncatedPromptTokens: start.truncatedTokens,
            seed: start.seed,
            model: { id: model.info.id, modelType: model.info.modelType, variant: model.info.variant, onnxFile: model.info.onnxFile, threads: model.info.threads },
            timings,
          })}\n`,
        );
      } else {
        io.stdout.write('\n');
        const truncated = start.truncatedTokens > 0 ? `, ${start.truncatedTokens} prompt tokens cut to fit the context` : '';
        io.stderr.write(
          `[${end.finishReason}] ${timings.promptTokens} prompt tokens${truncated}, ${timings.generatedTokens} generated; load ${timings.loadMs} ms, prefill ${timings.prefillMs} ms, decode ${timings.decodeMs} ms (${timings.tokensPerSecond} tokens/s); ${model.info.variant} on ${model.info.threads} thread(s)\n`,
        );
      }
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
