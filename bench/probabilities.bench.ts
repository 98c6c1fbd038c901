/**
 * The probability views, measured the way the editor runs them: through a real model process
 * (ModelProcessClient → src/model-process, as the extension forks it), for the built-in model and
 * the 0.5B-shaped bench model (random weights, the Qwen2.5-Coder-0.5B shape and vocabulary).
 *
 *   node --import tsx bench/probabilities.bench.ts [--quick] [--mini]     (or: npm run bench -- probabilities)
 *
 * - "What comes next?" refresh at the cursor: opening it on a prompt (cold), a step (one token
 *   inserted: the prompt grows by one token, the KV cache keeps the rest), and a re-shape (a new
 *   temperature: the process keeps the logits, no forward pass). Goal: < 100 ms with mini.
 * - Surprise lens over 60 visible lines (plus its 30 lines of lead-in context): the first score,
 *   and a re-score after a one-character edit in the middle. Host blocking: the longest stall of
 *   this (host-like) process's event loop while the requests run (the IPC answer's parse included),
 *   and the lens's own host work (placing and grouping the answer). Goal: never > 16 ms.
 * Results: a table and bench/results/probabilities.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ModelProcessClient } from '../src/core/modelProcess/client';
import { requestNextToken, requestScore } from '../src/core/modelProcess/probabilityRequests';
import { SURPRISE_STEPS_BITS } from '../src/core/probabilities/bars';
import { placeScores, spansByLevel } from '../src/core/probabilities/lensView';
import { QWEN05, ensureGeneratedModel } from './lib/benchModels';

const root = resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
/** `--mini`: the built-in model only (a quick check of the panel goal). */
const miniOnly = process.argv.includes('--mini');
const steps = quick ? 5 : 20;

const median = (values: readonly number[]): number => {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Code to run on: this repository's own sampling source (a real file a user could open). */
const code = readFileSync(join(root, 'src', 'core', 'runtime', 'sampling.ts'), 'utf8');
const codeLines = code.split('\n');

interface ModelFigures {
  readonly model: string;
  readonly panelColdMs: number;
  readonly panelStepMedianMs: number;
  readonly panelStepMaxMs: number;
  readonly panelReshapeMedianMs: number;
  readonly lensFirstMs: number;
  readonly lensEditMs: number;
  readonly lensTokens: number;
  readonly lensReusedAfterEdit: number;
  readonly hostStallMaxMs: number;
  readonly hostLensWorkMaxMs: number;
  /** CPU time this (host-like) process used while the lens requests ran, and their wall time: a stall far above the CPU used is the OS scheduling other processes, not work on the host thread. */
  readonly hostCpuMs: number;
  readonly lensWallMs: number;
  /** Parsing the lens's answer as the IPC channel does (JSON), on the host thread. */
  readonly answerParseMs: number;
}

async function measure(label: string, model: string): Promise<ModelFigures> {
  const client = new ModelProcessClient({ entry: join(root, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: root, requestTimeoutMs: 600_000 });
  try {
    await client.load({ model });
    // The panel: the cursor after 40 lines of the file.
    let prompt = codeLines.slice(0, 40).join('\n');
    const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> => {
      const started = performance.now();
      const value = await work();
      return { value, ms: performance.now() - started };
    };
    const cold = await timed(() => requestNextToken(client, { prompt: { kind: 'text', text: prompt }, top: 20 }));
    const stepMs: number[] = [];
    let result = cold.value;
    for (let step = 0; step < steps; step++) {
      prompt += result.tokens[0].text;
      const next = await timed(() => requestNextToken(client, { prompt: { kind: 'text', text: prompt }, top: 20 }));
      stepMs.push(next.ms);
      result = next.value;
    }
    const reshapeMs: number[] = [];
    for (let step = 0; step < steps; step++) {
      const temperature = 0.2 + (step % 10) / 10;
      reshapeMs.push((await timed(() => requestNextToken(client, { prompt: { kind: 'text', text: prompt }, top: 20, reshaping: { temperature, topP: 0.9 } }))).ms);
    }

    // The lens: 30 lead-in lines and 60 visible ones, as the editor cuts them.
    const lead = codeLines.slice(0, 30).join('\n');
    const visible = codeLines.slice(30, 90).join('\n');
    const text = `${lead}\n${visible}`;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    let hostWork = 0;
    let answerParse = 0;
    const lens = async (textNow: string) => {
      const answer = await timed(() => requestScore(client, { text: textNow, top: 5, fromOffset: lead.length + 1, alternativesAboveBits: SURPRISE_STEPS_BITS[0] }));
      const placing = performance.now();
      spansByLevel(placeScores(answer.value.tokens, 0), 'surprise');
      hostWork = Math.max(hostWork, performance.now() - placing);
      const serialized = JSON.stringify({ type: 'scored', id: 1, result: answer.value });
      const parsing = performance.now();
      JSON.parse(serialized);
      answerParse = Math.max(answerParse, performance.now() - parsing);
      return answer;
    };
    delay.enable();
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const first = await lens(text);
    const middle = lead.length + 1 + Math.floor(visible.length / 2);
    const edited = `${text.slice(0, middle)}x${text.slice(middle)}`;
    const edit = await lens(edited);
    delay.disable();
    const cpu = process.cpuUsage(cpuBefore);
    const lensWallMs = performance.now() - wallBefore;
    return {
      model: label,
      panelColdMs: round(cold.ms),
      panelStepMedianMs: round(median(stepMs)),
      panelStepMaxMs: round(Math.max(...stepMs)),
      panelReshapeMedianMs: round(median(reshapeMs)),
      lensFirstMs: round(first.ms),
      lensEditMs: round(edit.ms),
      lensTokens: first.value.tokens.length,
      lensReusedAfterEdit: edit.value.reusedTokens,
      hostStallMaxMs: round(delay.max / 1e6),
      hostLensWorkMaxMs: round(hostWork, 2),
      hostCpuMs: round((cpu.user + cpu.system) / 1000),
      lensWallMs: round(lensWallMs),
      answerParseMs: round(answerParse, 2),
    };
  } finally {
    await client.dispose();
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0];
  const figures: ModelFigures[] = [await measure('tokenscope-mini', 'mini')];
  if (!miniOnly) {
    const qwen = await ensureGeneratedModel('0.5B', 'Qwen2.5-0.5B shape', QWEN05);
    figures.push(await measure('0.5B shape (q4)', qwen.dir));
  }
  const loadAfter = loadavg()[0];
  console.log(`\nProbability views through the model process (${steps} steps; load ${round(loadBefore, 2)} → ${round(loadAfter, 2)})\n`);
  const header = ['model', 'panel cold', 'panel step (median / max)', 'panel re-shape', 'lens 60 lines', 'lens after edit', 'host stall max', 'lens host work', 'answer parse', 'host CPU / lens wall'];
  console.log(header.join(' | '));
  for (const f of figures) {
    console.log([f.model, `${f.panelColdMs} ms`, `${f.panelStepMedianMs} / ${f.panelStepMaxMs} ms`, `${f.panelReshapeMedianMs} ms`, `${f.lensFirstMs} ms (${f.lensTokens} tokens)`, `${f.lensEditMs} ms (${f.lensReusedAfterEdit} kept)`, `${f.hostStallMaxMs} ms`, `${f.hostLensWorkMaxMs} ms`, `${f.answerParseMs} ms`, `${f.hostCpuMs} / ${f.lensWallMs} ms`].join(' | '));
  }
  const mini = figures[0];
  console.log(`\nGoal: panel refresh < 100 ms with mini: step ${mini.panelStepMedianMs} ms (${round(mini.panelStepMedianMs / 100, 2)}x the goal), re-shape ${mini.panelReshapeMedianMs} ms.`);
  console.log(`Goal: the lens never blocks the host > 16 ms: longest event-loop stall ${Math.max(...figures.map((f) => f.hostStallMaxMs))} ms over both models, the lens's own host work at most ${Math.max(...figures.map((f) => f.hostLensWorkMaxMs))} ms and parsing its answer ${Math.max(...figures.map((f) => f.answerParseMs))} ms; the host used ${figures.map((f) => `${f.hostCpuMs} ms CPU in ${f.lensWallMs} ms`).join(', ')} (the model runs in its own process; a stall above the host's CPU is the OS running other processes, see the load).`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'probabilities.json'), `${JSON.stringify({ steps, load: { before: loadBefore, after: loadAfter }, figures }, null, 2)}\n`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
