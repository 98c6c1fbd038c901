// ModelProcessClient's recovery paths, against a stand-in process (fakeModelProcess.mjs) whose
// timing the test sets: restart backoff and its reset after stable uptime on an injected clock, the
// heartbeat that tells a slow generation from a hung process, the load timeout, the user's
// restart(), and unload. (Real processes with a real model: modelProcess.test.ts and
// test/unit/faults/modelProcessFaults.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ModelError } from '../../../src/core/models/errors';
import { ModelProcessClient, systemClock, type CrashInfo, type ModelProcessClientOptions, type ModelProcessClock, type ModelProcessState } from '../../../src/core/modelProcess/client';
import type { GenerateRequest, LoadModelRequest } from '../../../src/core/runtime/types';
import { collect, repoRoot } from './helpers';

const entry = join(__dirname, 'fakeModelProcess.mjs');
const model: LoadModelRequest = { model: '/models/fake' };
const request: GenerateRequest = { prompt: { kind: 'text', text: 'x' }, maxTokens: 3 };

interface FakeTiming {
  readonly loadDelayMs?: number;
  readonly tokens?: number;
  readonly tokenIntervalMs?: number;
  readonly heartbeatMs?: number;
}

function client(timing: FakeTiming, options: Partial<ModelProcessClientOptions> = {}): ModelProcessClient {
  return new ModelProcessClient({ entry, execArgv: [], packageRoot: repoRoot, testHooks: true, env: { FAKE_MODEL_PROCESS: JSON.stringify(timing) }, restartDelaysMs: [50], ...options });
}

function waitForState(target: ModelProcessClient, wanted: (state: ModelProcessState) => boolean, what: string, timeoutMs = 10_000): Promise<ModelProcessState> {
  if (wanted(target.state)) return Promise.resolve(target.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not reached (now ${JSON.stringify(target.state)})`)), timeoutMs);
    const subscription = target.onDidChangeState((state) => {
      if (!wanted(state)) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(state);
    });
  });
}
const status = (name: ModelProcessState['status']) => (state: ModelProcessState) => state.status === name;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A clock whose time the test sets, and whose restart timers (the ones requests wait on) fire only
 * when the test says; the watchdog runs on real timers, reading the fake time.
 */
function manualClock() {
  let now = 1_000_000;
  const restarts: { ms: number; fire: () => void; cleared: boolean }[] = [];
  const clock: ModelProcessClock = {
    now: () => now,
    setTimeout: (callback, ms, keepAlive) => {
      if (!keepAlive) return systemClock.setTimeout(callback, ms, keepAlive);
      const timer = { ms, fire: callback, cleared: false };
      restarts.push(timer);
      return timer;
    },
    clearTimeout: (handle) => {
      if (restarts.includes(handle as (typeof restarts)[number])) (handle as (typeof restarts)[number]).cleared = true;
      else systemClock.clearTimeout(handle);
    },
  };
  return { clock, restarts, advance: (ms: number) => (now += ms) };
}

test('restart backoff: attempts 1, 2, 3 wait 100, 200, 400 ms; after a stable run longer than the window the next crash is attempt 1 again', { timeout: 60_000 }, async () => {
  const { clock, restarts, advance } = manualClock();
  const target = client({}, { restartDelaysMs: [100, 200, 400], maxRestarts: 5, crashWindowMs: 60_000, clock });
  const crashes: CrashInfo[] = [];
  target.onDidCrash((crash) => crashes.push(crash));
  try {
    await target.load(model);
    const pids = [target.pid];
    const crashAndRestart = async (expected: { attempt: number; delayMs: number }) => {
      process.kill(target.pid!, 'SIGKILL');
      const restarting = await waitForState(target, status('restarting'), `restarting #${expected.attempt}`);
      assert.deepEqual({ attempt: restarting.status === 'restarting' && restarting.attempt, delayMs: restarting.status === 'restarting' && restarting.delayMs }, expected);
      assert.equal(restarts.at(-1)?.ms, expected.delayMs, 'the restart timer waits the delay');
      assert.equal(crashes.at(-1)?.restartInMs, expected.delayMs);
      // Nothing restarts before the delay is over.
      await sleep(150);
      assert.equal(target.state.status, 'restarting');
      assert.equal(target.pid, undefined);
      restarts.at(-1)!.fire();
      await waitForState(target, status('ready'), `ready after restart #${expected.attempt}`);
      assert.ok(!pids.includes(target.pid), 'a new process');
      pids.push(target.pid);
    };
    await crashAndRestart({ attempt: 1, delayMs: 100 });
    advance(5_000);
    await crashAndRestart({ attempt: 2, delayMs: 200 });
    advance(5_000);
    await crashAndRestart({ attempt: 3, delayMs: 400 });
    // Up for longer than the crash window: the earlier crashes no longer count.
    advance(61_000);
    await crashAndRestart({ attempt: 1, delayMs: 100 });
    advance(1_000);
    await crashAndRestart({ attempt: 2, delayMs: 200 });
    assert.equal((await collect(target.generate(request))).tokens.length, 3, 'the reloaded model answers');
  } finally {
    await target.dispose();
  }
});

test('a generation slower than the request timeout between tokens is not killed while the process sends heartbeats; without them it is', { timeout: 60_000 }, async () => {
  const slow = { tokens: 2, tokenIntervalMs: 1_000 };
  const beating = client({ ...slow, heartbeatMs: 100 }, { requestTimeoutMs: 400 });
  const crashes: CrashInfo[] = [];
  beating.onDidCrash((crash) => crashes.push(crash));
  try {
    await beating.load(model);
    const pid = beating.pid;
    const result = await collect(beating.generate(request));
    assert.equal(result.tokens.length, 2);
    assert.equal(beating.pid, pid, 'the same process');
    assert.deepEqual(crashes, []);
  } finally {
    await beating.dispose();
  }
  const silent = client(slow, { requestTimeoutMs: 400 });
  try {
    await silent.load(model);
    await assert.rejects(collect(silent.generate(request)), (error: unknown) => error instanceof ModelError && /^The model process stopped while generating: it stopped responding for \d+ s while generating\./.test(error.message));
  } finally {
    await silent.dispose();
  }
});

test('loading has its own timeout: a load slower than the request timeout succeeds; one slower than loadTimeoutMs is killed saying so', { timeout: 60_000 }, async () => {
  const patient = client({ loadDelayMs: 1_200 }, { requestTimeoutMs: 300, loadTimeoutMs: 10_000 });
  try {
    const info = await patient.load(model);
    assert.equal(info.id, model.model);
    assert.equal(patient.state.status, 'ready');
  } finally {
    await patient.dispose();
  }
  const impatient = client({ loadDelayMs: 5_000 }, { requestTimeoutMs: 10_000, loadTimeoutMs: 600 });
  try {
    const started = Date.now();
    await assert.rejects(impatient.load(model), (error: unknown) => error instanceof ModelError && /^The model process stopped while loading the model: it stopped responding for \d+ s while loading the model\./.test(error.message));
    assert.ok(Date.now() - started < 4_000, 'killed at the load timeout, not after the load');
    // Nothing had loaded: the restarted process waits idle for the next load.
    await waitForState(impatient, status('idle'), 'idle after the restart');
  } finally {
    await impatient.dispose();
  }
});

test('restart(): a request in flight fails saying so, the process is new, the model is reloaded, and a given-up state clears', { timeout: 60_000 }, async () => {
  const target = client({ tokens: 50, tokenIntervalMs: 20, heartbeatMs: 200 }, { maxRestarts: 0 });
  const states: string[] = [];
  target.onDidChangeState((state) => states.push(state.status === 'loading' ? `loading ${state.model}` : state.status));
  try {
    await target.load(model);
    const first = target.pid;
    const inFlight = collect(target.generate(request));
    inFlight.catch(() => undefined);
    await sleep(150);
    states.length = 0;
    await target.restart();
    await assert.rejects(inFlight, (error: unknown) => error instanceof ModelError && error.message === 'The model process was restarted ("Tokenscope: Restart Model Process") while generating; ask again.');
    assert.notEqual(target.pid, first);
    assert.deepEqual(states, ['starting', 'idle', `loading ${model.model}`, 'ready']);
    assert.equal(target.model?.id, model.model);

    // Given up: one crash with maxRestarts 0 stops restarting; requests fail; restart() brings it back.
    process.kill(target.pid!, 'SIGKILL');
    await waitForState(target, status('failed'), 'failed');
    await assert.rejects(collect(target.generate(request)), /Tokenscope stopped restarting it/);
    await target.restart();
    assert.equal(target.state.status, 'ready');
    assert.equal((await collect(target.generate({ ...request }))).tokens.length, 50);
  } finally {
    await target.dispose();
  }
});

test('unload: the state is idle with no model, and a restart after it reloads nothing', { timeout: 60_000 }, async () => {
  const target = client({});
  try {
    await target.load(model);
    await target.unload();
    assert.equal(target.state.status, 'idle');
    assert.equal(target.model, undefined);
    assert.equal((await target.ping()).model, null, 'the process released it');
    await assert.rejects(collect(target.generate(request)), /No model is loaded/);
    process.kill(target.pid!, 'SIGKILL');
    await waitForState(target, status('restarting'), 'restarting');
    await waitForState(target, status('idle'), 'idle after the restart');
    assert.equal((await target.ping()).model, null, 'nothing was reloaded');
    // Unloading with no process is a no-op; loading again works.
    await target.dispose();
    const fresh = client({});
    try {
      await fresh.unload();
      assert.equal(fresh.pid, undefined, 'unload starts no process');
      assert.equal((await fresh.load(model)).id, model.model);
    } finally {
      await fresh.dispose();
    }
  } finally {
    await target.dispose();
  }
});
