import { parseFlags, numberFlag, UsageError, type CliCommand } from './command';
import { MAX_SCORE_ALTERNATIVES } from '../core/probabilities/scoring';
import { ModelProbabilities } from '../core/probabilities/modelProbabilities';
import { surprisalBits } from '../core/probabilities/distribution';
import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { loadModelFromFlags } from './modelFlags';
import { readText } from './nextCommand';

/** A whole file is scored token by token in sliding windows: past this it takes minutes (a 1 MB file did not finish in 10). */
const DEFAULT_MAX_CHARS = 100_000;

const usage = `Usage: tokenscope surprise --file F [--model M] [--top K] [--json]

How surprised the model is by each token of a file: -log2 of the probability it gave the token
from the text before it (sliding windows where the file is longer than the context), and what it
expected instead. High surprise marks code that is unusual to the model: where it would likely
go wrong continuing it.

Options:
  --model <dir|id>   \`mini\` (built-in, default), a catalog id or org/name in the HF cache, or a model folder
  --file F           the file to score
  --top K            alternatives per token (default 3, at most ${MAX_SCORE_ALTERNATIVES})
  --max-chars N      score the first N characters (default ${DEFAULT_MAX_CHARS.toLocaleString('en-US')}; a longer file says so on stderr)
  --variant V        ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N        ONNX Runtime threads
  --json             print {"tokens":[{"id","start","end","logprob","top":[{"id","text","logprob"}]}]}: start/end are
                     UTF-16 offsets into the file, logprob is ln p (bits = -logprob / ln 2); the first token has
                     nothing before it and is not listed

Without --json, the most surprising tokens are listed with their line and what the model expected.`;

export const surpriseCommand: CliCommand = {
  name: 'surprise',
  summary: "Score each token of a file by the model's surprise (bits), with what it expected instead",
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model', 'file', 'top', 'max-chars', 'variant', 'threads', 'server', 'server-model'], booleans: ['json'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (strings.has('server')) throw new UsageError('--server is not supported by surprise yet: scoring a given text needs prompt logprobs (echo), which most servers do not return. Use --model.');
    const file = strings.get('file');
    if (!file) throw new UsageError('--file is required');
    const top = numberFlag(strings, 'top', 3, { min: 0, max: MAX_SCORE_ALTERNATIVES, integer: true });
    const maxChars = numberFlag(strings, 'max-chars', DEFAULT_MAX_CHARS, { min: 1, integer: true });
    const whole = await readText(file);
    const text = whole.length > maxChars ? whole.slice(0, maxChars) : whole;
    if (text.length < whole.length) io.stderr.write(`tokenscope surprise: scoring the first ${maxChars.toLocaleString('en-US')} of ${whole.length.toLocaleString('en-US')} characters (--max-chars to change it)\n`);
    const model = await loadModelFromFlags(strings, 'mini');
    try {
      const result = await new ModelProbabilities(model).score({ text, top }, io.signal);
      const round = (value: number) => Math.round(value * 1e6) / 1e6;
      if (booleans.has('json')) {
        const tokens = result.tokens.map((token) => ({ id: token.id, start: token.start, end: token.end, logprob: round(token.logprob), top: token.top.map((alt) => ({ id: alt.id, text: alt.text, logprob: round(alt.logprob) })) }));
        io.stdout.write(`${JSON.stringify({ tokens })}\n`);
        return 0;
      }
      const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
      const worst = [...result.tokens].sort((a, b) => a.logprob - b.logprob).slice(0, 15);
      for (const token of worst) {
        const expected = token.top.map((alt) => `${alt.display} ${(Math.exp(alt.logprob) * 100).toFixed(0)}%`).join(', ');
        io.stdout.write(`line ${lineOf(token.start)}: ${JSON.stringify(text.slice(token.start, token.end))} ${surprisalBits(token.logprob).toFixed(1)} bits; expected ${expected}\n`);
      }
      const mean = result.tokens.reduce((sum, token) => sum + surprisalBits(token.logprob), 0) / Math.max(1, result.tokens.length);
      io.stderr.write(`(${model.info.label}: ${result.tokens.length} tokens scored, mean ${mean.toFixed(2)} bits per token)\n`);
      return 0;
    } finally {
      await model.dispose();
    }
  },
};
