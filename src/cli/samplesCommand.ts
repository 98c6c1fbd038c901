import { MODEL_VARIANTS } from '../core/models/modelFolder';
import { LocalModel } from '../core/runtime/localModel';
import type { PromptInput } from '../core/runtime/types';
import { describeSampleSettings, formatSamplePlan, parseSamplePlan, sampleMaxTokens, SamplePlanError, samplePlanSyntax, samplePresets } from '../core/samples/samplePlan';
import { compareSampleRuns, runSamples, runText, totalLogprob, type SampleRun } from '../core/samples/runSamples';
import { numberFlag, parseFlags, UsageError, type CliCommand } from './command';
import { readPrompt } from './generateCommand';
import { packageRoot } from './packageRoot';
import { threadsFlag, variantFlag } from './modelFlags';

const usage = `Usage: tokenscope samples --model <dir|id> (--prompt S | --prompt-file F) [options]

Runs one prompt several times with different sampling settings and prints the answers side by side
with their token counts and log-probabilities (the model's own, at temperature 1), so you can see why
answers differ and which one the model found likelier. The editor's "Sample Side by Side…" does the same.

Options:
  --model <dir|id>   \`mini\` (built-in), a catalog id or org/name in the HF cache, or a model folder
  --prompt S         the prompt text
  --prompt-file F    read the prompt from a file (\`-\` for standard input)
  --runs PLAN        ${samplePlanSyntax}
                     (default: "${samplePresets[0]!.plan}")
  --chat             send the prompt as a user message in the model's chat template
  --max-tokens N     most tokens per run (default ${sampleMaxTokens})
  --variant V        ONNX variant: ${MODEL_VARIANTS.join(', ')} (default auto)
  --threads N        ONNX Runtime threads (default: physical cores, at most 4)
  --json             print {runs:[{temperature,topP,seed,status,text,tokens,totalLogprob,meanLogprob,finishReason}],likeliest,likeliestPerToken,sameAs}

Example:
  tokenscope samples --model mini --prompt "def is_prime(n):" --runs "0, 0.8@1, 0.8@2, 1.5@3"`;

function runJson(run: SampleRun) {
  const total = totalLogprob(run);
  return {
    temperature: run.settings.temperature,
    topP: run.settings.topP,
    seed: run.settings.seed,
    status: run.status,
    text: runText(run),
    tokens: run.tokens.map((token) => ({ id: token.id, text: token.text, logprob: token.logprob })),
    totalLogprob: total,
    meanLogprob: run.tokens.length > 0 ? total / run.tokens.length : null,
    ...(run.finishReason !== undefined ? { finishReason: run.finishReason } : {}),
    ...(run.error !== undefined ? { error: run.error } : {}),
  };
}

export const samplesCommand: CliCommand = {
  name: 'samples',
  summary: 'Run one prompt at several temperatures / top-p / seeds and compare the answers',
  usage,
  async run(args, io) {
    const { strings, booleans, positionals } = parseFlags(args, { strings: ['model', 'prompt', 'prompt-file', 'runs', 'max-tokens', 'variant', 'threads'], booleans: ['json', 'chat'] });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const modelRef = strings.get('model');
    if (!modelRef) throw new UsageError('--model is required (`mini` or a model folder)');
    const variant = variantFlag(strings);
    let plan;
    try {
      plan = parseSamplePlan(strings.get('runs') ?? samplePresets[0]!.plan);
    } catch (error) {
      if (error instanceof SamplePlanError) throw new UsageError(`--runs: ${error.message}`);
      throw error;
    }
    const maxTokens = numberFlag(strings, 'max-tokens', sampleMaxTokens, { min: 1, max: 4096, integer: true });
    const text = await readPrompt(strings, io);
    const prompt: PromptInput = booleans.has('chat') ? { kind: 'chat', messages: [{ role: 'user', content: text }] } : { kind: 'text', text };

    const model = await LocalModel.load({ model: modelRef, variant, threads: threadsFlag(strings) }, { packageRoot: packageRoot(), cwd: process.cwd() });
    try {
      let runs: readonly SampleRun[] = [];
      for await (const snapshot of runSamples({ generate: (request, signal) => model.generate(request, signal), prompt, plan, maxTokens, signal: io.signal })) runs = snapshot;
      const comparison = compareSampleRuns(runs);
      if (booleans.has('json')) {
        io.stdout.write(`${JSON.stringify({ model: model.info.id, runsPlan: formatSamplePlan(plan), maxTokens, runs: runs.map(runJson), likeliest: comparison.likeliest ?? null, likeliestPerToken: comparison.likeliestPerToken ?? null, sameAs: comparison.sameAs.map((index) => index ?? null) })}\n`);
      } else {
        for (const [index, run] of runs.entries()) {
          const total = totalLogprob(run);
          const marks = [...(comparison.likeliest === index ? ['likeliest'] : []), ...(comparison.likeliestPerToken === index ? ['likeliest per token'] : []), ...(comparison.sameAs[index] !== undefined ? [`same as run ${comparison.sameAs[index]! + 1}`] : [])];
          const figures = run.tokens.length > 0 ? ` · ${run.tokens.length} tokens · total log p ${total.toFixed(2)} · mean ${(total / run.tokens.length).toFixed(2)}` : '';
          io.stdout.write(`── run ${index + 1} · ${describeSampleSettings(run.settings)}${figures} · ${run.status}${run.finishReason ? ` (${run.finishReason})` : ''}${marks.length > 0 ? ` · ${marks.join(', ')}` : ''}\n`);
          io.stdout.write(run.error ? `   ${run.error}\n` : `${runText(run)}\n`);
        }
      }
      if (io.signal.aborted) {
        io.stderr.write('tokenscope samples: interrupted\n');
        return 130;
      }
      return runs.some((run) => run.status === 'failed') ? 1 : 0;
    } finally {
      await model.dispose();
    }
  },
};
