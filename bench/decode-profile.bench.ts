/**
 * Where a decode step of Tokenscope's runtime spends its time, on the runtime benchmark's models
 * (bench/lib/benchModels.ts, built into .cache/bench-models unless already there), at a short and
 * a long context:
 *
 *   node --import tsx bench/decode-profile.bench.ts      (or: npm run bench -- decode-profile)
 *
 * Per step (median over the decode steps of the best of three generations):
 * - ONNX Runtime's own time for the pass (its profiler's `model_run`), split by operator type;
 * - the binding: session.run's wall time minus model_run (wrapping the feeds, copying every output,
 *   the past/present KV tensors and the logits, into new JavaScript arrays);
 * - feeds, cache and logits hand-over in LocalModel (its onForwardPass timings);
 * - sampling: greedy pick and log-normalizer over the real logits of that model;
 * - the rest: detokenizing, stop matching, events and the event-loop turns between passes.
 * Results: a table and bench/results/decode-profile.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalModel, type ForwardPassTimings } from '../src/core/runtime/localModel';
import { argmaxLogSumExp } from '../src/core/runtime/sampling';
import { resolveThreads } from '../src/core/runtime/threads';
import { MID, QWEN05, ensureGeneratedModel, ensureMini } from './lib/benchModels';

const root = resolve(__dirname, '..');
const threads = resolveThreads(0);
const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
};
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

interface ProfileEvent {
  readonly cat: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly args?: { readonly op_name?: string };
}

interface ProfiledModel {
  readonly key: string;
  readonly dir: string;
  readonly variant: 'q4' | 'fp32';
}

async function profile(model: ProfiledModel, context: number, newTokens: number): Promise<Record<string, number | string>> {
  const scratch = mkdtempSync(join(tmpdir(), 'tokenscope-profile-'));
  const passes: ForwardPassTimings[] = [];
  const local = await LocalModel.load({ model: model.dir, variant: model.variant, threads }, { packageRoot: root, onForwardPass: (pass) => passes.push(pass), ortProfilePrefix: join(scratch, 'ort') });
  try {
    const text = ['runtime/localModel.ts', 'modelProcess/client.ts', 'runtime/sampling.ts', 'runtime/kvCache.ts'].map((file) => readFileSync(join(root, 'src', 'core', file), 'utf8')).join('\n');
    const prompt = local.tokenizer.encode(text).slice(0, Math.min(context, local.info.contextLength - newTokens - 1));
    // Best of three generations (by median step), the passes and stamps of that one kept.
    let best: { intervals: number[]; decodePasses: ForwardPassTimings[]; firstPass: number } | undefined;
    for (let rep = 0; rep < 3; rep++) {
      const firstPass = passes.length;
      const stamps: number[] = [];
      for await (const event of local.generate({ prompt: { kind: 'tokens', ids: prompt }, maxTokens: newTokens, sampling: { temperature: 0 }, ignoreEos: true, reuseCache: false })) {
        if (event.type === 'token') stamps.push(performance.now());
      }
      const intervals = stamps.slice(1).map((stamp, i) => stamp - stamps[i]);
      const decodePasses = passes.slice(firstPass).filter((pass) => pass.tokens === 1 && pass.pastLength >= prompt.length);
      if (!best || median(intervals) < median(best.intervals)) best = { intervals, decodePasses, firstPass };
    }
    const logits = await local.nextTokenLogits(prompt, { reuseCache: false });
    const sampling: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      argmaxLogSumExp(logits);
      sampling.push(performance.now() - started);
    }
    const decodeIndex = new Set(best!.decodePasses.map((pass) => passes.indexOf(pass)));
    await local.dispose();
    const file = readdirSync(scratch).find((name) => name.endsWith('.json'));
    const events: ProfileEvent[] = file ? (JSON.parse(readFileSync(join(scratch, file), 'utf8')) as ProfileEvent[]) : [];
    // model_run events are in pass order (one per session.run, nextTokenLogits' last).
    const runs = events.filter((event) => event.name === 'model_run');
    if (runs.length !== passes.length) throw new Error(`ONNX Runtime profiled ${runs.length} runs for ${passes.length} forward passes: cannot match them`);
    const nodes = events.filter((event) => event.cat === 'Node' && event.name.endsWith('_kernel_time'));
    const ortMs: number[] = [];
    const byOp = new Map<string, number[]>();
    runs.forEach((run, index) => {
      if (!decodeIndex.has(index)) return;
      ortMs.push(run.dur / 1000);
      const ops = new Map<string, number>();
      for (const node of nodes) if (node.ts >= run.ts && node.ts <= run.ts + run.dur) ops.set(node.args?.op_name ?? '?', (ops.get(node.args?.op_name ?? '?') ?? 0) + node.dur / 1000);
      for (const [op, ms] of ops) byOp.set(op, [...(byOp.get(op) ?? []), ms]);
    });
    const op = (names: readonly string[]) => names.reduce((sum, name) => sum + median(byOp.get(name) ?? []), 0);
    const matmul = op(['MatMulNBits', 'MatMul', 'FusedMatMul', 'Gemm']);
    const attention = op(['GroupQueryAttention', 'MultiHeadAttention', 'Attention', 'Softmax']);
    const ort = median(ortMs);
    const run = median(best!.decodePasses.map((pass) => pass.runMs));
    const step = median(best!.intervals);
    const feeds = median(best!.decodePasses.map((pass) => pass.feedsMs));
    const cache = median(best!.decodePasses.map((pass) => pass.cacheMs));
    const logitsMs = median(best!.decodePasses.map((pass) => pass.logitsMs));
    const sample = median(sampling);
    const kvMb = (2 * local.info.numLayers * local.info.numKvHeads * local.info.headDim * (prompt.length + newTokens / 2) * 4) / 1e6;
    return {
      model: model.key,
      context: prompt.length,
      'step ms': round(step),
      'ORT ms': round(ort),
      '  matmuls': round(matmul),
      '  attention': round(attention),
      '  other ops': round(Math.max(0, ort - matmul - attention)),
      'binding ms (feed/fetch copies)': round(Math.max(0, run - ort)),
      'KV MB copied out': round(kvMb, 1),
      'feeds ms': round(feeds, 3),
      'cache ms': round(cache, 3),
      'logits ms': round(logitsMs, 3),
      'sampling ms': round(sample, 3),
      'rest ms (JS, events)': round(Math.max(0, step - run - feeds - cache - logitsMs - sample)),
      tokensPerSecond: round(1000 / step, 1),
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  mkdirSync(join(root, '.cache', 'bench-models'), { recursive: true });
  const models: ProfiledModel[] = [await ensureMini(), await ensureGeneratedModel('mid', 'mid', MID), await ensureGeneratedModel('0.5b', '0.5B shape', QWEN05)];
  const startLoad = loadavg()[0];
  console.log(`threads: ${threads}; load average ${startLoad.toFixed(2)}`);
  const rows: Record<string, number | string>[] = [];
  for (const model of models) {
    for (const context of model.key === 'mini' ? [32, 448] : [32, 1024]) {
      rows.push(await profile(model, context, 16));
      console.log(`${model.key} @ ${context}: done (load ${loadavg()[0].toFixed(2)})`);
    }
  }
  console.table(rows);
  const endLoad = loadavg()[0];
  console.log(`load average ${startLoad.toFixed(2)} at the start, ${endLoad.toFixed(2)} at the end`);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'decode-profile.json'), `${JSON.stringify({ date: new Date().toISOString(), threads, loadAverage: { start: round(startLoad), end: round(endLoad) }, rows }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
