/**
 * Sample side by side: which runs to make. One prompt is run once per entry of a plan, each with
 * its own temperature, top-p and seed, so a user sees why answers differ (the same prompt, the
 * same model; only the sampling changed) and which answer the model itself found likelier.
 *
 * A plan is written as a short list the user can type: `0, 0.8@1, 0.8@2, 1.2/0.9@7` means greedy,
 * temperature 0.8 with seed 1, the same with seed 2, and temperature 1.2 with top-p 0.9 and seed 7.
 */

export interface SampleSettings {
  /** 0: greedy (always the most likely token; the seed does not matter). */
  readonly temperature: number;
  /** Nucleus mass in (0, 1]; 1 is off. */
  readonly topP: number;
  /** The sampler's seed: the same seed and settings give the same answer. */
  readonly seed: number;
}

/** Tokens per run in the editor and the CLI's default: a line or two of code, and four runs take seconds. */
export const sampleMaxTokens = 64;

/** More runs than this make columns too narrow to read, and take a long time on a laptop. */
export const maxSampleRuns = 8;

export interface SamplePreset {
  readonly label: string;
  readonly detail: string;
  readonly plan: string;
}

export const samplePresets: readonly SamplePreset[] = [
  { label: 'Same temperature, four seeds', detail: 'greedy, then temperature 0.8 with seeds 1-3: where the model is unsure, each seed draws a different token', plan: '0, 0.8@1, 0.8@2, 0.8@3' },
  { label: 'Temperature sweep', detail: 'temperature 0, 0.4, 0.8, 1.2, 1.6 with one seed: the higher, the flatter the distribution and the stranger the answer', plan: '0, 0.4@1, 0.8@1, 1.2@1, 1.6@1' },
  { label: 'Top-p sweep', detail: 'temperature 1 with top-p 0.5, 0.9 and 1 (off), one seed: a smaller nucleus cuts the unlikely tail', plan: '1/0.5@1, 1/0.9@1, 1@1' },
];

export const samplePlanSyntax = 'temperature[/top-p][@seed], comma-separated, e.g. 0, 0.8@1, 0.8@2, 1.2/0.9@7';

export class SamplePlanError extends Error {
  override readonly name = 'SamplePlanError';
}

const entryPattern = /^(\d+(?:\.\d+)?|\.\d+)(?:\/(\d+(?:\.\d+)?|\.\d+))?(?:@(\d+))?$/;

/**
 * Reads a plan. An entry without a seed gets the next unused one from 1 up, so every run can be
 * reproduced from the seed the page shows. Throws SamplePlanError saying which entry is wrong and
 * how to write it.
 */
export function parseSamplePlan(text: string): SampleSettings[] {
  const entries = text
    .split(',')
    .map((entry) => entry.replace(/\s+/g, ''))
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) throw new SamplePlanError(`No runs given. Write ${samplePlanSyntax}.`);
  if (entries.length > maxSampleRuns) throw new SamplePlanError(`${entries.length} runs asked for; at most ${maxSampleRuns} fit side by side.`);
  const parsed = entries.map((entry) => {
    const match = entryPattern.exec(entry);
    if (!match) throw new SamplePlanError(`"${entry}" is not a run. Write ${samplePlanSyntax}.`);
    const temperature = Number(match[1]);
    const topP = match[2] === undefined ? 1 : Number(match[2]);
    if (temperature > 10) throw new SamplePlanError(`"${entry}": temperature ${temperature} is past 10, where every token is about equally likely.`);
    if (!(topP > 0 && topP <= 1)) throw new SamplePlanError(`"${entry}": top-p must be in (0, 1], got ${match[2]}.`);
    return { temperature, topP, seed: match[3] === undefined ? undefined : Number(match[3]) };
  });
  const used = new Set(parsed.flatMap((entry) => (entry.seed === undefined ? [] : [entry.seed])));
  let nextSeed = 1;
  return parsed.map((entry) => {
    if (entry.seed !== undefined) return { temperature: entry.temperature, topP: entry.topP, seed: entry.seed };
    while (used.has(nextSeed)) nextSeed++;
    used.add(nextSeed);
    return { temperature: entry.temperature, topP: entry.topP, seed: nextSeed };
  });
}

/** The plan written back in its own syntax (the panel's title line, the CLI's echo). */
export function formatSamplePlan(plan: readonly SampleSettings[]): string {
  return plan.map((run) => `${run.temperature}${run.topP < 1 ? `/${run.topP}` : ''}${run.temperature > 0 ? `@${run.seed}` : ''}`).join(', ');
}

/** One run's settings for a column header: `greedy`, `T 0.8 · seed 2`, `T 1 · top-p 0.9 · seed 7`. */
export function describeSampleSettings(run: SampleSettings): string {
  if (run.temperature === 0) return 'greedy (T 0)';
  return [`T ${run.temperature}`, ...(run.topP < 1 ? [`top-p ${run.topP}`] : []), `seed ${run.seed}`].join(' · ');
}
