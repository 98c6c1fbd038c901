/**
 * Local model runtime benchmark: Tokenscope's LocalModel next to transformers.js
 * (@huggingface/transformers, same onnxruntime-node, its own KV cache, the SAME ONNX file) and
 * llama.cpp (node-llama-cpp's prebuilt CPU build, the SAME weights written as GGUF), in one run,
 * interleaved so background load hits all alike, with the same thread count. Every decode is also
 * put next to the memory-bandwidth bound measured in the same run (bench/lib/memoryBound.ts,
 * bench/lib/readBandwidth.ts).
 *
 *   node --import tsx bench/runtime.bench.ts [--quick]      (or: npm run bench -- runtime)
 *
 * Models (bench/lib/benchModels.ts):
 * - "mini": the built-in tokenscope-mini (fp32 ONNX; GGUF F32 from the same initializers);
 * - "mid": 4 layers, hidden 512, 8 heads / 2 kv heads, intermediate 1536, Qwen vocabulary;
 * - "0.5B": 24 layers, hidden 896, 14 heads / 2 kv heads, intermediate 4864, vocabulary 151,936
 *   (the Qwen2.5-Coder-0.5B shape).
 * mid and 0.5B are random-weight decoders generated into .cache/bench-models (git-ignored, rebuilt
 * when their spec or generator changes), 4-bit MatMulNBits (block 32, zero point 8, fp16-valued
 * scales) like onnx-community's model_q4.onnx, and the same blocks repacked as GGUF Q4_0: the
 * weights are identical; ONNX stores the scales as fp32 (5.0 bits/weight), GGUF as fp16 (4.5).
 * Workloads: greedy agreement, decode tokens/s, prefill tokens/s, a "typing" session (20 prompts
 * each a few tokens longer than the last, 8 new tokens each: prefix reuse vs recomputing), decode at
 * a 1k-token context. Results: tables and bench/results/runtime.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import type { LocalModel } from '../src/core/runtime/localModel';
import { resolveThreads } from '../src/core/runtime/threads';
import { MID, QWEN05, ensureGeneratedModel, ensureMini, type BenchModel } from './lib/benchModels';
import { llamaCppRunner, type LlamaCppRunner } from './lib/llamaCpp';
import { kvBytesPerToken, memoryBound, type Bound } from './lib/memoryBound';
import { ReadBandwidthProbe } from './lib/readBandwidth';
import { interleaved, tokenscopeRunner, transformersRunner, type RunResult, type Runner } from './lib/runners';

const root = resolve(__dirname, '..');
const cacheDir = join(root, '.cache', 'bench-models');
const threads = resolveThreads(0);
const quick = process.argv.includes('--quick');

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** Tokens/s of the best run, each run rated by its median decode step. */
const bestRate = (runs: readonly RunResult[]): number => Math.max(...runs.map((run) => 1000 / median(run.intervals)));
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

const loadSamples: number[] = [];
const sampleLoad = (): number => {
  const load = loadavg()[0];
  loadSamples.push(load);
  return load;
};


/** Code text for prompts: this repository's own runtime source. */
function codeText(): string {
  return ['runtime/localModel.ts', 'modelProcess/client.ts', 'runtime/sampling.ts', 'runtime/kvCache.ts'].map((file) => readFileSync(join(root, 'src', 'core', file), 'utf8')).join('\n');
}

interface Agreement {
  readonly against: string;
  readonly compared: number;
  /** Index of the first differing token, or null when all compared tokens are equal. */
  readonly firstDifference: number | null;
  /** At the first difference: our logit of our token minus our logit of theirs (a near-tie when small). */
  readonly ourMargin?: number;
  /** Spread of our logits at that step (standard deviation), to read the margin against. */
  readonly logitStd?: number;
}

async function agreement(model: LocalModel, prompt: readonly number[], ours: readonly number[], theirs: readonly number[], against: string): Promise<Agreement> {
  const compared = Math.min(ours.length, theirs.length);
  const index = ours.slice(0, compared).findIndex((id, i) => id !== theirs[i]);
  if (index < 0) return { against, compared, firstDifference: null };
  const logits = await model.nextTokenLogits([...prompt, ...ours.slice(0, index)], { reuseCache: false });
  const m = mean([...logits]);
  const std = Math.sqrt(mean([...logits].map((value) => (value - m) ** 2)));
  return { against, compared, firstDifference: index, ourMargin: round(logits[ours[index]] - logits[theirs[index]], 4), logitStd: round(std, 3) };
}

interface DecodeRow {
  readonly model: string;
  readonly runtime: string;
  readonly tokensPerSecond: number;
  readonly bytesPerToken: number;
  readonly bound: Bound;
}

interface Section {
  readonly model: BenchModel;
  readonly rows: Record<string, number | string | null>[];
  readonly decode: DecodeRow[];
  readonly agreements: Agreement[];
  readonly notes: string[];
}

const ratio = (ours: number, theirs: number | undefined, higherIsBetter: boolean): number | null => (theirs === undefined || theirs <= 0 || ours <= 0 ? null : round(higherIsBetter ? ours / theirs : theirs / ours, 2));

function row(workload: string, values: Map<string, number>, higherIsBetter: boolean, digits = 1): Record<string, number | string | null> {
  const ours = values.get('tokenscope') ?? 0;
  return {
    workload,
    tokenscope: round(ours, digits),
    'transformers.js': values.has('transformers.js') ? round(values.get('transformers.js')!, digits) : null,
    'llama.cpp': values.has('llama.cpp') ? round(values.get('llama.cpp')!, digits) : null,
    'x vs transformers.js': ratio(ours, values.get('transformers.js'), higherIsBetter),
    'x vs llama.cpp': ratio(ours, values.get('llama.cpp'), higherIsBetter),
  };
}

async function benchModel(model: BenchModel, probe: ReadBandwidthProbe, text: string, options: { decodeReps: number; newTokens: number; prefillTokens: number; typing: boolean; longContext: number; exactDecode: boolean }): Promise<Section> {
  console.log(`\n--- ${model.label} (load ${sampleLoad().toFixed(2)}) ---`);
  const ours = await tokenscopeRunner(model.dir, { packageRoot: root, threads, variant: model.variant });
  const exact = model.variant === 'q4' ? await tokenscopeRunner(model.dir, { packageRoot: root, threads, variant: model.variant, matmulPrecision: 'exact', name: 'tokenscope-exact' }) : undefined;
  const theirs = await transformersRunner(model.dir, { threads, dtype: model.variant });
  const contextSize = Math.min(model.contextLength, 2048);
  const llama: LlamaCppRunner = await llamaCppRunner(model.gguf, { threads, contextSize });
  const runners: Runner[] = [ours, theirs, llama];
  const notes: string[] = [];
  const allIds = ours.model.tokenizer.encode(text);

  // Warm-up: first runs pay one-time allocations in every runtime.
  for (const runner of [...runners, ...(exact ? [exact] : [])]) await runner.run({ ids: allIds.slice(0, 16) }, 4, false);

  // Greedy agreement on the same prompt.
  const prompt = allIds.slice(0, 32);
  const compareTokens = 32;
  const greedy = new Map<string, number[]>();
  for (const runner of [...runners, ...(exact ? [exact] : [])]) greedy.set(runner.name, (await runner.run({ ids: prompt }, compareTokens, false)).ids);
  const reference = exact ?? ours;
  const agreements = [
    await agreement(ours.model, prompt, greedy.get('tokenscope')!, greedy.get('llama.cpp')!, 'tokenscope vs llama.cpp'),
    ...(exact ? [await agreement(exact.model, prompt, greedy.get('tokenscope-exact')!, greedy.get('llama.cpp')!, 'tokenscope-exact vs llama.cpp')] : []),
    await agreement(reference.model, prompt, greedy.get(reference.name)!, greedy.get('transformers.js')!, `${reference.name} vs transformers.js`),
  ];
  for (const a of agreements) {
    console.log(`greedy ${a.against}: ${a.firstDifference === null ? `all ${a.compared} tokens equal` : `first ${a.firstDifference} of ${a.compared} equal; at token ${a.firstDifference} our logit margin ${a.ourMargin} (logit std ${a.logitStd})`}`);
  }

  // Decode: short interleaved runs, each rated by its median step; the best run counts (load from
  // other programs only ever slows a run down). Each repetition is preceded by read-bandwidth
  // passes over both formats' working sets.
  const decodeContext = prompt.length + options.newTokens / 2;
  const onnxBytes = model.onnxWeightBytes + kvBytesPerToken(model.layers, model.kvHeads, model.headDim, decodeContext, 4);
  const ggufBytes = model.ggufWeightBytes + kvBytesPerToken(model.layers, model.kvHeads, model.headDim, decodeContext, 2);
  const decodeRunners = exact && options.exactDecode ? [ours, exact, theirs, llama] : runners;
  const decode = await interleaved(decodeRunners, options.decodeReps, async (runner) => {
    await probe.measure(onnxBytes, 2);
    await probe.measure(ggufBytes, 2);
    return runner.run({ ids: prompt }, options.newTokens, false);
  });
  const rate = (name: string) => bestRate(decode.get(name)!);
  const rates = new Map(decodeRunners.map((runner) => [runner.name, rate(runner.name)]));
  const decodeRows: DecodeRow[] = decodeRunners.map((runner) => {
    const bytesPerToken = runner.name === 'llama.cpp' ? ggufBytes : onnxBytes;
    const tokensPerSecond = rates.get(runner.name)!;
    return { model: model.label, runtime: runner.name, tokensPerSecond, bytesPerToken, bound: memoryBound({ bytesPerToken, probeBytesPerSecond: probe.bestFor(bytesPerToken), tokensPerSecond }) };
  });
  const rows = [row(`${model.key}: decode tokens/s (32-token prompt, ${options.newTokens} new, best of ${options.decodeReps})`, rates, true)];
  if (rates.has('tokenscope-exact')) {
    const exactRates = new Map([...rates].filter(([name]) => name !== 'tokenscope').map(([name, value]) => [name === 'tokenscope-exact' ? 'tokenscope' : name, value] as const));
    rows.push(row(`${model.key}: decode tokens/s, tokenscope exact (no int8 compute)`, exactRates, true));
  }
  if (exact) await exact.dispose();

  // Prefill: the best time to the first token of a fresh prompt.
  const prefillIds = allIds.slice(100, 100 + options.prefillTokens);
  const prefill = await interleaved(runners, quick ? 2 : 5, (runner) => runner.run({ ids: prefillIds }, 1, false));
  rows.push(row(`${model.key}: prefill tokens/s (${prefillIds.length}-token prompt)`, new Map(runners.map((r) => [r.name, prefillIds.length / (Math.min(...prefill.get(r.name)!.map((x) => x.firstTokenMs)) / 1000)])), true));

  // Decode at a long context: what a completion prompt of a real file looks like.
  if (options.longContext > 0) {
    const longPrompt = allIds.slice(0, options.longContext);
    const long = await interleaved(runners, quick ? 1 : 5, (runner) => runner.run({ ids: longPrompt }, 12, false));
    rows.push(row(`${model.key}: decode tokens/s at a ${longPrompt.length}-token context (12 new, best of 5)`, new Map(runners.map((r) => [r.name, bestRate(long.get(r.name)!)])), true));
  }

  // Typing: a ~400-token file prefix, then 20 prompts each ~4 tokens longer (cut at token ends),
  // as text: every runtime tokenizes it itself.
  if (options.typing) {
    const typingBase = 400;
    const spans = ours.model.tokenizer.encodeWithOffsets(text);
    const offsets = Array.from({ length: 21 }, (_, step) => spans[typingBase + 4 * step - 1].end);
    const prompts = offsets.slice(1, 21).map((end) => text.slice(0, end));
    const mismatched = prompts.filter((p) => llama.tokenize(p).join() !== ours.model.tokenizer.encode(p).join()).length;
    notes.push(`typing prompts tokenized identically by llama.cpp and Tokenscope: ${prompts.length - mismatched} of ${prompts.length}`);
    // Two sessions per runtime, interleaved; the session with the lower mean latency counts.
    // transformers.js recomputes every prompt (seconds per session on mid): one session.
    const session = async (runner: Runner) => {
      // Prime with the file as it was before the typing started (not measured).
      await runner.run({ text: text.slice(0, offsets[0]) }, 8, true);
      const results: RunResult[] = [];
      for (const p of prompts) results.push(await runner.run({ text: p }, 8, true));
      return results;
    };
    const sessions = await interleaved(runners, quick ? 1 : 2, async (runner, rep) => (rep > 0 && runner === theirs ? undefined : session(runner)));
    const best = (name: string) => sessions.get(name)!.filter((results) => results !== undefined).reduce((a, b) => (mean(a.map((x) => x.totalMs)) <= mean(b.map((x) => x.totalMs)) ? a : b));
    const typingMean = (field: 'totalMs' | 'firstTokenMs') => new Map(runners.map((r) => [r.name, mean(best(r.name).map((x) => x[field]))]));
    rows.push(row(`${model.key}: typing, mean latency ms (20 prompts, 8 new tokens)`, typingMean('totalMs'), false));
    rows.push(row(`${model.key}: typing, mean time to first token ms`, typingMean('firstTokenMs'), false));
  }

  for (const runner of runners) await runner.dispose();
  notes.push(`llama.cpp build: ${llama.build}`);
  return { model, rows, decode: decodeRows, agreements, notes };
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const startLoad = sampleLoad();
  console.log(`threads: ${threads} (Tokenscope, transformers.js, llama.cpp and the read probe alike); ${cpus().length} CPUs; load average ${startLoad.toFixed(2)}`);
  const models = [await ensureMini(), await ensureGeneratedModel('mid', 'mid (4 layers, hidden 512, 4-bit)', MID), await ensureGeneratedModel('0.5b', 'Qwen2.5-0.5B shape (24 layers, hidden 896, 4-bit)', QWEN05)];
  const largest = Math.max(...models.flatMap((m) => [m.onnxWeightBytes, m.ggufWeightBytes])) + 64 * 1024 * 1024;
  const probe = await ReadBandwidthProbe.start(threads, largest);
  const text = codeText();

  const sections: Section[] = [];
  sections.push(await benchModel(models[0], probe, text, { decodeReps: quick ? 2 : 12, newTokens: 12, prefillTokens: 384, typing: true, longContext: 0, exactDecode: false }));
  sections.push(await benchModel(models[1], probe, text, { decodeReps: quick ? 2 : 12, newTokens: 12, prefillTokens: 512, typing: true, longContext: 1024, exactDecode: true }));
  sections.push(await benchModel(models[2], probe, text, { decodeReps: quick ? 1 : 10, newTokens: 12, prefillTokens: 512, typing: false, longContext: 0, exactDecode: true }));
  await probe.dispose();
  const endLoad = sampleLoad();

  const rows = sections.flatMap((s) => s.rows);
  const boundRows = sections.flatMap((s) =>
    s.decode.map((d) => ({
      model: s.model.key,
      runtime: d.runtime,
      'MB read/token': round(d.bytesPerToken / 1e6, 1),
      'read GB/s (probe)': round(d.bound.bytesPerSecond / 1e9, 1),
      'bound tokens/s': round(d.bound.boundTokensPerSecond, 1),
      'decode tokens/s': round(d.tokensPerSecond, 1),
      '% of bound': round(d.bound.percentOfBound, 0),
      ...(d.bound.decodeBeatProbe ? { note: 'decode read faster than the probe: bound = the decode itself' } : {}),
    })),
  );
  const loads = { start: round(startLoad, 2), end: round(endLoad, 2), min: round(Math.min(...loadSamples), 2), max: round(Math.max(...loadSamples), 2) };
  const report = {
    date: new Date().toISOString(),
    machine: { threads, cpus: cpus().length, loadAverage: loads },
    note: 'x = how many times better Tokenscope is (higher tokens/s, or lower latency). Best of interleaved repetitions: decode = 1000 / median decode-step ms of the best run; prefill = the shortest time to first token; typing = the session with the lowest mean latency. % of bound: decode tokens/s x bytes read per token / the best streaming-read bandwidth measured with the same threads over a working set of that size (at most 100% by construction).',
    rows,
    bounds: boundRows,
    greedy: sections.map((s) => ({ model: s.model.key, weights: s.model.ggufType, agreements: s.agreements })),
    notes: sections.flatMap((s) => s.notes.map((note) => `${s.model.key}: ${note}`)),
    totalSeconds: round((Date.now() - runStarted) / 1000),
  };

  console.log('');
  console.table(rows);
  console.log('Decode next to the memory bound (read bandwidth measured in this run, interleaved with the decodes):');
  console.table(boundRows);
  for (const note of report.notes) console.log(note);
  console.log(`load average: ${loads.start} at the start, ${loads.end} at the end (min ${loads.min}, max ${loads.max} between sections); total ${report.totalSeconds} s`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'runtime.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('written to bench/results/runtime.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
