import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAbortError } from '../../../src/core/completions/backend';
import { Debouncer } from '../../../src/core/completions/debounce';
import { holdsBack, skipsPosition } from '../../../src/core/completions/gates';
import { PrefillRate } from '../../../src/core/completions/generation';
import { extractWindow } from '../../../src/core/completions/promptBuilder';
import { RequestSlot } from '../../../src/core/completions/requestSlot';
import { SuggestionCache } from '../../../src/core/completions/suggestionCache';
import type { CompletionRequest, CompletionResult } from '../../../src/core/completions/types';

const lines = (text: string) => {
  const all = text.split('\n');
  return { lineCount: all.length, lineText: (line: number) => all[line] ?? '' };
};
const request = (text: string, character: number, trigger: CompletionRequest['trigger'] = 'automatic'): CompletionRequest => ({ document: lines(text), position: { line: 0, character }, path: 'a.ts', trigger });
const result = (text: string, confidence?: number): CompletionResult => ({ text, source: 'model', shape: 'single-line', latencyMs: 1, modelLatencyMs: 1, promptTokens: 1, generatedTokens: 1, template: 't', costs: [], key: 'k', ...(confidence === undefined ? {} : { confidence }) });

test('prefiltering: an automatic request inside a word is skipped; at a word end, explicitly, or when allowed, it runs', () => {
  const off = { triggerInMiddleOfWord: false };
  assert.equal(skipsPosition(request('const value = 1;', 8), off), true);
  assert.equal(skipsPosition(request('const value', 11), off), false);
  assert.equal(skipsPosition(request('const value = 1;', 11), off), false);
  assert.equal(skipsPosition(request('foo   ', 3), off), false);
  assert.equal(skipsPosition(request('const value = 1;', 8, 'explicit'), off), false);
  assert.equal(skipsPosition(request('const value = 1;', 8), { triggerInMiddleOfWord: true }), false);
});

test('the confidence gate holds back unsure automatic suggestions only', () => {
  assert.equal(holdsBack(result('x', 0.1), 'automatic', 0.15), true);
  assert.equal(holdsBack(result('x', 0.2), 'automatic', 0.15), false);
  assert.equal(holdsBack(result('x', 0.1), 'explicit', 0.15), false);
  assert.equal(holdsBack(result('x'), 'automatic', 0.15), false);
});

test('the debouncer settles a superseded wait with false and lets the newest finish', async () => {
  const debouncer = new Debouncer();
  const first = debouncer.wait(20, undefined);
  debouncer.settle();
  const second = debouncer.wait(1, undefined);
  assert.equal(await first, false);
  assert.equal(await second, true);
  const aborted = new AbortController();
  const third = debouncer.wait(1000, aborted.signal);
  aborted.abort();
  assert.equal(await third, false);
  const fourth = debouncer.wait(1000, undefined);
  debouncer.settle();
  assert.equal(await fourth, false);
});

test('the cache serves typing along: the rest of a suggestion the user typed into, same suffix', () => {
  const cache = new SuggestionCache(10);
  const model = { id: 'm' };
  const before = extractWindow(lines('const x = '), { line: 0, character: 10 }, { linesBefore: 8, linesAfter: 8 });
  cache.set(SuggestionCache.keyOf(model, before), { text: 'compute(1);', result: result('compute(1);') });
  const typed = extractWindow(lines('const x = comp'), { line: 0, character: 14 }, { linesBefore: 8, linesAfter: 8 });
  assert.equal(cache.typingAlong(model, typed)?.text, 'ute(1);');
  const other = extractWindow(lines('const x = cal'), { line: 0, character: 13 }, { linesBefore: 8, linesAfter: 8 });
  assert.equal(cache.typingAlong(model, other), undefined);
  assert.equal(cache.typingAlong({ id: 'another model' }, typed), undefined);
  // Typed all of it: nothing left to suggest.
  const done = extractWindow(lines('const x = compute(1);'), { line: 0, character: 21 }, { linesBefore: 8, linesAfter: 8 });
  assert.equal(cache.typingAlong(model, done), undefined);
  cache.clear(1);
  assert.equal(cache.typingAlong(model, typed), undefined);
});

test('the prefill rate ignores tiny prompts, then caps the suffix to the target time', () => {
  const rate = new PrefillRate();
  assert.equal(rate.maxSuffixTokens(250), undefined);
  rate.learn(16, 10);
  assert.equal(rate.tokensPerSecond, undefined);
  rate.learn(1000, 1000);
  assert.equal(rate.tokensPerSecond, 1000);
  assert.equal(rate.maxSuffixTokens(250), 250);
  assert.equal(rate.maxSuffixTokens(10), 32);
  rate.learn(2000, 1000);
  assert.ok(Math.abs((rate.tokensPerSecond ?? 0) - 1300) < 1e-9);
});

test('the request slot runs one request at a time and frees itself when it settles', async () => {
  const slot = new RequestSlot();
  const signals: AbortSignal[] = [];
  const run = (signal: AbortSignal) => {
    signals.push(signal);
    return new Promise<CompletionResult | undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  };
  const first = slot.start('a', true, undefined, run);
  slot.abortStale('b');
  assert.equal(signals[0]?.aborted, false, 'a speculation survives the user moving on');
  const outer = new AbortController();
  const second = slot.start('b', false, outer.signal, run);
  assert.equal(signals[0]?.aborted, true);
  assert.ok(isAbortError(signals[0]?.reason));
  await first;
  assert.equal(slot.running?.key, 'b');
  slot.abortStale('c');
  assert.equal(signals[1]?.aborted, true);
  await second;
  assert.equal(slot.running, undefined);
  const third = slot.start('c', false, outer.signal, run);
  outer.abort();
  await third;
  assert.equal(signals[2]?.aborted, true);
});
