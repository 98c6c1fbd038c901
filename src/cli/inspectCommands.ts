/**
 * `tokenscope attention`, `tokenscope lens` and `tokenscope neighbours`: what happens inside the
 * model (attention of the token at a file position, what each layer would predict, a token's
 * embedding and its nearest tokens), from the model's inspection session (src/core/runtime/inspector.ts).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { attentionRow, attentionWindow, type InspectRequest, type InspectResultFor } from '../core/runtime/inspectTypes';
import { LocalModel } from '../core/runtime/localModel';
import { numberFlag, parseFlags, UsageError, type CliCommand, type CliIO } from './command';
import { loadModelFromFlags } from './modelFlags';

const modelOptions = `  --model <dir|id>      \`mini\` (built-in, the default), a catalog id or org/name in the HF cache, or a model folder
  --variant V           ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N           ONNX Runtime threads (default: physical cores, at most 4)`;

const COMMON = ['model', 'variant', 'threads'];

/** Loads the model, asks what `request(model)` makes for it, and releases the model. */
async function withModel<R extends InspectRequest>(strings: Map<string, string>, request: (model: LocalModel) => R, io: CliIO): Promise<InspectResultFor<R>> {
  const model = await loadModelFromFlags(strings, 'mini');
  try {
    return await model.inspect(request(model), io.signal);
  } finally {
    await model.dispose();
  }
}

/** UTF-16 offset of a 0-based line and character (lines end at \n; a \r before it belongs to the line). */
function offsetOf(text: string, line: number, character: number): number {
  let start = 0;
  for (let current = 0; current < line; current++) {
    const next = text.indexOf('\n', start);
    if (next < 0) throw new UsageError(`--line ${line} is past the end of the file (${current + 1} lines)`);
    start = next + 1;
  }
  const end = text.indexOf('\n', start) < 0 ? text.length : text.indexOf('\n', start);
  if (character > end - start) throw new UsageError(`--character ${character} is past the end of line ${line} (${end - start} characters)`);
  return start + character;
}

export const attentionCommand: CliCommand = {
  name: 'attention',
  summary: 'Show how much the token at a file position attends to each earlier token',
  usage: `Usage: tokenscope attention --file F --line L --character C [--layer N] [--head H] [--json] [options]

Runs the model over the file up to a little past the position and prints, for the token at the
position, its attention weights over the tokens (positions are 0-based; layers and heads count
from 1). Without --head the weights are the mean over the layer's heads; without --layer, over
every layer. Each row sums to 1, and later tokens get no weight: the model reads left to right.

Options:
${modelOptions}
  --file F              the source file
  --line L              0-based line of the cursor
  --character C         0-based UTF-16 column of the cursor
  --layer N             layer, 1..layers
  --head H              head, 1..heads (needs --layer)
  --top K               tokens listed in the text output (default 10)
  --json                print {layers, heads, layer, head, position, tokens: [{id, start, end}], weights}
                        (start/end are UTF-16 offsets in the file; weights align with tokens)

Example:
  tokenscope attention --file src/app.ts --line 12 --character 8 --layer 3 --json`,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: [...COMMON, 'file', 'line', 'character', 'layer', 'head', 'top'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const file = strings.get('file');
    if (!file) throw new UsageError('--file is required');
    if (!strings.has('line') || !strings.has('character')) throw new UsageError('--line and --character are required (0-based)');
    if (strings.has('head') && !strings.has('layer')) throw new UsageError('--head needs --layer');
    const line = numberFlag(strings, 'line', 0, { min: 0, integer: true });
    const character = numberFlag(strings, 'character', 0, { min: 0, integer: true });
    let text: string;
    try {
      text = await readFile(resolve(file), 'utf8');
    } catch (error) {
      throw new Error(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    const offset = offsetOf(text, line, character);
    let base = 0;
    const result = await withModel(
      strings,
      (model) => {
        const window = attentionWindow(text, offset, model.info.contextLength);
        base = window.base;
        return { kind: 'attention', text: window.text, offset: window.offset } as const;
      },
      io,
    );
    if (result.unavailable) throw new Error(result.unavailable);
    const layer = strings.has('layer') ? numberFlag(strings, 'layer', 1, { min: 1, max: result.layers, integer: true }) : undefined;
    const head = strings.has('head') ? numberFlag(strings, 'head', 1, { min: 1, max: result.heads, integer: true }) : undefined;
    const weights = attentionRow(result, layer, head).map((weight) => Number(weight.toFixed(6)));
    const tokens = result.tokens.map((token) => ({ id: token.id, start: token.start + base, end: token.end + base }));
    if (booleans.has('json')) {
      io.stdout.write(`${JSON.stringify({ layers: result.layers, heads: result.heads, layer: layer ?? 'mean', head: head ?? 'mean', position: result.position, tokens, weights })}\n`);
      return 0;
    }
    const shown = (token: { start: number; end: number }) => JSON.stringify(text.slice(token.start, token.end));
    io.stdout.write(`token ${shown(tokens[result.position])} at ${line}:${character}, ${layer ? `layer ${layer}` : 'all layers'}, ${head ? `head ${head}` : 'mean of heads'}\n`);
    const top = numberFlag(strings, 'top', 10, { min: 1, integer: true });
    const order = [...weights.keys()].sort((a, b) => weights[b] - weights[a]).slice(0, top);
    for (const index of order) io.stdout.write(`${(weights[index] * 100).toFixed(1).padStart(6)}%  ${shown(tokens[index])}${index === result.position ? ' (itself)' : ''}\n`);
    return 0;
  },
};

export const lensCommand: CliCommand = {
  name: 'lens',
  summary: 'Show what each layer would predict next (logit lens)',
  usage: `Usage: tokenscope lens --prompt P [--top K] [--json] [options]

Applies the model's final norm and output head to each layer's hidden state at the end of the
prompt: what the model would predict if that layer were the last. The last layer is the model's
own prediction.

Options:
${modelOptions}
  --prompt P            the text before the prediction
  --top K               tokens per layer (default 5)
  --json                print {layers: [{layer, tokens: [{id, text, probability}]}]}

Example:
  tokenscope lens --prompt "for (let i = 0; i < n; " --json`,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: [...COMMON, 'prompt', 'top'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const prompt = strings.get('prompt');
    if (prompt === undefined) throw new UsageError('--prompt is required');
    const top = numberFlag(strings, 'top', 5, { min: 1, max: 50, integer: true });
    const result = await withModel(strings, () => ({ kind: 'lens', prompt, top }) as const, io);
    if (result.unavailable) throw new Error(result.unavailable);
    if (booleans.has('json')) {
      io.stdout.write(`${JSON.stringify({ layers: result.layers })}\n`);
      return 0;
    }
    for (const layer of result.layers) {
      const label = layer.layer === result.layers.length ? `layer ${layer.layer} (output)` : `layer ${layer.layer}`;
      io.stdout.write(`${label.padEnd(18)} ${layer.tokens.map((token) => `${JSON.stringify(token.text)} ${(token.probability * 100).toFixed(1)}%`).join('  ')}\n`);
    }
    return 0;
  },
};

export const neighboursCommand: CliCommand = {
  name: 'neighbours',
  summary: "Show a token's embedding vector and its nearest tokens",
  usage: `Usage: tokenscope neighbours --token TEXT [--top K] [--json] [options]

Every token is a learned vector (its embedding, a row of the model's embedding matrix). Prints the
first numbers of the token's vector, its length (norm), and the tokens whose vectors point the
most the same way (cosine similarity). Quantized embeddings are dequantized first. Text that is
more than one token uses its first token.

Options:
${modelOptions}
  --token TEXT          the token (or text)
  --top K               neighbours (default 10)
  --json                print {token, id, vector: [first 8 numbers], norm, neighbours: [{id, text, cosine}]}

Example:
  tokenscope neighbours --token " return" --top 5 --json`,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: [...COMMON, 'token', 'top'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const token = strings.get('token');
    if (token === undefined || token === '') throw new UsageError('--token is required');
    const top = numberFlag(strings, 'top', 10, { min: 1, max: 100, integer: true });
    const result = await withModel(strings, () => ({ kind: 'neighbours', token, top }) as const, io);
    if (booleans.has('json')) {
      const { token: text, id, vector, norm, dimensions, storage, neighbours, encodedAs } = result;
      io.stdout.write(`${JSON.stringify({ token: text, id, vector, norm, dimensions, storage, ...(encodedAs ? { encodedAs } : {}), neighbours })}\n`);
      return 0;
    }
    if (result.encodedAs) io.stderr.write(`(${JSON.stringify(token)} is ${result.encodedAs.length} tokens: showing the first)\n`);
    io.stdout.write(`${JSON.stringify(result.token)} (id ${result.id}): [${result.vector.join(', ')}, …] (${result.dimensions} numbers, norm ${result.norm}, stored ${result.storage})\n`);
    for (const neighbour of result.neighbours) io.stdout.write(`${neighbour.cosine.toFixed(3).padStart(7)}  ${JSON.stringify(neighbour.text)}\n`);
    return 0;
  },
};
