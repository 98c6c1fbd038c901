/**
 * `tokenscope serve` benchmark, measured side by side in one run on the same model (the built-in
 * mini, greedy, fp32) and the same prompts (a line typed one character at a time, as completions
 * ask while typing):
 *
 *   1. completion latency in-process (LocalModel behind the completion backend, as the CLI runs it)
 *      vs through `tokenscope serve` (HTTP + SSE to a server process, token-id prompts, the remote
 *      backend the editor uses), interleaved request by request; both must produce the same tokens;
 *   2. `serve` with 1 vs 4 concurrent clients, each sending its requests one after another:
 *      p50/p95 latency per request, requests that failed (none may be dropped).
 *
 *   node --import tsx bench/server.bench.ts [--requests N]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { RuntimeCompletionBackend } from '../src/core/completions/runtimeBackend';
import type { CompletionBackend, GenerateRequest } from '../src/core/completions/backend';
import { TextLines } from '../src/core/completions/document';
import { defaultPromptBudget, extractWindow, LocalPromptBuilder } from '../src/core/completions/promptBuilder';
import { remoteCompletionModel } from '../src/core/openai/remoteCompletionBackend';
import { ServerConnection } from '../src/core/openai/server';
import { LocalModel } from '../src/core/runtime/localModel';

const root = resolve(__dirname, '..');

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function startServe(): Promise<{ url: string; stop: () => Promise<void> }> {
  // One ONNX Runtime thread on each side: on a 2-core machine the other core is left to the HTTP
  // client and server (on a real deployment they run on different machines).
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', '--model', 'mini', '--port', '0', '--threads', '1'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) resolveUrl(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`tokenscope serve exited (${code}):\n${output}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGINT');
      }),
  };
}

interface Sample {
  readonly totalMs: number;
  readonly firstTokenMs: number;
  readonly tokens: number;
  readonly text: string;
  /** Prompt tokens the model had to run (not reused from its KV cache), as the backend reports. */
  readonly prefilled?: number;
}

async function timed(backend: CompletionBackend, request: GenerateRequest): Promise<Sample> {
  const started = performance.now();
  let first: number | undefined;
  let tokens = 0;
  let text = '';
  for await (const chunk of backend.generate(request, new AbortController().signal)) {
    first ??= performance.now() - started;
    tokens += chunk.tokens;
    text += chunk.text;
  }
  return { totalMs: performance.now() - started, firstTokenMs: first ?? performance.now() - started, tokens, text, prefilled: backend.lastSummary?.()?.prefilledTokens };
}

async function main(): Promise<void> {
  const requests = flag('requests', 40);
  const loadBefore = loadavg()[0];
  const local = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: root, cwd: root });
  const serve = await startServe();
  try {
    const connection = new ServerConnection({ baseUrl: serve.url, cacheDir: join(root, '.cache', 'bench-server-tokenizers') });
    const remoteModel = await remoteCompletionModel({ connection, model: '' });
    if (remoteModel.mode !== 'token-ids') throw new Error(`expected token-id prompts, got ${remoteModel.mode}`);
    const inProcess = new RuntimeCompletionBackend(local);
    const builder = new LocalPromptBuilder(local.tokenizer, remoteModel.template);

    // Prompts: a line of a real file typed one character at a time (each prompt a bit longer).
    const source = readFileSync(join(root, 'src', 'core', 'completions', 'engine.ts'), 'utf8').split('\n');
    const lineIndex = source.findIndex((line, index) => index > 60 && line.trim().length >= 60);
    const target = source[lineIndex];
    const indent = target.length - target.trimStart().length;
    const prompts: GenerateRequest[] = [];
    for (let typed = 0; prompts.length < requests; typed++) {
      const line = target.slice(0, indent + (typed % (target.length - indent)));
      const document = new TextLines([...source.slice(Math.max(0, lineIndex - 60), lineIndex), line].join('\n'));
      const window = extractWindow(document, { line: document.lineCount - 1, character: line.length }, defaultPromptBudget, 'engine.ts');
      const built = builder.build({ window, budget: defaultPromptBudget, contextLength: local.info.contextLength, maxTokens: 16 });
      prompts.push({ promptIds: built.ids, maxTokens: 16, stopTokenIds: built.stopTokenIds, stopStrings: built.stopStrings });
    }

    // 1. In-process vs serve, interleaved (which goes first alternates), warm-up excluded.
    await timed(inProcess, prompts[0]);
    await timed(remoteModel.backend, prompts[0]);
    const local1: Sample[] = [];
    const served1: Sample[] = [];
    let sameTokens = 0;
    for (let index = 0; index < prompts.length; index++) {
      let pair: [Sample, Sample];
      if (index % 2 === 0) {
        const inside = await timed(inProcess, prompts[index]);
        pair = [inside, await timed(remoteModel.backend, prompts[index])];
      } else {
        const served = await timed(remoteModel.backend, prompts[index]);
        pair = [await timed(inProcess, prompts[index]), served];
      }
      local1.push(pair[0]);
      served1.push(pair[1]);
      if (pair[0].text === pair[1].text) sameTokens++;
    }
    // The fixed cost of a request (HTTP, JSON, SSE, queue) apart from decoding: one token each.
    const oneLocal: number[] = [];
    const oneServed: number[] = [];
    for (let index = 0; index < prompts.length; index++) {
      const single = { ...prompts[index], maxTokens: 1 };
      oneLocal.push((await timed(inProcess, single)).totalMs);
      oneServed.push((await timed(remoteModel.backend, single)).totalMs);
    }
    const p50Local = percentile(local1.map((s) => s.totalMs), 50);
    const p50Served = percentile(served1.map((s) => s.totalMs), 50);
    const overheadMs = p50Served - p50Local;
    const overheadRatio = p50Served / p50Local;

    // 2. 1 vs 4 concurrent clients on serve, each sending its requests in turn.
    const clientRun = async (clients: number, perClient: number) => {
      const latencies: number[] = [];
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          const own = await remoteCompletionModel({ connection: new ServerConnection({ baseUrl: serve.url, cacheDir: join(root, '.cache', 'bench-server-tokenizers') }), model: '' });
          for (let index = 0; index < perClient; index++) {
            try {
              latencies.push((await timed(own.backend, prompts[(client * 7 + index) % prompts.length])).totalMs);
            } catch {
              failed++;
            }
          }
        }),
      );
      return { clients, requests: clients * perClient, failed, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), wallMs: performance.now() - started };
    };
    const perClient = Math.max(5, Math.round(requests / 4));
    const one = await clientRun(1, perClient);
    const four = await clientRun(4, perClient);
    const loadAfter = loadavg()[0];

    const f = (value: number) => value.toFixed(1);
    const lines = [
      `Built-in model (greedy, ${local.info.variant}, 1 ONNX Runtime thread on each side), ${prompts.length} prompts of ${percentile(prompts.map((p) => p.promptIds.length), 50)} tokens (p50), up to 16 new tokens each; load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
      '',
      '| path | p50 ms | p95 ms | first token p50 ms |',
      '|---|---|---|---|',
      `| in-process (LocalModel) | ${f(p50Local)} | ${f(percentile(local1.map((s) => s.totalMs), 95))} | ${f(percentile(local1.map((s) => s.firstTokenMs), 50))} |`,
      `| tokenscope serve (HTTP, SSE, token ids) | ${f(p50Served)} | ${f(percentile(served1.map((s) => s.totalMs), 95))} | ${f(percentile(served1.map((s) => s.firstTokenMs), 50))} |`,
      `| in-process, 1 token (the prompt reused from the KV cache) | ${f(percentile(oneLocal, 50))} | ${f(percentile(oneLocal, 95))} | |`,
      `| tokenscope serve, 1 token | ${f(percentile(oneServed, 50))} | ${f(percentile(oneServed, 95))} | |`,
      '',
      `Prompt tokens run per request (not reused from the KV cache), p50: in-process ${percentile(local1.map((s) => s.prefilled ?? NaN), 50)}, serve ${percentile(served1.map((s) => s.prefilled ?? NaN), 50)}.`,
      `HTTP adds ${f(overheadMs)} ms at p50 (${((overheadRatio - 1) * 100).toFixed(1)}%) for up to 16 tokens, ${f(percentile(oneServed, 50) - percentile(oneLocal, 50))} ms for one; goal: under 10% or 5 ms. Same tokens from both: ${sameTokens}/${prompts.length}.`,
      '',
      '| serve clients | requests | failed | p50 ms | p95 ms | wall s |',
      '|---|---|---|---|---|---|',
      ...[one, four].map((run) => `| ${run.clients} | ${run.requests} | ${run.failed} | ${f(run.p50Ms)} | ${f(run.p95Ms)} | ${(run.wallMs / 1000).toFixed(2)} |`),
      '',
      'With one model, 4 clients take turns (fair queue): per-request latency grows with the queue, nothing is dropped.',
    ];
    console.log(lines.join('\n'));
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'server.json'),
      `${JSON.stringify({ loadAverage: { before: loadBefore, after: loadAfter }, prompts: prompts.length, inProcess: { p50Ms: p50Local, p95Ms: percentile(local1.map((s) => s.totalMs), 95) }, serve: { p50Ms: p50Served, p95Ms: percentile(served1.map((s) => s.totalMs), 95) }, overheadMsP50: overheadMs, overheadRatioP50: overheadRatio, oneToken: { inProcessP50Ms: percentile(oneLocal, 50), serveP50Ms: percentile(oneServed, 50) }, sameTokens, concurrency: [one, four] }, null, 1)}\n`,
    );
    await connection.close();
  } finally {
    await serve.stop();
    await local.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
