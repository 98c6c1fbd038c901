import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { TextLines, validatePosition } from '../core/completions/document';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { DEFAULT_RESHAPING, ModelProbabilities, MAX_SHOWN_TOKENS, textBeforeCursor } from '../core/probabilities/modelProbabilities';
import { numberFlag, parseFlags, UsageError, type CliCommand } from './command';
import { nextOnServer } from './nextOnServer';
import { serverFromFlags, serverUsage } from './serverOption';
import { loadModelFromFlags } from './modelFlags';

const usage = `Usage: tokenscope next (--prompt P | --file F --line L --character C) [--model M | --server URL] [options] [--json]

The model's distribution over the next token: the most likely tokens and their probabilities
after temperature, top-p and top-k re-shape it, which of them sampling would never pick, and the
mass of all the others. What a model "sees" before it writes one token.

Options:
  --model <dir|id>   \`mini\` (built-in, default), a catalog id or org/name in the HF cache, or a model folder
  --prompt P         the text to continue
  --file F           ... or the text of a file before a position (0-based --line and UTF-16 --character)
  --top K            tokens shown (default 10, at most ${MAX_SHOWN_TOKENS})
  --temperature T    0 = greedy (default ${DEFAULT_RESHAPING.temperature}: the model's own distribution)
  --top-p P          nucleus mass, (0, 1] (default 1: off)
  --top-k K          keep the K most likely tokens (default 0: off)
  --seed S           also draw one token with this seed (printed as "sampled")
  --variant V        ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N        ONNX Runtime threads (default: physical cores, at most 4)
  --json             print {"tokens":[{"id","text","logprob","probability","excluded"}],"temperature","topP","topK",
                     "other"}: probability after the re-shaping (0 where excluded), logprob the model's own (ln p
                     at temperature 1), other the probability of every token not shown

${serverUsage}
                     with --server: the alternatives the server returns (logprobs, at most 20), "other" the
                     mass of the rest; temperature 1 or 0 only, top-k at most the alternatives sent, a top-p
                     nucleus within them (what is not sent cannot be re-shaped); "id" is null (servers send text)

Example:
  tokenscope next --prompt "def fibonacci(n):" --top 10 --temperature 0.7 --json`;

export const nextCommand: CliCommand = {
  name: 'next',
  summary: 'Show the next-token distribution after a prompt or at a file position',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model', 'prompt', 'file', 'line', 'character', 'top', 'temperature', 'top-p', 'top-k', 'seed', 'variant', 'threads', 'server', 'server-model'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const prompt = await promptFromFlags(strings);
    const top = numberFlag(strings, 'top', 10, { min: 1, max: MAX_SHOWN_TOKENS, integer: true });
    const temperature = numberFlag(strings, 'temperature', DEFAULT_RESHAPING.temperature, { min: 0 });
    const topP = numberFlag(strings, 'top-p', DEFAULT_RESHAPING.topP, { min: Number.MIN_VALUE, max: 1 });
    const topK = numberFlag(strings, 'top-k', DEFAULT_RESHAPING.topK, { min: 0, integer: true });
    const seed = strings.has('seed') ? numberFlag(strings, 'seed', 0, { integer: true }) : undefined;
    const server = serverFromFlags(strings);
    if (server) {
      if (seed !== undefined) throw new UsageError('--seed draws from the full distribution, which a server does not send: use --model');
      return nextOnServer(server, { prompt, top, reshaping: { temperature, topP, topK }, json: booleans.has('json') }, io);
    }
    const model = await loadModelFromFlags(strings, 'mini');
    try {
      const result = await new ModelProbabilities(model).next({ prompt: { kind: 'text', text: prompt }, top, reshaping: { temperature, topP, topK }, sampleSeed: seed }, io.signal);
      const tokens = result.tokens.map((token) => ({ id: token.id, text: token.text, logprob: round(token.logprob), probability: round(token.probability), excluded: token.excluded }));
      if (booleans.has('json')) {
        io.stdout.write(`${JSON.stringify({ tokens, temperature: result.temperature, topP: result.topP, topK: result.topK, other: round(result.otherProbability), ...(result.sampled ? { sampled: { id: result.sampled.id, text: result.sampled.text, seed: result.sampled.seed } } : {}) })}\n`);
        return 0;
      }
      const width = result.tokens.reduce((widest, token) => Math.max(widest, token.display.length), 0);
      for (const token of result.tokens) {
        const bar = '█'.repeat(Math.round(token.probability * 40));
        io.stdout.write(`${token.display.padEnd(width)}  ${(token.probability * 100).toFixed(1).padStart(5)}%  ${token.excluded ? '(excluded)' : bar}\n`);
      }
      io.stdout.write(`other tokens: ${(result.otherProbability * 100).toFixed(1)}%\n`);
      if (result.sampled) io.stdout.write(`sampled with seed ${result.sampled.seed}: ${result.sampled.display}\n`);
      io.stderr.write(`(${model.info.label}, ${result.promptTokens} prompt tokens${result.truncatedTokens > 0 ? `, the oldest ${result.truncatedTokens} left out to fit the context` : ''}; temperature ${temperature}, top-p ${topP}, top-k ${topK}: ${result.candidates} tokens can be sampled)\n`);
      return 0;
    } finally {
      await model.dispose();
    }
  },
};

async function promptFromFlags(strings: Map<string, string>): Promise<string> {
  const prompt = strings.get('prompt');
  const file = strings.get('file');
  if ((prompt === undefined) === (file === undefined)) throw new UsageError('give --prompt P, or --file F with --line and --character');
  if (prompt !== undefined) {
    if (strings.has('line') || strings.has('character')) throw new UsageError('--line and --character go with --file');
    return prompt;
  }
  if (!strings.has('line') || !strings.has('character')) throw new UsageError('--file needs --line and --character (0-based)');
  const document = new TextLines(await readText(file!));
  const position = { line: numberFlag(strings, 'line', 0, { min: 0, integer: true }), character: numberFlag(strings, 'character', 0, { min: 0, integer: true }) };
  const problem = validatePosition(document, position);
  if (problem) throw new UsageError(problem);
  return textBeforeCursor(document, position);
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(resolve(file), 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}


function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
