import { readFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { TextLines, validatePosition } from '../core/completions/document';
import { CompletionEngine } from '../core/completions/engine';
import type { CompletionRecord } from '../core/completions/types';
import { inProcessCompletionModel } from '../core/completions/model';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { LocalModel } from '../core/runtime/localModel';
import { numberFlag, parseFlags, UsageError, type CliCommand } from './command';
import { packageRoot } from './packageRoot';
import { serverFlagNames, serverFromFlags, serverUsage } from './serverOption';
import { remoteCompletionModel } from '../core/openai/remoteCompletionBackend';
import type { CompletionModel } from '../core/completions/types';
import { threadsFlag, variantFlag } from './modelFlags';

const usage = `Usage: tokenscope complete (--model <dir|id> | --server URL) --file F --line L --character C [options]

Completes the code at a position of a file with a local model, through the same core path as the
editor's inline completions (fill-in-the-middle prompt, post-processing). Positions are 0-based.

Options:
  --model <dir|id>      \`mini\` (built-in), a catalog id or org/name in the HF cache (tokenscope models), or a model folder
${serverUsage}
  --file F              the source file
  --line L              0-based line of the cursor
  --character C         0-based UTF-16 column of the cursor
  --json                print {completion, latencyMs, promptTokens, generatedTokens, template,
                        confidence}: confidence is the geometric mean of the tokens' probabilities
  --max-tokens N        most tokens to generate (default 48)
  --variant V           ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N           ONNX Runtime threads (default: physical cores, at most 4)
  --show-prompt         print the prompt (control tokens spelled out) to stderr

Example:
  tokenscope complete --model mini --file src/app.ts --line 12 --character 8 --json`;

export const completeCommand: CliCommand = {
  name: 'complete',
  summary: 'Complete code at a file position with a local model (inline-completion core)',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model', 'file', 'line', 'character', 'max-tokens', 'variant', 'threads', ...serverFlagNames], booleans: ['json', 'show-prompt'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const server = serverFromFlags(strings);
    const model = strings.get('model');
    const file = strings.get('file');
    if (!model && !server) throw new UsageError('--model is required (`mini` or a model folder), or --server URL to run on an OpenAI-compatible server');
    if (!file) throw new UsageError('--file is required');
    if (!strings.has('line') || !strings.has('character')) throw new UsageError('--line and --character are required (0-based)');
    const line = numberFlag(strings, 'line', 0, { min: 0, integer: true });
    const character = numberFlag(strings, 'character', 0, { min: 0, integer: true });
    const maxTokens = numberFlag(strings, 'max-tokens', 48, { min: 1, max: 512, integer: true });
    const threads = threadsFlag(strings);
    const variant = variantFlag(strings);

    const path = resolve(file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    const document = new TextLines(text);
    const position = { line, character };
    const problem = validatePosition(document, position);
    if (problem) throw new UsageError(problem);

    const local = server ? undefined : await LocalModel.load({ model: model!, variant, threads }, { packageRoot: packageRoot(), cwd: process.cwd() });
    try {
      const completionModel: CompletionModel = local
        ? inProcessCompletionModel(local)
        : await remoteCompletionModel({ connection: server!.connection, model: server!.model, signal: io.signal, onChoice: (line) => io.stderr.write(`${line}\n`) });
      // An empty suggestion resolves to undefined; the record still says what the request cost.
      let lastRecord: CompletionRecord | undefined;
      const engine = new CompletionEngine({
        getModel: () => completionModel,
        settings: { maxTokens, extraContext: false, speculative: false },
        onRecord: (record) => (lastRecord = record),
      });
      if (booleans.has('show-prompt') && local) {
        const { buildPrompt, extractWindow, LineTokenCounter, describePrompt, defaultPromptBudget } = await import('../core/completions/promptBuilder');
        const window = extractWindow(document, position, defaultPromptBudget, relative(process.cwd(), path));
        const prompt = buildPrompt(window, { tokenizer: local.tokenizer, template: completionModel.template, budget: defaultPromptBudget, contextLength: completionModel.contextLength, maxTokens, counter: new LineTokenCounter(local.tokenizer), eosTokenIds: completionModel.eosTokenIds });
        io.stderr.write(`--- prompt (${prompt.ids.length} tokens, ${completionModel.template.label}) ---\n${describePrompt(prompt)}\n--- end of prompt ---\n`);
      }
      const started = performance.now();
      const result = await engine.complete({ document, position, path: relative(process.cwd(), path) || path, trigger: 'explicit' }, io.signal);
      if (io.signal.aborted) return 130;
      const latencyMs = result?.latencyMs ?? performance.now() - started;
      const record = {
        completion: result?.text ?? '',
        latencyMs: Math.round(latencyMs * 10) / 10,
        promptTokens: result?.promptTokens ?? lastRecord?.promptTokens ?? 0,
        generatedTokens: result?.generatedTokens ?? lastRecord?.generatedTokens ?? 0,
        template: completionModel.template.label,
        // The geometric mean of the generated tokens' probabilities (null when nothing was generated).
        confidence: result?.confidence === undefined ? null : Math.round(result.confidence * 1000) / 1000,
        ...(result?.noConfidence ? { noConfidence: result.noConfidence } : {}),
      };
      if (booleans.has('json')) {
        io.stdout.write(`${JSON.stringify(record)}\n`);
      } else {
        io.stdout.write(record.completion.length > 0 ? `${record.completion}\n` : '');
        io.stderr.write(result ? `(${record.generatedTokens} tokens in ${record.latencyMs} ms, prompt ${record.promptTokens} tokens, ${record.template}${record.confidence === null ? '' : `, ${Math.round(record.confidence * 100)}% sure`})\n` : '(no suggestion at this position)\n');
      }
      return 0;
    } finally {
      await local?.dispose();
      await server?.connection.close();
    }
  },
};
