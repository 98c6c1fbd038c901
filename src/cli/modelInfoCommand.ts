import { compareModels, formatBytes, formatCount, readModelsToCompare, type ComparedModel } from '../core/models/comparison';
import { parseFlags, UsageError, type CliCommand } from './command';
import { packageRoot } from './packageRoot';
import { formatTable } from './table';

const usage = `Usage: tokenscope model-info [--model mini|FOLDER] [--json]

Shows the built-in model's architecture (layers, heads, parameters and where they sit, vocabulary,
context, KV cache per token, tokens trained) next to real open models Tokenscope can run.

Options:
  --model M   also show this model: a catalog id, org/name in the HF cache, or a folder; default: only mini
  --json      print {"models": [{id, label, role, licence, repo, active, builtin, parameters,
              trainingTokens, heldoutBitsPerByte, anatomy: {modelType, numLayers, numHeads,
              numKvHeads, headDim, hiddenSize, intermediateSize, vocabSize, contextLength,
              tiedEmbeddings, kvCacheBytesPerToken, parameters: {embedding, attention, mlp,
              norms, lmHead, total}}}], "insights": [...]}

Example:
  tokenscope model-info --model ~/models/Qwen2.5-Coder-0.5B-Instruct`;

function row(model: ComparedModel): string[] {
  const a = model.anatomy;
  const p = a.parameters;
  return [
    `${model.active ? '* ' : '  '}${model.label}`,
    a.modelType,
    String(a.numLayers),
    String(a.hiddenSize),
    `${a.numHeads}/${a.numKvHeads}`,
    a.vocabSize.toLocaleString('en-US'),
    a.contextLength.toLocaleString('en-US'),
    model.parameters === null ? '?' : formatCount(model.parameters),
    p ? `${Math.round((100 * p.embedding) / p.total)}%` : '?',
    formatBytes(a.kvCacheBytesPerToken),
    model.trainingTokens ? formatCount(model.trainingTokens) : '',
  ];
}

export const modelInfoCommand: CliCommand = {
  name: 'model-info',
  summary: 'The built-in model\'s architecture next to real models (layers, heads, parameters, vocabulary)',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const { locals, problem } = await readModelsToCompare({ packageRoot: packageRoot(), reference: strings.get('model'), cwd: process.cwd() });
    if (problem) throw new Error(problem);
    const comparison = compareModels(locals);
    if (booleans.has('json')) {
      io.stdout.write(`${JSON.stringify(comparison)}\n`);
      return 0;
    }
    const header = ['model', 'type', 'layers', 'hidden', 'heads q/kv', 'vocab', 'context', 'params', 'embed', 'KV/token', 'trained on'];
    const table = formatTable(header, comparison.models.map(row), new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]));
    const notes = comparison.insights.map((line) => `- ${line}`);
    io.stdout.write(`${[...table, '', '* = the model Tokenscope runs. embed = share of parameters in the embedding table; KV/token = 16-bit key/value cache per token of context.', '', ...notes].join('\n')}\n`);
    return 0;
  },
};
