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
 *   node --import tsx bench/server.bench.ts [--requests N]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { RuntimeCompletionBackend } from '../src/core/completions/runtimeBackend';
import type { CompletionBackend, GenerateRequest } from '../src/core/completions/backend';
import { TextLines } from '../src/core/completions/document';
import { defaultPromptBudget, extractWindow, LocalPromptBuilder } from '../src/core/completions/promptBuilder';
import type { FetchFunction, FetchResponse } from '../src/core/openai/client';
import { remoteCompletionModel } from '../src/core/openai/remoteCompletionBackend';
import { ServerConnection } from '../src/core/openai/server';
import { LocalModel } from '../src/core/runtime/localModel';
import { ModelProcessClient } from '../src/core/runtime/modelProcessClient';
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

/** CPU time (user + system, ms) of another process of this machine, from /proc (Linux); NaN elsewhere. */
function processCpuMs(pid: number | undefined): number {
  const path = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(path)) return NaN;
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
  const ticksPerSecond = 100;
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
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
  readonly tokens: number;
  readonly text: string;
  /** Prompt tokens the model had to run (not reused from its KV cache), as the backend reports. */
  readonly prefilled?: number;
  /** Client-side timeline (monotonic ms): request sent, each chunk yielded (and when its bytes came out of fetch), the end. */
  readonly startedAt: number;
  readonly chunks: readonly { readonly at: number; readonly bytesAt: number }[];
  readonly endedAt: number;
}

/** When the last body bytes came out of fetch (the traced connection's fetch sets it). */
const clientBytes = { at: 0 };

async function timed(backend: CompletionBackend, request: GenerateRequest): Promise<Sample> {
  const started = performance.now();
  const startedAt = monotonicMs();
  let first: number | undefined;
  let tokens = 0;
  let text = '';
  const chunks: { at: number; bytesAt: number }[] = [];
  for await (const chunk of backend.generate(request, new AbortController().signal)) {
    first ??= performance.now() - started;
    chunks.push({ at: monotonicMs(), bytesAt: clientBytes.at });
    tokens += chunk.tokens;
    text += chunk.text;
  }
  const totalMs = performance.now() - started;
  return { totalMs, firstTokenMs: first ?? totalMs, tokens, text, prefilled: backend.lastSummary?.()?.prefilledTokens, startedAt, chunks, endedAt: monotonicMs() };
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

async function getTrace(url: string): Promise<TraceSnapshot> {
  const response = await fetch(`${url}/tokenscope/trace`);
  if (!response.ok) throw new Error(`GET /v1/tokenscope/trace: HTTP ${response.status} (is ${SERVE_TRACE_ENV}=1 reaching serve?)`);
  return (await response.json()) as TraceSnapshot;
}

async function main(): Promise<void> {
  const requests = flag('requests', 40);
  const loadBefore = loadavg()[0];
  const local = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: root, cwd: root });
  const processClient = new ModelProcessClient({ entry: join(root, 'src', 'model-process', 'main.ts'), execArgv: ['--import', 'tsx'], packageRoot: root });
  await processClient.load({ model: 'mini', threads: 1 });
  const serve = await startServe();
  try {
    const connection = new ServerConnection({ baseUrl: serve.url, cacheDir: tokenizerCache });
    const remoteModel = await remoteCompletionModel({ connection, model: '' });
    if (remoteModel.mode !== 'token-ids') throw new Error(`expected token-id prompts, got ${remoteModel.mode}`);
    const servedPid = ((await (await fetch(serve.url.replace(/\/v1$/, '/health'))).json()) as { modelProcessPid?: number }).modelProcessPid;
    const inProcess = new RuntimeCompletionBackend(local);
    const viaProcess = new RuntimeCompletionBackend(processClient);
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

    // 1. Model process vs serve (and this process as a reference), interleaved: which goes first rotates.
    const paths = [
      { name: 'model process', backend: viaProcess as CompletionBackend },
      { name: 'serve', backend: remoteModel.backend as CompletionBackend },
      { name: 'in this process', backend: inProcess as CompletionBackend },
    ];
    for (const path of paths) await timed(path.backend, prompts[0]);
    const samples = new Map<string, Sample[]>(paths.map((path) => [path.name, []]));
    const oneToken = new Map<string, number[]>(paths.map((path) => [path.name, []]));
    let sameTokens = 0;
    const loadSideBySide = loadavg()[0];
    for (let index = 0; index < prompts.length; index++) {
      const texts: string[] = [];
      for (let turn = 0; turn < paths.length; turn++) {
        const path = paths[(index + turn) % paths.length];
        const sample = await timed(path.backend, prompts[index]);
        samples.get(path.name)!.push(sample);
        texts.push(sample.text);
      }
      if (texts.every((text) => text === texts[0])) sameTokens++;
    }
    // The fixed cost of a request (HTTP, JSON, SSE, queue) apart from decoding: one token each.
    for (let index = 0; index < prompts.length; index++) {
      for (let turn = 0; turn < paths.length; turn++) {
        const path = paths[(index + turn) % paths.length];
        oneToken.get(path.name)!.push((await timed(path.backend, { ...prompts[index], maxTokens: 1 })).totalMs);
      }
    }
    const loadAfterSideBySide = loadavg()[0];
    const total = (name: string) => samples.get(name)!.map((sample) => sample.totalMs);
    const first = (name: string) => samples.get(name)!.map((sample) => sample.firstTokenMs);
    const p50Process = median(total('model process'));
    const p50Served = median(total('serve'));
    const overheadMs = p50Served - p50Process;
    const overheadPercent = (p50Served / p50Process - 1) * 100;
    const oneOverheadMs = median(oneToken.get('serve')!) - median(oneToken.get('model process')!);
    const goalMet = overheadMs < 5 || overheadPercent < 10;

    // 2. Where the time goes: the same prompts through each path alone (so each process's CPU time
    // belongs to one path), serve traced, the client timestamping what it receives.
    const breakdownRequests = Math.min(prompts.length, 20);
    const tracedConnection = new ServerConnection({ baseUrl: serve.url, cacheDir: tokenizerCache, fetch: tracedFetch });
    const tracedModel = await remoteCompletionModel({ connection: tracedConnection, model: '' });
    await timed(tracedModel.backend, prompts[0]);
    const clientLoop = monitorEventLoopDelay({ resolution: 10 });
    const measure = async (backend: CompletionBackend, pids: readonly (number | undefined)[]) => {
      const cpuBefore = pids.map(processCpuMs);
      const ownBefore = ownCpuMs();
      clientLoop.reset();
      clientLoop.enable();
      const runs: Sample[] = [];
      for (let index = 0; index < breakdownRequests; index++) runs.push(await timed(backend, prompts[index]));
      clientLoop.disable();
      const cpu = pids.map((pid, index) => (processCpuMs(pid) - cpuBefore[index]) / breakdownRequests);
      return { runs, ownCpuMs: (ownCpuMs() - ownBefore) / breakdownRequests, cpu, clientLoopP99Ms: loopDelayMs(clientLoop.percentile(99), 10), clientLoopMaxMs: loopDelayMs(clientLoop.max, 10) };
    };
    const loadBreakdown = loadavg()[0];
    const direct = await measure(viaProcess, [processClient.pid]);
    await getTrace(serve.url);
    const served = await measure(tracedModel.backend, [serve.pid, servedPid]);
    const trace = await getTrace(serve.url);
    const traced = trace.requests.filter((request: RequestTrace) => request.route === '/completions');
    const breakdown = breakdownOf(direct.runs, served.runs, traced);

    // 3. 1 vs 4 concurrent clients on serve, each sending its requests in turn.
    const clientRun = async (clients: number, perClient: number) => {
      const latencies: number[] = [];
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async (_, client) => {
          const own = await remoteCompletionModel({ connection: new ServerConnection({ baseUrl: serve.url, cacheDir: tokenizerCache }), model: '' });
          for (let index = 0; index < perClient; index++) {
            try {
              latencies.push((await timed(own.backend, prompts[(client * 7 + index) % prompts.length])).totalMs);
            } catch {
              failed++;
            }
          }
        }),
      );
      return { clients, requests: clients * perClient, failed, p50Ms: median(latencies), p95Ms: percentile(latencies, 95), wallMs: performance.now() - started };
    };
    const perClient = Math.max(5, Math.round(requests / 4));
    const one = await clientRun(1, perClient);
    const four = await clientRun(4, perClient);
    const loadAfter = loadavg()[0];

    const f = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
    const f2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
    const row = (label: string, name: string) => `| ${label} | ${f(median(total(name)))} | ${f(percentile(total(name), 95))} | ${f(median(first(name)))} | ${f(median(oneToken.get(name)!))} |`;
    const lines = [
      `Built-in model (greedy, ${local.info.variant}, 1 ONNX Runtime thread per model), ${prompts.length} prompts of ${median(prompts.map((p) => p.promptIds.length))} tokens (p50), up to 16 new tokens each; load average ${loadBefore.toFixed(2)} at the start, ${loadSideBySide.toFixed(2)} → ${loadAfterSideBySide.toFixed(2)} during the side-by-side run, ${loadAfter.toFixed(2)} at the end.`,
      '',
      '| path | p50 ms | p95 ms | first token p50 ms | 1 token p50 ms |',
      '|---|---|---|---|---|',
      row('model process (as the editor runs it)', 'model process'),
      row('tokenscope serve (HTTP + SSE → serve → its model process)', 'serve'),
      row('reference: the model in this process (LocalModel)', 'in this process'),
      '',
      `Prompt tokens run per request (not reused from the KV cache), p50: model process ${median(samples.get('model process')!.map((s) => s.prefilled ?? NaN))}, serve ${median(samples.get('serve')!.map((s) => s.prefilled ?? NaN))}. Same tokens from all three: ${sameTokens}/${prompts.length}.`,
      `serve adds ${f(overheadMs)} ms at p50 (${overheadPercent.toFixed(1)}%) over the model process for up to 16 tokens, ${f(oneOverheadMs)} ms for one token. Goal (under 10% or 5 ms at p50): ${goalMet ? 'MET' : 'NOT MET'}.`,
      '',
      `Where the time goes (${breakdownRequests} requests through each path alone, serve traced; load average ${loadBreakdown.toFixed(2)}). Per request, p50:`,
      '',
      '| | model process | serve |',
      '|---|---|---|',
      `| total ms | ${f(median(direct.runs.map((r) => r.endedAt - r.startedAt)))} | ${f(median(served.runs.map((r) => r.endedAt - r.startedAt)))} |`,
      `| first token at the client ms | ${f(median(direct.runs.map((r) => (r.chunks[0]?.at ?? NaN) - r.startedAt)))} | ${f(median(served.runs.map((r) => (r.chunks[0]?.at ?? NaN) - r.startedAt)))} |`,
      `| tokens streamed | ${median(direct.runs.map((r) => r.tokens))} | ${median(served.runs.map((r) => r.tokens))} |`,
      `| CPU ms per request: this process (the client) | ${f2(direct.ownCpuMs)} | ${f2(served.ownCpuMs)} |`,
      `| CPU ms per request: serve's process | | ${f2(served.cpu[0])} |`,
      `| CPU ms per request: the model process | ${f2(direct.cpu[0])} | ${f2(served.cpu[1])} |`,
      `| client event-loop delay p99 / max ms | ${f(direct.clientLoopP99Ms)} / ${f(direct.clientLoopMaxMs)} | ${f(served.clientLoopP99Ms)} / ${f(served.clientLoopMaxMs)} |`,
      `| serve's event-loop delay p50 / p99 / max ms | | ${f(trace.eventLoopDelayMs.p50)} / ${f(trace.eventLoopDelayMs.p99)} / ${f(trace.eventLoopDelayMs.max)} |`,
      '',
      'serve, per request (p50 ms): ' + breakdown.request.map(([label, value]) => `${label} ${f2(value)}`).join('; ') + '.',
      'serve, per token (p50 / p95 ms): ' + breakdown.token.map(([label, values]) => `${label} ${f2(values[0])} / ${f2(values[1])}`).join('; ') + '.',
      `Token interval at the receiver (p50 ms): model process → this process ${f2(breakdown.directInterval)}; serve's model process → serve ${f2(breakdown.servedInterval)}; → client ${f2(breakdown.clientInterval)}. Tokens per SSE write: ${f2(breakdown.tokensPerWrite)}.`,
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
      `${JSON.stringify(
        {
          loadAverage: { before: loadBefore, sideBySide: [loadSideBySide, loadAfterSideBySide], breakdown: loadBreakdown, after: loadAfter },
          prompts: prompts.length,
          modelProcess: { p50Ms: p50Process, p95Ms: percentile(total('model process'), 95), firstTokenP50Ms: median(first('model process')) },
          serve: { p50Ms: p50Served, p95Ms: percentile(total('serve'), 95), firstTokenP50Ms: median(first('serve')) },
          inThisProcess: { p50Ms: median(total('in this process')), p95Ms: percentile(total('in this process'), 95) },
          overheadMsP50: overheadMs,
          overheadPercentP50: overheadPercent,
          goalMet,
          oneToken: Object.fromEntries([...oneToken].map(([name, values]) => [name, median(values)])),
          sameTokens,
          breakdown: {
            cpuMsPerRequest: { client: { modelProcess: direct.ownCpuMs, serve: served.ownCpuMs }, serveProcess: served.cpu[0], modelProcess: { direct: direct.cpu[0], serve: served.cpu[1] } },
            serveEventLoopDelayMs: trace.eventLoopDelayMs,
            request: Object.fromEntries(breakdown.request),
            token: Object.fromEntries(breakdown.token),
            intervals: { direct: breakdown.directInterval, served: breakdown.servedInterval, client: breakdown.clientInterval },
            tokensPerWrite: breakdown.tokensPerWrite,
          },
          concurrency: [one, four],
        },
        null,
        1,
      )}\n`,
    );
    await connection.close();
    await tracedConnection.close();
  } finally {
    await serve.stop();
    await processClient.dispose();
    await local.dispose();
  }
}

/**
 * Lines the client's timestamps up with serve's (one clock: CLOCK_MONOTONIC), request by request
 * (they ran one after another, in the same order).
 */
function breakdownOf(direct: readonly Sample[], served: readonly Sample[], traces: readonly RequestTrace[]) {
  const perRequest = new Map<string, number[]>();
  const perToken = new Map<string, number[]>();
  const add = (map: Map<string, number[]>, label: string, value: number | undefined) => {
    if (value === undefined || !Number.isFinite(value)) return;
    if (!map.has(label)) map.set(label, []);
    map.get(label)!.push(value);
  };
  const intervals = (times: readonly number[]) => times.slice(1).map((at, index) => at - times[index]);
  const servedIntervals: number[] = [];
  const clientIntervals: number[] = [];
  let writtenTokens = 0;
  let tokenWrites = 0;
  const count = Math.min(served.length, traces.length);
  for (let index = 0; index < count; index++) {
    const sample = served[index];
    const trace = traces[index];
    const events = trace.events;
    const start = events.find((event) => event.type === 'start');
    const tokens = events.filter((event) => event.type === 'token');
    const end = events.find((event) => event.type === 'end');
    const writes = trace.writes.filter((write) => write.tokens > 0);
    const lastWrite = trace.writes[trace.writes.length - 1];
    add(perRequest, 'client → serve has the request', trace.receivedAt - sample.startedAt);
    add(perRequest, 'body read + prompt checked', (trace.preparedAt ?? NaN) - trace.receivedAt);
    add(perRequest, 'turn granted', (trace.grantedAt ?? NaN) - (trace.preparedAt ?? NaN));
    add(perRequest, 'turn → start event from the model process', (start?.at ?? NaN) - (trace.grantedAt ?? NaN));
    add(perRequest, 'first token arrived in serve (from the client sending)', tokens.length > 0 ? tokens[0].at - sample.startedAt : undefined);
    add(perRequest, "model's prefill", trace.modelMs?.prefill);
    add(perRequest, "model's decode", trace.modelMs?.decode);
    add(perRequest, 'end event → [DONE] written', lastWrite && end ? lastWrite.at - end.at : undefined);
    add(perRequest, '[DONE] written → client done', lastWrite ? sample.endedAt - lastWrite.at : undefined);
    add(perRequest, 'last token at the client → client done', sample.chunks.length > 0 ? sample.endedAt - sample.chunks[sample.chunks.length - 1].at : undefined);
    servedIntervals.push(...intervals(tokens.map((event) => event.at)));
    clientIntervals.push(...intervals(sample.chunks.map((chunk) => chunk.at)));
    writtenTokens += writes.reduce((sum, write) => sum + write.tokens, 0);
    tokenWrites += writes.length;
    // Token events in order; writes carry them in order (one or more per write); the client yields one chunk per write.
    let tokenIndex = 0;
    writes.forEach((write, writeIndex) => {
      const carried = tokens.slice(tokenIndex, tokenIndex + write.tokens);
      tokenIndex += write.tokens;
      for (const token of carried) add(perToken, 'arrived in serve → written', write.at - token.at);
      add(perToken, 'written → flushed to the kernel', write.flushedAt !== undefined ? write.flushedAt - write.at : undefined);
      const chunk = sample.chunks[writeIndex];
      if (chunk) {
        add(perToken, 'written → bytes out of fetch at the client', chunk.bytesAt - write.at);
        add(perToken, 'bytes → event parsed at the client', chunk.at - chunk.bytesAt);
        add(perToken, 'written → event at the client', chunk.at - write.at);
      }
    });
  }
  const directIntervals = direct.flatMap((sample) => intervals(sample.chunks.map((chunk) => chunk.at)));
  return {
    request: [...perRequest].map(([label, values]) => [label, median(values)] as [string, number]),
    token: [...perToken].map(([label, values]) => [label, [median(values), percentile(values, 95)]] as [string, [number, number]]),
    directInterval: median(directIntervals),
    servedInterval: median(servedIntervals),
    clientInterval: median(clientIntervals),
    tokensPerWrite: tokenWrites > 0 ? writtenTokens / tokenWrites : NaN,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
