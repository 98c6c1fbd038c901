/**
 * `tokenscope serve` benchmark, measured side by side in one run on the same model (the built-in
 * mini, greedy, fp32, one ONNX Runtime thread per model) and the same prompts (a line typed one
 * character at a time, as completions ask while typing):
 *
 *   1. completion latency through the model process as the editor runs it (ModelProcessClient in
 *      this process, the model in a forked model process) vs through `tokenscope serve` (HTTP + SSE
 *      to the server process, which runs the same model process behind the same client; token-id
 *      prompts; the remote backend the editor uses), interleaved request by request: serve adds
 *      one HTTP hop. The model in this very process (LocalModel, what the CLI's other commands
 *      run) is a third, reference row. All must produce the same tokens. Goal: serve adds under
 *      10% or 5 ms at p50 over the model process;
 *   2. where the time goes (instrumented: serve's own timestamps through TOKENSCOPE_SERVE_TRACE,
 *      the client's, CPU time of every process, event-loop delay), per request and per token;
 *   3. `serve` with 1 vs 4 concurrent clients, each sending its requests one after another:
 *      p50/p95 latency per request, requests that failed (none may be dropped).
 *
 *   node --import tsx bench/server.bench.ts [--requests N]   (default 120 prompts)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import diagnosticsChannel from 'node:diagnostics_channel';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { RuntimeCompletionBackend, type GenerationSource } from '../src/core/completions/runtimeBackend';
import type { CompletionBackend, CompletionGenerateRequest } from '../src/core/completions/backend';
import { TextLines } from '../src/core/completions/document';
import { defaultPromptBudget, extractWindow, LocalPromptBuilder } from '../src/core/completions/promptBuilder';
import type { FetchFunction, FetchResponse } from '../src/core/openai/client';
import { remoteCompletionModel } from '../src/core/openai/remoteCompletionBackend';
import { ServerConnection } from '../src/core/openai/server';
import { LocalModel } from '../src/core/runtime/localModel';
import { ModelProcessClient } from '../src/core/modelProcess/client';
import { loopDelayMs, monotonicMs, SERVE_TRACE_ENV, type RequestTrace, type TraceSnapshot } from '../src/server/serveTrace';

const root = resolve(__dirname, '..');
const tokenizerCache = join(root, '.cache', 'bench-server-tokenizers');

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const median = (values: readonly number[]) => percentile(values, 50);

/**
 * CPU time (ms) of another process of this machine, all its threads: the scheduler's own runtime
 * per thread from /proc/<pid>/task/<tid>/schedstat (ns; /proc/<pid>/stat counts 10 ms ticks, too
 * coarse for one request). Linux only; NaN elsewhere.
 */
function processCpuMs(pid: number | undefined): number {
  const tasks = `/proc/${pid}/task`;
  if (pid === undefined || !existsSync(tasks)) return NaN;
  let ns = 0;
  for (const tid of readdirSync(tasks)) {
    try {
      ns += Number(readFileSync(`${tasks}/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that just ended.
    }
  }
  return ns / 1e6;
}

const ownCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

async function startServe(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  // One ONNX Runtime thread per model: on a 2-core machine the other core is left to the HTTP
  // client and server (on a real deployment they run on different machines).
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), 'serve', '--model', 'mini', '--port', '0', '--threads', '1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [SERVE_TRACE_ENV]: '1' },
  });
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
    pid: child.pid!,
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
  /** Until the first chunk that ends a line (where the completion engine stops reading a one-line suggestion); the total if none did. */
  readonly firstLineMs: number;
  readonly tokens: number;
  readonly text: string;
  /** Prompt tokens the model had to run (not reused from its KV cache), as the backend reports. */
  readonly prefilled?: number;
  /** Client-side timeline (monotonic ms): request sent, each chunk yielded (and when its bytes came out of fetch), the end. */
  readonly startedAt: number;
  readonly chunks: readonly { readonly at: number; readonly bytesAt: number }[];
  readonly endedAt: number;
  /** CPU time (ms) this request took in this process (the client) and in each of the path's processes (in `pids` order). */
  readonly cpuMs: readonly number[];
  /** The model's own prefill and decode time, from its `end` event (direct paths). */
  readonly modelMs?: { readonly prefill: number; readonly decode: number };
  /** Inside fetch (HTTP paths): see {@link clientHttp}. */
  readonly http: typeof clientHttp;
}

/** One way to the model: the backend, the processes it runs in besides this one, its `end` timings. */
interface Path {
  readonly name: string;
  readonly backend: CompletionBackend;
  readonly pids: readonly (number | undefined)[];
  /** Every process whose CPU time is read around each request, whatever the path (the same reads for all paths). */
  readonly watched?: readonly (number | undefined)[];
  readonly lastModelMs?: () => { readonly prefill: number; readonly decode: number } | undefined;
}

/** When the last body bytes came out of fetch (the traced connection's fetch sets it). */
const clientBytes = { at: 0 };

/**
 * The last HTTP request's steps inside fetch (Node's undici publishes them on diagnostics
 * channels): request created, response headers in.
 */
const clientHttp = { createdAt: NaN, headersAt: NaN };
diagnosticsChannel.subscribe('undici:request:create', () => (clientHttp.createdAt = monotonicMs()));
diagnosticsChannel.subscribe('undici:request:headers', () => (clientHttp.headersAt = monotonicMs()));

async function timed(path: Path, request: CompletionGenerateRequest): Promise<Sample> {
  const watched = path.watched ?? path.pids;
  const cpuBefore = watched.map(processCpuMs);
  const ownBefore = ownCpuMs();
  const started = performance.now();
  const startedAt = monotonicMs();
  let first: number | undefined;
  let line: number | undefined;
  let tokens = 0;
  let text = '';
  const chunks: { at: number; bytesAt: number }[] = [];
  for await (const chunk of path.backend.generate(request, new AbortController().signal)) {
    first ??= performance.now() - started;
    if (line === undefined && chunk.text.includes('\n')) line = performance.now() - started;
    chunks.push({ at: monotonicMs(), bytesAt: clientBytes.at });
    tokens += chunk.tokens;
    text += chunk.text;
  }
  const totalMs = performance.now() - started;
  const endedAt = monotonicMs();
  const ownAfter = ownCpuMs();
  const cpuAfter = watched.map(processCpuMs);
  const cpuOf = (pid: number | undefined) => cpuAfter[watched.indexOf(pid)] - cpuBefore[watched.indexOf(pid)];
  return {
    totalMs,
    firstTokenMs: first ?? totalMs,
    firstLineMs: line ?? totalMs,
    tokens,
    text,
    prefilled: path.backend.lastSummary?.()?.prefilledTokens,
    startedAt,
    chunks,
    endedAt,
    cpuMs: [ownAfter - ownBefore, ...path.pids.map(cpuOf)],
    modelMs: path.lastModelMs?.(),
    http: { ...clientHttp },
  };
}

/** A generation source that remembers the model's own timings of its last `end` event. */
function withEndTimings(source: GenerationSource): GenerationSource & { last?: { prefill: number; decode: number } } {
  const tapped: GenerationSource & { last?: { prefill: number; decode: number } } = {
    async *generate(request, signal) {
      for await (const event of source.generate(request, signal)) {
        if (event.type === 'end') tapped.last = { prefill: event.timings.prefillMs, decode: event.timings.decodeMs };
        yield event;
      }
    },
  };
  return tapped;
}

/** Node's fetch, noting when each body chunk comes out of it (the breakdown's "bytes at the client"). */
const tracedFetch: FetchFunction = async (url, init) => {
  const response = await fetch(url, init);
  const body = response.body as unknown as AsyncIterable<Uint8Array> | null;
  const wrapped: FetchResponse = {
    status: response.status,
    headers: response.headers,
    text: () => response.text(),
    body: body && {
      async *[Symbol.asyncIterator]() {
        for await (const chunk of body) {
          clientBytes.at = monotonicMs();
          yield chunk;
        }
      },
    },
  };
  return wrapped;
};

/** serve's trace since the last call; `eventLoop` starts or stops measuring its event-loop delay. */
async function getTrace(url: string, eventLoop?: 'on' | 'off'): Promise<TraceSnapshot> {
  const response = await fetch(`${url}/tokenscope/trace${eventLoop ? `?eventLoop=${eventLoop}` : ''}`);
  if (!response.ok) throw new Error(`GET /v1/tokenscope/trace: HTTP ${response.status} (is ${SERVE_TRACE_ENV}=1 reaching serve?)`);
  return (await response.json()) as TraceSnapshot;
}

async function main(): Promise<void> {
  // Many prompts: on a shared machine the load swings during a run; the p50 of many pairs settles.
  const requests = flag('requests', 120);
  const loadBefore = loadavg()[0];
  const local = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: root, cwd: root });
  const processClient = new ModelProcessClient({ entry: join(root, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: root });
  await processClient.load({ model: 'mini', threads: 1 });
  const serve = await startServe();
  try {
    const connection = new ServerConnection({ baseUrl: serve.url, cacheDir: tokenizerCache, fetch: tracedFetch });
    const remoteModel = await remoteCompletionModel({ connection, model: '' });
    if (remoteModel.mode !== 'token-ids') throw new Error(`expected token-id prompts, got ${remoteModel.mode}`);
    const servedPid = ((await (await fetch(serve.url.replace(/\/v1$/, '/health'))).json()) as { modelProcessPid?: number }).modelProcessPid;
    const processSource = withEndTimings(processClient);
    const localSource = withEndTimings(local);
    const builder = new LocalPromptBuilder(local.tokenizer, remoteModel.template);

    // Prompts: a line of a real file typed one character at a time (each prompt a bit longer).
    const source = readFileSync(join(root, 'src', 'core', 'completions', 'engine.ts'), 'utf8').split('\n');
    const lineIndex = source.findIndex((line, index) => index > 60 && line.trim().length >= 60);
    const target = source[lineIndex];
    const indent = target.length - target.trimStart().length;
    const prompts: CompletionGenerateRequest[] = [];
    for (let typed = 0; prompts.length < requests; typed++) {
      const line = target.slice(0, indent + (typed % (target.length - indent)));
      const document = new TextLines([...source.slice(Math.max(0, lineIndex - 60), lineIndex), line].join('\n'));
      const window = extractWindow(document, { line: document.lineCount - 1, character: line.length }, defaultPromptBudget, 'engine.ts');
      const built = builder.build({ window, budget: defaultPromptBudget, contextLength: local.info.contextLength, maxTokens: 16 });
      prompts.push({ promptIds: built.ids, maxTokens: 16, stopTokenIds: built.stopTokenIds, stopStrings: built.stopStrings });
    }

    // 1. Model process vs serve, interleaved request by request (which goes first alternates). serve
    // is traced throughout; the client notes when body bytes come out of fetch.
    // Both paths read the CPU time of all three processes around each request (the reads cost the same for both).
    const watched = [processClient.pid, serve.pid, servedPid];
    const viaProcess: Path = { name: 'model process', backend: new RuntimeCompletionBackend(processSource), pids: [processClient.pid], watched, lastModelMs: () => processSource.last };
    const viaServe: Path = { name: 'serve', backend: remoteModel.backend, pids: [serve.pid, servedPid], watched };
    const inProcess: Path = { name: 'in this process', backend: new RuntimeCompletionBackend(localSource), pids: [], lastModelMs: () => localSource.last };
    const paths = [viaProcess, viaServe];
    for (const path of [...paths, inProcess]) await timed(path, prompts[0]);
    const samples = new Map<string, Sample[]>(paths.map((path) => [path.name, []]));
    const oneToken = new Map<string, number[]>(paths.map((path) => [path.name, []]));
    let sameTokens = 0;
    const loadSideBySide = loadavg()[0];
    await getTrace(serve.url);
    for (let index = 0; index < prompts.length; index++) {
      const texts: string[] = [];
      for (let turn = 0; turn < paths.length; turn++) {
        const path = paths[(index + turn) % paths.length];
        const sample = await timed(path, prompts[index]);
        samples.get(path.name)!.push(sample);
        texts.push(sample.text);
      }
      if (texts.every((text) => text === texts[0])) sameTokens++;
    }
    const interleavedTrace = await getTrace(serve.url);
    // The fixed cost of a request (HTTP, JSON, SSE, queue) apart from decoding: one token each.
    for (let index = 0; index < prompts.length; index++) {
      for (let turn = 0; turn < paths.length; turn++) {
        const path = paths[(index + turn) % paths.length];
        oneToken.get(path.name)!.push((await timed(path, { ...prompts[index], maxTokens: 1 })).totalMs);
      }
    }
    const loadAfterSideBySide = loadavg()[0];
    const total = (name: string) => samples.get(name)!.map((sample) => sample.totalMs);
    const first = (name: string) => samples.get(name)!.map((sample) => sample.firstTokenMs);
    const firstLine = (name: string) => samples.get(name)!.map((sample) => sample.firstLineMs);
    const p50Process = median(total('model process'));
    const p50Served = median(total('serve'));
    const overheadMs = p50Served - p50Process;
    const overheadPercent = (p50Served / p50Process - 1) * 100;
    const oneOverheadMs = median(oneToken.get('serve')!) - median(oneToken.get('model process')!);
    // The same prompt through both paths, one right after the other: the p50 of these differences
    // does not move with the load's slow swings as the difference of two p50s can.
    const pairedMs = median(samples.get('serve')!.map((sample, index) => sample.totalMs - samples.get('model process')![index].totalMs));
    const goalMet = overheadMs < 5 || overheadPercent < 10;

    // 2. The same prompts through each path alone, back to back (warm: nothing else ran between).
    const aloneRequests = Math.min(prompts.length, 20);
    const alone = async (path: Path) => {
      const runs: Sample[] = [];
      for (let index = 0; index < aloneRequests; index++) runs.push(await timed(path, prompts[index]));
      return { runs };
    };
    const loadAlone = loadavg()[0];
    const directAlone = await alone(viaProcess);
    await getTrace(serve.url);
    const servedAlone = await alone(viaServe);
    const aloneTrace = await getTrace(serve.url);
    // Reference: the model in this very process (what the CLI's other commands run), the same prompts.
    const localAlone = await alone(inProcess);
    const sameLocal = localAlone.runs.filter((run, index) => run.text === directAlone.runs[index].text).length;
    const interleaved = breakdownOf(samples.get('model process')!, samples.get('serve')!, interleavedTrace.requests.filter((request) => request.route === '/completions'));
    const warm = breakdownOf(directAlone.runs, servedAlone.runs, aloneTrace.requests.filter((request) => request.route === '/completions'));

    // 3. 1 vs 4 concurrent clients on serve, each sending its requests in turn. The event-loop delay
    // of serve and of this process is measured here only (its sampling timer wakes each process
    // every 10 ms, a cost the latency figures above should not carry).
    const clientLoop = monitorEventLoopDelay({ resolution: 10 });
    const clientRun = async (clients: number, perClient: number) => {
      const latencies: number[] = [];
      let failed = 0;
      await getTrace(serve.url, 'on');
      clientLoop.reset();
      clientLoop.enable();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          const own = await remoteCompletionModel({ connection: new ServerConnection({ baseUrl: serve.url, cacheDir: tokenizerCache }), model: '' });
          for (let index = 0; index < perClient; index++) {
            try {
              latencies.push((await timed({ name: `client ${client}`, backend: own.backend, pids: [] }, prompts[(client * 7 + index) % prompts.length])).totalMs);
            } catch {
              failed++;
            }
          }
        }),
      );
      const wallMs = performance.now() - started;
      clientLoop.disable();
      const serveLoop = (await getTrace(serve.url, 'off')).eventLoopDelayMs;
      return {
        clients,
        requests: clients * perClient,
        failed,
        p50Ms: median(latencies),
        p95Ms: percentile(latencies, 95),
        wallMs,
        eventLoopDelayMs: { serve: { p99: serveLoop?.p99 ?? NaN, max: serveLoop?.max ?? NaN }, client: { p99: loopDelayMs(clientLoop.percentile(99), 10), max: loopDelayMs(clientLoop.max, 10) } },
      };
    };
    const perClient = Math.max(5, Math.round(requests / 4));
    const one = await clientRun(1, perClient);
    const four = await clientRun(4, perClient);
    const loadAfter = loadavg()[0];

    const f = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
    const f2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
    const row = (label: string, name: string) => `| ${label} | ${f(median(total(name)))} | ${f(percentile(total(name), 95))} | ${f(median(first(name)))} | ${f(median(firstLine(name)))} | ${f(median(oneToken.get(name)!))} |`;
    const both = (label: string, pick: (b: Breakdown) => readonly [number, number], format = f) => `| ${label} | ${[interleaved, warm].map((b) => pick(b).map(format).join(' | ')).join(' | ')} |`;
    const servedOnly = (label: string, pick: (b: Breakdown) => number, format = f2) => `| ${label} | | ${format(pick(interleaved))} | | ${format(pick(warm))} |`;
    const lines = [
      `Built-in model (greedy, ${local.info.variant}, 1 ONNX Runtime thread per model), ${prompts.length} prompts of ${median(prompts.map((p) => p.promptIds.length))} tokens (p50), up to 16 new tokens each; load average ${loadBefore.toFixed(2)} at the start, ${loadSideBySide.toFixed(2)} → ${loadAfterSideBySide.toFixed(2)} during the side-by-side run, ${loadAfter.toFixed(2)} at the end.`,
      '',
      '| path | p50 ms | p95 ms | first token p50 ms | first line p50 ms | 1 token p50 ms |',
      '|---|---|---|---|---|---|',
      row('model process (as the editor runs it)', 'model process'),
      row('tokenscope serve (HTTP + SSE → serve → its model process)', 'serve'),
      '',
      `Prompt tokens run per request (not reused from the KV cache), p50: model process ${median(samples.get('model process')!.map((s) => s.prefilled ?? NaN))}, serve ${median(samples.get('serve')!.map((s) => s.prefilled ?? NaN))}. Same tokens: serve and the model process ${sameTokens}/${prompts.length}, this process and the model process ${sameLocal}/${aloneRequests}.`,
      `serve adds ${f(overheadMs)} ms at p50 (${overheadPercent.toFixed(1)}%) over the model process for up to 16 tokens (p50 of the per-prompt differences: ${f(pairedMs)} ms), ${f(oneOverheadMs)} ms for one token. Goal (under 10% or 5 ms at p50): ${goalMet ? 'MET' : 'NOT MET'}.`,
      '',
      `Where the time goes, p50 per request: in the side-by-side run above (interleaved: each path's processes slept while the others ran) and ${aloneRequests} requests through each path alone, back to back (warm; load average ${loadAlone.toFixed(2)}). serve is traced (its own timestamps, on the clock the client uses).`,
      '',
      '| | interleaved: model process | serve | alone: model process | serve |',
      '|---|---|---|---|---|',
      both('total ms', (b) => [b.direct.total, b.served.total]),
      `| reference: the model in this process (LocalModel), total ms | | | ${f(median(localAlone.runs.map((run) => run.endedAt - run.startedAt)))} | |`,
      both('first token at the client ms', (b) => [b.direct.firstToken, b.served.firstToken]),
      both("the model's own prefill ms", (b) => [b.direct.prefill, b.served.prefill], f2),
      both("the model's own decode ms", (b) => [b.direct.decode, b.served.decode]),
      both('token interval at the receiver ms', (b) => [b.direct.interval, b.served.clientInterval], f2),
      both('CPU ms: this process (the client)', (b) => [b.direct.cpu[0], b.served.cpu[0]], f2),
      servedOnly("CPU ms: serve's process", (b) => b.served.cpu[1]),
      both('CPU ms: the model process', (b) => [b.direct.cpu[1], b.served.cpu[2]], f2),
      servedOnly('request sent → serve has it ms', (b) => b.served.steps.received),
      servedOnly('  of which: the client until fetch has created the request ms', (b) => b.served.steps.fetchCreated),
      servedOnly('  then: written to the socket, serve woken, HTTP parsed ms', (b) => b.served.steps.createdToServe),
      servedOnly('body read, prompt checked and encoded ms', (b) => b.served.steps.prepared),
      servedOnly('turn in the fair queue ms', (b) => b.served.steps.granted),
      servedOnly('turn → start event from the model process ms', (b) => b.served.steps.started),
      servedOnly('first token: arrived in serve (from the request sent) ms', (b) => b.served.steps.firstTokenInServe),
      servedOnly('first token: arrived in serve → written ms', (b) => b.served.steps.firstTokenWritten),
      servedOnly('first token: written → parsed at the client (fetch resolves with it) ms', (b) => b.served.steps.firstTokenToClient),
      servedOnly('  of which: written → response headers in at the client ms', (b) => b.served.steps.firstWriteToHeaders),
      servedOnly('  then: headers in → the first event out of the client ms', (b) => b.served.steps.headersToFirstChunk),
      servedOnly('token interval: model process → serve ms', (b) => b.served.serveInterval),
      servedOnly('per token: arrived in serve → written (the stream interval) ms', (b) => b.served.perToken.held),
      servedOnly('per token: written → bytes out of fetch at the client ms', (b) => b.served.perToken.toClientBytes),
      servedOnly('per token: bytes → event parsed at the client ms', (b) => b.served.perToken.parsed),
      servedOnly('tokens per SSE event', (b) => b.served.tokensPerWrite),
      servedOnly('end event → [DONE] written ms', (b) => b.served.steps.endToDone),
      servedOnly('[DONE] written → the client has the whole answer ms', (b) => b.served.steps.doneToClient),
      '',
      '| serve clients | requests | failed | p50 ms | p95 ms | wall s | serve event-loop delay p99 / max ms | client event-loop delay p99 / max ms |',
      '|---|---|---|---|---|---|---|---|',
      ...[one, four].map(
        (run) =>
          `| ${run.clients} | ${run.requests} | ${run.failed} | ${f(run.p50Ms)} | ${f(run.p95Ms)} | ${(run.wallMs / 1000).toFixed(2)} | ${f(run.eventLoopDelayMs.serve.p99)} / ${f(run.eventLoopDelayMs.serve.max)} | ${f(run.eventLoopDelayMs.client.p99)} / ${f(run.eventLoopDelayMs.client.max)} |`,
      ),
      '',
      'With one model, 4 clients take turns (fair queue): per-request latency grows with the queue, nothing is dropped.',
    ];
    console.log(lines.join('\n'));
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'server.json'),
      `${JSON.stringify(
        {
          loadAverage: { before: loadBefore, sideBySide: [loadSideBySide, loadAfterSideBySide], alone: loadAlone, after: loadAfter },
          prompts: prompts.length,
          modelProcess: { p50Ms: p50Process, p95Ms: percentile(total('model process'), 95), firstTokenP50Ms: median(first('model process')), firstLineP50Ms: median(firstLine('model process')) },
          serve: { p50Ms: p50Served, p95Ms: percentile(total('serve'), 95), firstTokenP50Ms: median(first('serve')), firstLineP50Ms: median(firstLine('serve')) },
          inThisProcessAlone: { p50Ms: median(localAlone.runs.map((run) => run.totalMs)), p95Ms: percentile(localAlone.runs.map((run) => run.totalMs), 95) },
          overheadMsP50: overheadMs,
          overheadPercentP50: overheadPercent,
          pairedDifferenceP50Ms: pairedMs,
          goalMet,
          oneToken: Object.fromEntries([...oneToken].map(([name, values]) => [name, median(values)])),
          sameTokens: { serve: sameTokens, inThisProcess: sameLocal },
          breakdown: { interleaved, alone: warm },
          concurrency: [one, four],
        },
        null,
        1,
      )}\n`,
    );
    await connection.close();
  } finally {
    await serve.stop();
    await processClient.dispose();
    await local.dispose();
  }
}

type Breakdown = ReturnType<typeof breakdownOf>;

/**
 * p50s of one set of requests through the model process and through serve; serve's trace is
 * lined up with the client's timestamps (one clock, CLOCK_MONOTONIC) request by request (they
 * ran one after another, in the same order).
 */
function breakdownOf(direct: readonly Sample[], served: readonly Sample[], traces: readonly RequestTrace[]) {
  const intervals = (times: readonly number[]) => times.slice(1).map((at, index) => at - times[index]);
  const p50 = (values: readonly (number | undefined)[]) => median(values.filter((value): value is number => value !== undefined && Number.isFinite(value)));
  const common = (samples: readonly Sample[]) => ({
    total: p50(samples.map((sample) => sample.endedAt - sample.startedAt)),
    firstToken: p50(samples.map((sample) => (sample.chunks[0]?.at ?? NaN) - sample.startedAt)),
    clientInterval: p50(samples.flatMap((sample) => intervals(sample.chunks.map((chunk) => chunk.at)))),
    cpu: samples[0]?.cpuMs.map((_, index) => p50(samples.map((sample) => sample.cpuMs[index]))) ?? [],
  });
  const pairs = served.slice(0, traces.length).map((sample, index) => ({ sample, trace: traces[index] }));
  const held: number[] = [];
  const toClientBytes: number[] = [];
  const parsed: number[] = [];
  let writtenTokens = 0;
  let tokenWrites = 0;
  for (const { sample, trace } of pairs) {
    const tokens = trace.events.filter((event) => event.type === 'token');
    // Token events in order; writes carry them in order (one or more each); the client yields one chunk per write.
    let tokenIndex = 0;
    trace.writes
      .filter((write) => write.tokens > 0)
      .forEach((write, writeIndex) => {
        for (const token of tokens.slice(tokenIndex, tokenIndex + write.tokens)) held.push(write.at - token.at);
        tokenIndex += write.tokens;
        writtenTokens += write.tokens;
        tokenWrites++;
        const chunk = sample.chunks[writeIndex];
        if (chunk) {
          toClientBytes.push(chunk.bytesAt - write.at);
          parsed.push(chunk.at - chunk.bytesAt);
        }
      });
  }
  const step = (pick: (sample: Sample, trace: RequestTrace) => number | undefined) => p50(pairs.map(({ sample, trace }) => pick(sample, trace)));
  const eventAt = (trace: RequestTrace, type: string) => trace.events.find((event) => event.type === type)?.at;
  return {
    direct: {
      ...common(direct),
      interval: common(direct).clientInterval,
      prefill: p50(direct.map((sample) => sample.modelMs?.prefill)),
      decode: p50(direct.map((sample) => sample.modelMs?.decode)),
    },
    served: {
      ...common(served),
      prefill: step((_, trace) => trace.modelMs?.prefill),
      decode: step((_, trace) => trace.modelMs?.decode),
      serveInterval: p50(pairs.flatMap(({ trace }) => intervals(trace.events.filter((event) => event.type === 'token').map((event) => event.at)))),
      steps: {
        received: step((sample, trace) => trace.receivedAt - sample.startedAt),
        fetchCreated: step((sample) => sample.http.createdAt - sample.startedAt),
        createdToServe: step((sample, trace) => trace.receivedAt - sample.http.createdAt),
        prepared: step((_, trace) => (trace.preparedAt ?? NaN) - trace.receivedAt),
        granted: step((_, trace) => (trace.grantedAt ?? NaN) - (trace.preparedAt ?? NaN)),
        started: step((_, trace) => (eventAt(trace, 'start') ?? NaN) - (trace.grantedAt ?? NaN)),
        firstTokenInServe: step((sample, trace) => (eventAt(trace, 'token') ?? NaN) - sample.startedAt),
        firstTokenWritten: step((_, trace) => (trace.writes.find((write) => write.tokens > 0)?.at ?? NaN) - (eventAt(trace, 'token') ?? NaN)),
        firstTokenToClient: step((sample, trace) => (sample.chunks[0]?.at ?? NaN) - (trace.writes.find((write) => write.tokens > 0)?.at ?? NaN)),
        firstWriteToHeaders: step((sample, trace) => sample.http.headersAt - (trace.writes.find((write) => write.tokens > 0)?.at ?? NaN)),
        headersToFirstChunk: step((sample) => (sample.chunks[0]?.at ?? NaN) - sample.http.headersAt),
        endToDone: step((_, trace) => (trace.writes[trace.writes.length - 1]?.at ?? NaN) - (eventAt(trace, 'end') ?? NaN)),
        doneToClient: step((sample, trace) => sample.endedAt - (trace.writes[trace.writes.length - 1]?.at ?? NaN)),
      },
      perToken: { held: p50(held), toClientBytes: p50(toClientBytes), parsed: p50(parsed) },
      tokensPerWrite: tokenWrites > 0 ? writtenTokens / tokenWrites : NaN,
    },
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
