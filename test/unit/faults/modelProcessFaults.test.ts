// Fault injection on the model process, with real processes: killed with SIGKILL from outside
// mid-stream, crashing on every request, hung, and restarted with requests in flight or queued.
// Each case asserts what the user is told (the error a request fails with, the state the status
// bar shows) and that nothing is lost (a request sent during a restart is answered, not dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelError } from '../../../src/core/models/errors';
import { ModelProcessClient, ModelProcessStoppedError, systemClock, type ModelProcessClientOptions, type ModelProcessState } from '../../../src/core/modelProcess/client';
import type { GenerateRequest, LoadModelRequest } from '../../../src/core/runtime/types';
import { collect, fixture, loadFixture, repoRoot } from '../runtime/helpers';

const entry = join(repoRoot, 'src', 'model-process', 'main.ts');

function client(options: Partial<ModelProcessClientOptions> = {}): ModelProcessClient {
  return new ModelProcessClient({ entry, execArgv: ['--import', 'tsx'], packageRoot: repoRoot, testHooks: true, restartDelaysMs: [50, 100], ...options });
}

function waitForState(target: ModelProcessClient, status: ModelProcessState['status'], timeoutMs = 30_000): Promise<ModelProcessState> {
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

/** Every process id the client ran, in order (a respawn adds one). */
function trackPids(target: ModelProcessClient): number[] {
  const pids: number[] = [];
  target.onDidChangeState(() => {
    const pid = target.pid;
    if (pid !== undefined && pids.at(-1) !== pid) pids.push(pid);
  });
  return pids;
}

/** SIGKILL from outside, as the kernel's OOM killer or a user's `kill -9` would. */
function killFromOutside(target: ModelProcessClient): number {
  const pid = target.pid;
  assert.ok(pid, 'the model process is running');
  process.kill(pid, 'SIGKILL');
  return pid;
}

const model: LoadModelRequest = { model: fixture('tiny-qwen2'), threads: 1 };
const request: GenerateRequest = { prompt: { kind: 'text', text: 'def hello_world():\n' }, maxTokens: 10, sampling: { temperature: 0 } };
const longRequest: GenerateRequest = { ...request, maxTokens: 100, ignoreEos: true };

test('kill -9 from outside mid-stream: the stream fails saying so, the model comes back, the next answer is complete', { timeout: 60_000 }, async () => {
  const target = client();
  const local = await loadFixture('tiny-qwen2');
  try {
    await target.load(model);
    await target.sendTestMessage({ type: 'test-slow-steps', ms: 30 });
    let tokens = 0;
    const killed: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of target.generate(longRequest)) {
          if (event.type === 'token' && ++tokens === 3) killed.push(killFromOutside(target));
        }
      })(),
      (error: unknown) => error instanceof ModelError && error.code === 'process' && /stopped while generating: it exited unexpectedly \(exit code null, signal SIGKILL\)\. It is being restarted and the model reloaded; try again in a moment\./.test(error.message),
    );
    assert.equal(killed.length, 1);
    assert.equal(target.state.status, 'restarting', 'the status bar says it is restarting');
    await waitForState(target, 'ready');
    assert.notEqual(target.pid, killed[0]);
    const after = await collect(target.generate(request));
    assert.deepEqual(after.tokens.map((token) => token.id), (await collect(local.generate(request))).tokens.map((token) => token.id), 'the reloaded model answers exactly as before');
  } finally {
    await local.dispose();
    await target.dispose();
  }
});

test('requests sent while the process restarts wait for the reload and are answered (never "No model is loaded")', { timeout: 60_000 }, async () => {
  const target = client({ restartDelaysMs: [300] });
  const local = await loadFixture('tiny-qwen2');
  try {
    await target.load(model);
    killFromOutside(target);
    await waitForState(target, 'restarting');
    // Sent during the backoff, before the process is even respawned: the chat counts its prompt, then generates.
    const [ids, answer, status] = await Promise.all([target.encodePrompt({ kind: 'text', text: 'def f():' }), collect(target.generate(request)), target.ping()]);
    assert.deepEqual(ids, local.tokenizer.encode('def f():'));
    assert.equal(answer.tokens.length, 10);
    assert.equal(status.model?.id, model.model, 'the ping was answered by the reloaded process');
    assert.equal(target.state.status, 'ready');
  } finally {
    await local.dispose();
    await target.dispose();
  }
});

test('a model that crashes on every request: restarting stops after the limit even though every request calls load() first', { timeout: 90_000 }, async () => {
  const maxRestarts = 2;
  const target = client({ maxRestarts });
  const pids = trackPids(target);
  const states: string[] = [];
  target.onDidChangeState((state) => states.push(state.status));
  const failures: string[] = [];
  try {
    // What the extension does for each completion: ensureLoaded() (load() unless ready), then generate.
    for (let index = 0; index < 8; index++) {
      try {
        if (target.state.status !== 'ready') await target.load(model);
        for await (const event of target.generate(longRequest)) {
          if (event.type === 'start') killFromOutside(target);
        }
        failures.push('answered');
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    assert.equal(pids.length, maxRestarts + 1, `processes started: ${pids.length} (${states.join(' → ')})`);
    assert.equal(target.state.status, 'failed');
    const stopped = target.state.status === 'failed' ? target.state.error.message : '';
    assert.match(stopped, /^The model process crashed 3 times in \d+ minutes? \(last: it exited unexpectedly \(exit code null, signal SIGKILL\)\)\. Tokenscope stopped restarting it: check the model files \(try another variant or model\), then run "Tokenscope: Restart Model Process"\.$/);
    // The requests after the stop fail at once with that reason, and nothing respawns.
    assert.deepEqual(failures.slice(maxRestarts + 1), Array(8 - maxRestarts - 1).fill(stopped));
    const started = Date.now();
    await assert.rejects(collect(target.generate(request)), (error: unknown) => error instanceof Error && error.message === stopped);
    await assert.rejects(target.load(model), (error: unknown) => error instanceof Error && error.message === stopped);
    assert.ok(Date.now() - started < 1000, 'failing fast');
    assert.equal(target.pid, undefined);
    assert.equal(pids.length, maxRestarts + 1);
    // The user asks: Restart Model Process starts it again and reloads the model.
    await target.restart();
    await waitForState(target, 'ready');
    assert.equal((await collect(target.generate(request))).tokens.length, 10);
    assert.equal(pids.length, maxRestarts + 2);
  } finally {
    await target.dispose();
  }
});

test('after a crash loop, changing the model setting (a different load) starts the process again', { timeout: 60_000 }, async () => {
  const target = client({ maxRestarts: 0 });
  try {
    await target.load(model);
    killFromOutside(target);
    await waitForState(target, 'failed');
    await assert.rejects(target.load(model), /crashed 1 time/);
    const info = await target.load({ model: fixture('tiny-bigcode'), threads: 1 });
    assert.equal(info.modelType, 'gpt_bigcode');
    assert.equal((await collect(target.generate(request))).tokens.length > 0, true);
  } finally {
    await target.dispose();
  }
});

test('a request queued during a restart that gives up fails with the restart\'s reason', { timeout: 60_000 }, async () => {
  const target = client({ maxRestarts: 1, restartDelaysMs: [200] });
  try {
    await target.load(model);
    // Every new process is killed as soon as it reloads: the restart cannot succeed.
    target.onDidChangeState((state) => {
      if (state.status === 'loading' && target.pid !== undefined) process.kill(target.pid, 'SIGKILL');
    });
    killFromOutside(target);
    await waitForState(target, 'restarting');
    const queued = collect(target.generate(request));
    await assert.rejects(queued, (error: unknown) => error instanceof ModelError && /^The model process crashed 2 times/.test(error.message));
    assert.equal(target.state.status, 'failed');
  } finally {
    await target.dispose();
  }
});

test('Restart Model Process with a generation in flight: it fails saying so, and requests sent meanwhile are answered', { timeout: 60_000 }, async () => {
  const target = client();
  try {
    await target.load(model);
    await target.sendTestMessage({ type: 'test-slow-steps', ms: 50 });
    const inFlight = collect(target.generate(longRequest));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const restarting = target.restart();
    const sentDuring = collect(target.generate(request));
    await assert.rejects(inFlight, (error: unknown) => error instanceof ModelError && /^The model process was restarted \("Tokenscope: Restart Model Process"\) while generating; ask again\.$/.test(error.message));
    await restarting;
    assert.equal((await sentDuring).tokens.length, 10);
    assert.equal(target.state.status, 'ready');
  } finally {
    await target.dispose();
  }
});

test('a hung process is killed by the watchdog; the hung request says so and a queued one is answered after the restart', { timeout: 60_000 }, async () => {
  const target = client({ requestTimeoutMs: 800 });
  try {
    await target.load(model);
    await target.sendTestMessage({ type: 'test-hang', ms: 60_000 });
    const hung = target.ping();
    await assert.rejects(hung, (error: unknown) => error instanceof ModelError && /^The model process stopped while answering a ping: it stopped responding for \d+ s while answering a ping\. It is being restarted and the model reloaded; try again in a moment\.$/.test(error.message));
    assert.equal(target.state.status, 'restarting');
    assert.equal((await collect(target.generate(request))).tokens.length, 10);
  } finally {
    await target.dispose();
  }
});

test('crashes further apart than the window never stop the process; close together they do (injected clock)', { timeout: 90_000 }, async () => {
  // The clock's time is ours; restarts run at once on real timers so the test needs no waiting.
  let now = 1_000_000;
  const clock = { now: () => now, setTimeout: (callback: () => void, ms: number, keepAlive: boolean) => systemClock.setTimeout(callback, keepAlive ? 0 : ms, keepAlive), clearTimeout: systemClock.clearTimeout };
  const target = client({ maxRestarts: 1, crashWindowMs: 60_000, clock });
  try {
    await target.load(model);
    for (let crash = 0; crash < 4; crash++) {
      now += 2 * 60_000;
      killFromOutside(target);
      await waitForState(target, 'restarting');
      await waitForState(target, 'ready');
    }
    killFromOutside(target);
    await waitForState(target, 'ready');
    killFromOutside(target);
    const failed = await waitForState(target, 'failed');
    assert.ok(failed.status === 'failed' && failed.error instanceof ModelProcessStoppedError);
    assert.match(failed.status === 'failed' ? failed.error.message : '', /^The model process crashed 2 times in 1 minute /);
  } finally {
    await target.dispose();
  }
});
