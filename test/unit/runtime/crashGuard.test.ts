import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterLoadAllowed, afterUserRestart, allowsLoad, describeWindow, initialCrashGuard, recordCrash, type CrashGuard, type CrashGuardPolicy } from '../../../src/core/modelProcess/crashGuard';
import { sameLoadRequest, type LoadModelRequest } from '../../../src/core/runtime/types';

const policy: CrashGuardPolicy = { maxRestarts: 3, windowMs: 60_000, restartDelaysMs: [100, 200, 400] };
const model: LoadModelRequest = { model: '/models/a', threads: 0 };
const other: LoadModelRequest = { model: '/models/b' };

function crashes(times: readonly number[], load: LoadModelRequest | null = model): { guard: CrashGuard; decisions: string[] } {
  let guard = initialCrashGuard;
  const decisions: string[] = [];
  for (const time of times) {
    const next = recordCrash(guard, time, load ?? undefined, policy);
    guard = next.guard;
    decisions.push(next.decision.kind === 'restart' ? `restart#${next.decision.attempt} in ${next.decision.delayMs}` : `stop after ${next.decision.crashes}`);
  }
  return { guard, decisions };
}

test('crash guard: restarts with growing delays, then stops after maxRestarts restarts in the window', () => {
  const { guard, decisions } = crashes([0, 1000, 2000, 3000, 4000]);
  assert.deepEqual(decisions, ['restart#1 in 100', 'restart#2 in 200', 'restart#3 in 400', 'stop after 4', 'stop after 5']);
  assert.deepEqual(guard.stopped, { load: model, crashes: 5 });
});

test('crash guard: crashes older than the window are forgotten (a crash a day is not a loop)', () => {
  const { guard, decisions } = crashes([0, 70_000, 140_000, 210_000, 280_000, 350_000]);
  assert.deepEqual(decisions, Array(6).fill('restart#1 in 100'));
  assert.equal(guard.stopped, undefined);
  assert.deepEqual(crashes([0, 30_000, 59_000, 61_000]).decisions, ['restart#1 in 100', 'restart#2 in 200', 'restart#3 in 400', 'restart#3 in 400']);
});

test('crash guard: once stopped, loading the same model does not start the process; another model or a user restart does', () => {
  const { guard } = crashes([0, 1, 2, 3]);
  assert.ok(guard.stopped);
  assert.equal(allowsLoad(guard, model), false);
  assert.equal(allowsLoad(guard, { model: '/models/a' }), false, 'defaults compare equal to explicit defaults');
  assert.equal(allowsLoad(guard, { ...model, variant: 'int8' }), true, 'a different variant is a different load');
  assert.equal(allowsLoad(guard, other), true);
  assert.deepEqual(afterLoadAllowed(guard, other), initialCrashGuard);
  assert.deepEqual(afterUserRestart(), initialCrashGuard);
  // Not stopped: every load is allowed and the record is kept.
  const running = crashes([0, 1]).guard;
  assert.equal(allowsLoad(running, model), true);
  assert.equal(afterLoadAllowed(running, model), running);
});

test('crash guard: a crash with no model requested stops too, and any load may then try once', () => {
  const { guard } = crashes([0, 1, 2, 3], null);
  assert.ok(guard.stopped);
  assert.equal(allowsLoad(guard, model), true);
});

test('sameLoadRequest and describeWindow', () => {
  assert.ok(sameLoadRequest({ model: 'mini' }, { model: 'mini', variant: 'auto', threads: 0, matmulPrecision: 'fast' }));
  assert.ok(!sameLoadRequest({ model: 'mini' }, { model: 'mini', matmulPrecision: 'exact' }));
  assert.ok(!sameLoadRequest(undefined, { model: 'mini' }));
  assert.ok(sameLoadRequest(undefined, undefined));
  assert.equal(describeWindow(300_000), '5 minutes');
  assert.equal(describeWindow(60_000), '1 minute');
  assert.equal(describeWindow(90_000), '90 s');
});
