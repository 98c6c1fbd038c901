/**
 * Sample side by side: runs one prompt once per plan entry, one run after another on the one
 * model (the shared prompt's KV cache is reused, so later runs start at once), and streams a
 * snapshot of every run after each token. The log-probabilities are the model's own (softmax of
 * the raw logits at temperature 1), whatever temperature drew the token: their sum says how likely
 * the model found the whole answer, which is what makes runs comparable.
 */
import type { GenerateRequest, GenerationEvent, PromptInput, TokenAlternative } from '../runtime/types';
import type { SampleSettings } from './samplePlan';

/** What the runner needs of a model: the model process client, a LocalModel, or a fake. */
export type SampleGenerator = (request: GenerateRequest, signal: AbortSignal) => AsyncIterable<GenerationEvent>;

export interface SampledToken {
  readonly id: number;
  readonly text: string;
  readonly logprob: number;
  /** The likeliest tokens at this step (the first is the one greedy would pick). */
  readonly top: readonly TokenAlternative[];
}

export type SampleRunStatus = 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';

export interface SampleRun {
  readonly settings: SampleSettings;
  readonly status: SampleRunStatus;
  readonly tokens: readonly SampledToken[];
  /** Why the model stopped: eos, stop, length or context (done runs). */
  readonly finishReason?: string;
  /** What went wrong (failed runs), in the runtime's words. */
  readonly error?: string;
}

export interface RunSamplesOptions {
  readonly generate: SampleGenerator;
  readonly prompt: PromptInput;
  readonly plan: readonly SampleSettings[];
  readonly maxTokens: number;
  /** Alternatives kept per token, for the page's tooltips (default 3). */
  readonly topLogprobs?: number;
  readonly signal: AbortSignal;
}

/** The sum of the run's token log-probabilities: the log of how likely the model found the answer. */
export function totalLogprob(run: Pick<SampleRun, 'tokens'>): number {
  return run.tokens.reduce((sum, token) => sum + token.logprob, 0);
}

export function runText(run: Pick<SampleRun, 'tokens'>): string {
  return run.tokens.map((token) => token.text).join('');
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Yields every run's state after each change (a run starting, each token, a run ending). Never
 * throws for a run's failure: the run says why and the next one starts. Aborting the signal ends the
 * running run and the waiting ones as `cancelled`, keeping the tokens they had.
 */
export async function* runSamples(options: RunSamplesOptions): AsyncGenerator<readonly SampleRun[]> {
  const runs: SampleRun[] = options.plan.map((settings) => ({ settings, status: 'waiting', tokens: [] }));
  const cancelFrom = (index: number) => {
    for (let later = index; later < runs.length; later++) runs[later] = { ...runs[later]!, status: 'cancelled' };
  };
  for (let index = 0; index < runs.length; index++) {
    if (options.signal.aborted) {
      cancelFrom(index);
      break;
    }
    const { settings } = runs[index]!;
    const tokens: SampledToken[] = [];
    runs[index] = { settings, status: 'running', tokens };
    yield runs.slice();
    const request: GenerateRequest = {
      prompt: options.prompt,
      maxTokens: options.maxTokens,
      sampling: { temperature: settings.temperature, topP: settings.topP, seed: settings.seed },
      topLogprobs: options.topLogprobs ?? 3,
      reuseCache: true,
    };
    try {
      for await (const event of options.generate(request, options.signal)) {
        if (event.type === 'token') {
          tokens.push({ id: event.id, text: event.text, logprob: event.logprob, top: event.top });
          runs[index] = { settings, status: 'running', tokens: tokens.slice() };
          yield runs.slice();
        } else if (event.type === 'end') {
          runs[index] = { settings, status: 'done', tokens: tokens.slice(), finishReason: event.finishReason };
        }
      }
      if (runs[index]!.status === 'running') runs[index] = { settings, status: 'failed', tokens: tokens.slice(), error: 'The model ended the answer without saying why it stopped.' };
    } catch (error) {
      if (isAbort(error, options.signal)) {
        runs[index] = { settings, status: 'cancelled', tokens: tokens.slice() };
        cancelFrom(index + 1);
        yield runs.slice();
        return;
      }
      runs[index] = { settings, status: 'failed', tokens: tokens.slice(), error: error instanceof Error ? error.message : String(error) };
    }
    yield runs.slice();
  }
  yield runs.slice();
}

export interface SampleComparison {
  /** Index of the finished run with the highest total log-probability. */
  readonly likeliest?: number;
  /** Index of the finished run with the highest mean log-probability per token (fair to long answers). */
  readonly likeliestPerToken?: number;
  /** For each run, the index of an earlier finished run with exactly the same text, if any. */
  readonly sameAs: readonly (number | undefined)[];
}

export function compareSampleRuns(runs: readonly SampleRun[]): SampleComparison {
  let likeliest: number | undefined;
  let likeliestPerToken: number | undefined;
  const firstWithText = new Map<string, number>();
  const sameAs = runs.map((run, index) => {
    if (run.status !== 'done') return undefined;
    const total = totalLogprob(run);
    if (likeliest === undefined || total > totalLogprob(runs[likeliest]!)) likeliest = index;
    const mean = run.tokens.length > 0 ? total / run.tokens.length : 0;
    const best = likeliestPerToken === undefined ? undefined : runs[likeliestPerToken]!;
    if (best === undefined || mean > (best.tokens.length > 0 ? totalLogprob(best) / best.tokens.length : 0)) likeliestPerToken = index;
    const text = runText(run);
    const earlier = firstWithText.get(text);
    if (earlier === undefined) firstWithText.set(text, index);
    return earlier;
  });
  return { likeliest, likeliestPerToken, sameAs };
}
