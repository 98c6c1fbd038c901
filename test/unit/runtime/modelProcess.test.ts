import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelError } from '../../../src/core/models/errors';
import { ModelProcessClient, type CrashInfo, type ModelProcessClientOptions, type ModelProcessState } from '../../../src/core/modelProcess/client';
import { GenerationAbortedError, type GenerateRequest } from '../../../src/core/runtime/types';
import { collect, fixture, loadFixture, repoRoot } from './helpers';

const entry = join(repoRoot, 'src', 'model-process', 'main.ts');

function client(options: Partial<ModelProcessClientOptions> = {}): ModelProcessClient {
  return new ModelProcessClient({ entry, execArgv: ['--import', 'tsx'], packageRoot: repoRoot, testHooks: true, restartDelaysMs: [50], ...options });
}

function waitForState(target: ModelProcessClient, status: ModelProcessState['status'], timeoutMs = 20000): Promise<ModelProcessState> {
  if (target.state.status === status) return Promise.resolve(target.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state ${status} not reached (now ${target.state.status})`)), timeoutMs);
    const subscription = target.onDidChangeState((state) => {
      if (state.status !== status) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(state);
    });
  });
}

const request: GenerateRequest = { prompt: { kind: 'text', text: 'def hello_world():\n' }, maxTokens: 10, sampling: { temperature: 0 }, topLogprobs: 2 };

test('the model process generates exactly what the in-process engine does, and reports its states', async () => {
  const states: string[] = [];
  const target = client();
  target.onDidChangeState((state) => states.push(state.status));
  try {
    const info = await target.load({ model: fixture('tiny-qwen2'), threads: 1 });
    assert.equal(info.modelType, 'qwen2');
    assert.deepEqual(states, ['starting', 'idle', 'loading', 'ready']);
    const remote = await collect(target.generate(request));
    const local = await loadFixture('tiny-qwen2');
    try {
      const inProcess = await collect(local.generate(request));
      assert.deepEqual(remote.tokens, inProcess.tokens);
      assert.equal(remote.end.text, inProcess.end.text);
      assert.deepEqual(await target.encodePrompt({ kind: 'text', text: 'hello <|im_end|>' }), local.tokenizer.encode('hello <|im_end|>'));
    } finally {
      await local.dispose();
    }
    const status = await target.ping();
    assert.equal(status.model?.id, info.id);
    assert.equal(status.activeGenerations, 0);
    // A load error keeps its code and message across the process boundary.
    await assert.rejects(target.load({ model: join(repoRoot, 'missing-model') }), (error: unknown) => error instanceof ModelError && error.code === 'not-found' && /does not exist/.test(error.message));
    assert.equal(target.state.status, 'error');
  } finally {
    await target.dispose();
  }
  assert.equal(target.state.status, 'stopped');
});

/** The nice value of each thread of a process (Linux: field 19 of /proc/PID/task/TID/stat). */
function threadNiceValues(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((thread) => Number(readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[16]));
}

test('asked to run below normal priority, every thread of the model process does, ONNX Runtime\'s pool included', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const ownNice = threadNiceValues(process.pid)[0];
  assert.ok(ownNice < 10, `this test process runs at nice ${ownNice}`);
  const lowered = client({ priority: 'below-normal' });
  const normal = client();
  try {
    // Two intra-op threads: ONNX Runtime starts a pool thread for the second, during the load.
    await Promise.all([lowered.load({ model: fixture('tiny-qwen2'), threads: 2 }), normal.load({ model: fixture('tiny-qwen2'), threads: 2 })]);
    await Promise.all([collect(lowered.generate(request)), collect(normal.generate(request))]);
    const loweredNice = threadNiceValues(lowered.pid!);
    const normalNice = threadNiceValues(normal.pid!);
    assert.equal(loweredNice.length, normalNice.length, 'the same threads in both');
    assert.deepEqual([...new Set(loweredNice)], [10], `every thread at nice 10: ${loweredNice.join(' ')}`);
    assert.deepEqual([...new Set(normalNice)], [ownNice], `and at ours without the option: ${normalNice.join(' ')}`);
  } finally {
    await Promise.all([lowered.dispose(), normal.dispose()]);
  }
});

test('cancelling stops the work in the process within one forward pass', async () => {
  const target = client();
  try {
    await target.load({ model: fixture('tiny-qwen2'), threads: 1 });
    const stepMs = 150;
    await target.sendTestMessage({ type: 'test-slow-steps', ms: stepMs });
    const controller = new AbortController();
    let abortedAt = 0;
    await assert.rejects(
      (async () => {
        for await (const event of target.generate({ ...request, maxTokens: 200, ignoreEos: true }, controller.signal)) {
          if (event.type === 'token') {
            abortedAt = Date.now();
            controller.abort();
          }
        }
      })(),
      GenerationAbortedError,
    );
    const rejectedAfter = Date.now() - abortedAt;
    assert.ok(rejectedAfter < 50, `the client rejects at once (${rejectedAfter} ms)`);
    // Poll until the process has no generation left: at most the step in progress, plus slack.
    let status = await target.ping();
    while (status.activeGenerations > 0) status = await target.ping();
    const idleAfter = Date.now() - abortedAt;
    assert.ok(idleAfter < 2.5 * stepMs, `process idle ${idleAfter} ms after the abort (one step is ${stepMs} ms)`);
    await target.sendTestMessage({ type: 'test-slow-steps', ms: 0 });
    const after = await collect(target.generate(request));
    assert.equal(after.tokens.length, 10);
  } finally {
    await target.dispose();
  }
});

test('a crash fails requests in flight with a clear error, then the process restarts and reloads the model', async () => {
  const target = client();
  const crashes: CrashInfo[] = [];
  target.onDidCrash((crash) => crashes.push(crash));
  try {
    await target.load({ model: fixture('tiny-qwen2'), threads: 1 });
    const firstPid = target.pid;
    await target.sendTestMessage({ type: 'test-slow-steps', ms: 100 });
    const running = collect(target.generate({ ...request, maxTokens: 200, ignoreEos: true }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await target.sendTestMessage({ type: 'test-crash' });
    await assert.rejects(running, (error: unknown) => error instanceof ModelError && error.code === 'process' && /stopped while generating.*exit code 134.*restarted/.test(error.message));
    assert.equal(crashes.length, 1);
    assert.equal(crashes[0].failedRequests, 1);
    const ready = await waitForState(target, 'ready');
    assert.equal(ready.status === 'ready' && ready.info.dir, fixture('tiny-qwen2'));
    assert.notEqual(target.pid, firstPid);
    const after = await collect(target.generate(request));
    assert.equal(after.tokens.length, 10);
  } finally {
    await target.dispose();
  }
});

test('a hung process is killed after the request timeout and restarted', async () => {
  const target = client({ requestTimeoutMs: 800 });
  try {
    await target.load({ model: fixture('tiny-qwen2'), threads: 1 });
    await target.sendTestMessage({ type: 'test-hang', ms: 30000 });
    const started = Date.now();
    await assert.rejects(target.ping(), (error: unknown) => error instanceof ModelError && /stopped responding for \d+ s while answering a ping/.test(error.message));
    assert.ok(Date.now() - started < 5000);
    await waitForState(target, 'ready');
    assert.equal((await collect(target.generate(request))).tokens.length, 10);
  } finally {
    await target.dispose();
  }
});

test('restarting stops after repeated crashes; test hooks are refused without the flag', async () => {
  const target = client({ maxRestarts: 1 });
  try {
    await target.load({ model: fixture('tiny-bigcode'), threads: 1 });
    await target.sendTestMessage({ type: 'test-crash' });
    await waitForState(target, 'restarting');
    await waitForState(target, 'ready');
    await target.sendTestMessage({ type: 'test-crash' });
    const failed = await waitForState(target, 'failed');
    assert.match(failed.status === 'failed' ? failed.error.message : '', /crashed 2 times in 5 minutes/);
    // Requests fail fast instead of restarting a crashing process again and again; so does loading the same model.
    await assert.rejects(collect(target.generate(request)), /crashed 2 times in 5 minutes/);
    await assert.rejects(target.load({ model: fixture('tiny-bigcode'), threads: 1 }), /crashed 2 times in 5 minutes/);
    assert.equal(target.pid, undefined);
    // The user's Restart Model Process starts over.
    await target.restart();
    assert.equal(target.state.status, 'ready');
  } finally {
    await target.dispose();
  }
  const production = client({ testHooks: false });
  try {
    await assert.rejects(production.sendTestMessage({ type: 'test-crash' }), /disabled/);
  } finally {
    await production.dispose();
  }
});
