import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import type { CompletionModel, CompletionResult } from '../../../src/core/completions/types';
import { fimTemplates } from '../../../src/core/completions/fimTemplates';
import { LocalPromptBuilder } from '../../../src/core/completions/promptBuilder';
import { completionStatusView, describeLastAnswer, initialCompletionStatus, nextCompletionStatus, type CompletionStatus, type CompletionStatusEvent } from '../../../src/core/completions/status';
import { CharTokenizer, FakeBackend, qwenSpecials } from './fakes';

const result = (overrides: Partial<CompletionResult> = {}): CompletionResult => ({
  text: 'x = 1',
  source: 'model',
  shape: 'single-line',
  latencyMs: 439.4,
  modelLatencyMs: 300,
  promptTokens: 100,
  generatedTokens: 5,
  tokensPerSecond: 43.2,
  confidence: 0.63,
  template: 't',
  costs: [],
  key: 'k',
  ...overrides,
});

const run = (...events: CompletionStatusEvent[]): CompletionStatus => events.reduce(nextCompletionStatus, initialCompletionStatus);
/** The idle item's words after the model name, or the view's kind when not idle. */
const shown = (state: CompletionStatus): string => {
  const view = completionStatusView(state);
  return view.kind === 'idle' ? describeLastAnswer(view.last).text : `<${view.kind}>`;
};

test('a generated suggestion shows its latency, speed and confidence', () => {
  const state = run({ type: 'requestStarted' }, { type: 'requestEnded', result: result(), cancelled: false }, { type: 'shown', result: result() });
  assert.equal(shown(state), '439 ms · 43 tok/s · 63% sure');
  assert.equal(describeLastAnswer(state.last).tooltip[0], 'The last suggestion took 439 ms from the pause in typing (generating 43 tokens/s).');
});

test('a held-back suggestion says so in the item text until the next request, then the new answer shows', () => {
  const unsure = result({ confidence: 0.08 });
  let state = run({ type: 'requestStarted' }, { type: 'requestEnded', result: unsure, cancelled: false }, { type: 'heldBack', result: unsure, minConfidence: 0.15 });
  assert.equal(shown(state), '$(eye-closed) held back · 8% sure · Alt+\\ shows it');
  const tooltip = describeLastAnswer(state.last).tooltip.join('\n');
  assert.match(tooltip, /8% probability on average, below tokenscope\.completions\.minConfidence \(15%\)/);
  assert.match(tooltip, /Alt\+\\ to see it anyway/);
  // VS Code asking again at the same spot (a cached, still unsure answer) keeps the notice.
  state = nextCompletionStatus(state, { type: 'heldBack', result: { ...unsure, source: 'cache', latencyMs: 0 }, minConfidence: 0.15 });
  assert.equal(shown(state), '$(eye-closed) held back · 8% sure · Alt+\\ shows it');
  // It stays while nothing else happens (a loading model, a config change of another setting)...
  state = nextCompletionStatus(nextCompletionStatus(state, { type: 'loading', loading: true }), { type: 'loading', loading: false });
  assert.equal(shown(state), '$(eye-closed) held back · 8% sure · Alt+\\ shows it');
  // ...and ends with the next request: generating, then that request's own answer.
  state = nextCompletionStatus(state, { type: 'requestStarted' });
  assert.equal(shown(state), '<generating>');
  state = nextCompletionStatus(state, { type: 'requestEnded', result: result({ latencyMs: 120 }), cancelled: false });
  assert.equal(shown(state), '120 ms · 43 tok/s · 63% sure');
  // Never the latency of an older answer after a notice: a cancelled next request leaves nothing stale.
  const cancelledNext = run({ type: 'heldBack', result: unsure, minConfidence: 0.15 }, { type: 'requestStarted' }, { type: 'requestEnded', cancelled: true });
  assert.equal(shown(cancelledNext), '');
});

test('a cache or typing-along answer says "from cache", never a zero latency with a rate', () => {
  const generated = run({ type: 'requestEnded', result: result(), cancelled: false });
  for (const source of ['cache', 'typing-along'] as const) {
    const state = nextCompletionStatus(generated, { type: 'shown', result: result({ source, latencyMs: 0.3, modelLatencyMs: 0 }) });
    assert.equal(shown(state), 'from cache · 63% sure');
    const tooltip = describeLastAnswer(state.last).tooltip.join('\n');
    assert.doesNotMatch(tooltip, /\d+ ms|tok\/s/);
    assert.match(tooltip, /not asked again/);
  }
  const ahead = nextCompletionStatus(generated, { type: 'shown', result: result({ source: 'speculative', latencyMs: 0 }) });
  assert.equal(shown(ahead), 'prepared ahead · 63% sure');
  // A shown suggestion replaces a held-back notice.
  const replaced = run({ type: 'heldBack', result: result({ confidence: 0.05 }), minConfidence: 0.15 }, { type: 'shown', result: result({ source: 'cache' }) });
  assert.equal(shown(replaced), 'from cache · 63% sure');
});

test('an answer with nothing left after post-processing says "no suggestion"', () => {
  const state = run({ type: 'requestStarted' }, { type: 'requestEnded', result: result({ text: '' }), cancelled: false });
  assert.equal(shown(state), 'no suggestion');
  assert.match(describeLastAnswer(state.last).tooltip[0], /answered in 439 ms, but nothing was left/);
});

test('precedence: loading, generating (while any request runs), error, disabled, idle', () => {
  const twoRunning = run({ type: 'requestStarted' }, { type: 'requestStarted' }, { type: 'requestEnded', cancelled: true });
  assert.equal(shown(twoRunning), '<generating>', 'a superseded request ended; its successor still generates');
  assert.equal(shown(nextCompletionStatus(twoRunning, { type: 'requestEnded', result: result(), cancelled: false })), '439 ms · 43 tok/s · 63% sure');
  assert.equal(shown(run({ type: 'loading', loading: true }, { type: 'requestStarted' })), '<loading>');
  const failed = run({ type: 'requestStarted' }, { type: 'requestEnded', error: 'model crashed', cancelled: false });
  assert.deepEqual(completionStatusView(failed), { kind: 'error', reason: 'model crashed' });
  // The error lasts until the next request, which clears it.
  assert.equal(shown(nextCompletionStatus(failed, { type: 'requestStarted' })), '<generating>');
  assert.equal(shown(run({ type: 'failed', reason: 'no model' }, { type: 'shown', result: result({ source: 'cache' }) })), 'from cache · 63% sure');
  assert.equal(shown(run({ type: 'enabled', enabled: false })), '<disabled>');
  assert.equal(shown(run({ type: 'enabled', enabled: false }, { type: 'enabled', enabled: true })), '');
  // Another model: what was said about the previous one is gone.
  assert.equal(shown(run({ type: 'requestEnded', result: result(), cancelled: false }, { type: 'modelChanged' })), '');
  // A request count can never go below zero (an end without a start).
  assert.equal(run({ type: 'requestEnded', cancelled: true }).requests, 0);
});

test('the engine\'s real event sequence: held back, then the same spot again from the cache, then asked explicitly', async () => {
  const tokenizer = new CharTokenizer(qwenSpecials);
  const backend = new FakeBackend(tokenizer, () => 'total + 1\n<|endoftext|>', 0, 0.08);
  const model: CompletionModel = { id: 'fake', label: 'fake', prompts: new LocalPromptBuilder(tokenizer, fimTemplates['qwen2.5-coder']), template: fimTemplates['qwen2.5-coder'], contextLength: 4096, eosTokenIds: [], backend };
  let state = initialCompletionStatus;
  const report = (event: CompletionStatusEvent) => (state = nextCompletionStatus(state, event));
  const engine = new CompletionEngine({
    getModel: () => model,
    settings: { debounceMs: 5, minConfidence: 0.15 },
    onRequestStart: () => report({ type: 'requestStarted' }),
    onRequestEnd: ({ result: ended, cancelled }) => report({ type: 'requestEnded', result: ended, cancelled }),
    onHiddenUnsure: (unsure, minConfidence) => report({ type: 'heldBack', result: unsure, minConfidence }),
  });
  const lines = new TextLines('def f(total):\n    return ');
  const request = { document: lines, position: { line: 1, character: 11 }, path: 'a.py', trigger: 'automatic' as const };
  assert.equal(await engine.complete(request), undefined);
  assert.equal(shown(state), '$(eye-closed) held back · 8% sure · Alt+\\ shows it');
  assert.equal(await engine.complete(request), undefined, 'asked again automatically: still held back, from the cache');
  assert.equal(backend.calls.length, 1);
  assert.equal(shown(state), '$(eye-closed) held back · 8% sure · Alt+\\ shows it');
  const explicit = await engine.complete({ ...request, trigger: 'explicit' });
  assert.equal(explicit?.source, 'cache');
  if (explicit) report({ type: 'shown', result: explicit });
  assert.equal(shown(state), 'from cache · 8% sure');
});

test('a model process that stopped restarting shows as an error with "Restart Model Process" until it is ready again', () => {
  const stopped = run({ type: 'process', status: 'stopped', reason: 'The model process crashed 6 times in 5 minutes.' });
  assert.deepEqual(completionStatusView(stopped), { kind: 'error', reason: 'The model process crashed 6 times in 5 minutes.', action: 'restartModel' });
  // A request in the meantime fails fast with the same stop; it keeps the action.
  const retried = run(
    { type: 'process', status: 'stopped', reason: 'stopped' },
    { type: 'requestStarted' },
    { type: 'requestEnded', error: 'stopped', errorAction: 'restartModel', cancelled: false },
  );
  assert.deepEqual(completionStatusView(retried), { kind: 'error', reason: 'stopped', action: 'restartModel' });
  // A model change does not hide the stop; the process must come back first.
  assert.equal(completionStatusView(nextCompletionStatus(stopped, { type: 'modelChanged' })).kind, 'error');
  // Restart Model Process: starting/loading shows as loading, ready clears the error.
  const recovering = nextCompletionStatus(stopped, { type: 'process', status: 'recovering' });
  assert.equal(completionStatusView(recovering).kind, 'loading');
  const ready = nextCompletionStatus(recovering, { type: 'process', status: 'ready' });
  assert.deepEqual(completionStatusView(ready), { kind: 'idle', last: undefined });
});

test('ordinary process starts and loads are not the status item\'s business unless the process had stopped', () => {
  const idle = run({ type: 'requestStarted' }, { type: 'requestEnded', result: result(), cancelled: false });
  assert.equal(nextCompletionStatus(idle, { type: 'process', status: 'recovering' }), idle);
  assert.equal(nextCompletionStatus(idle, { type: 'process', status: 'ready' }), idle);
  // An ordinary error has no action.
  assert.deepEqual(completionStatusView(run({ type: 'failed', reason: 'No model' })), { kind: 'error', reason: 'No model' });
});
