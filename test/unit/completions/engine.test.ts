import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TextLines } from '../../../src/core/completions/document';
import { CompletionEngine } from '../../../src/core/completions/engine';
import type { CompletionModel, CompletionRecord, EngineSettings } from '../../../src/core/completions/types';
import { costEstimator } from '../../../src/core/pricing/cost';
import { fimTemplates } from '../../../src/core/completions/fimTemplates';
import { LocalPromptBuilder } from '../../../src/core/completions/promptBuilder';
import { CharTokenizer, FakeBackend, qwenSpecials } from './fakes';

const tokenizer = new CharTokenizer(qwenSpecials);
/** Distinct characters (no loop for the repetition cut): `abc…` of a given length. */
const letters = (length: number) => Array.from({ length }, (_, index) => String.fromCharCode(97 + (index % 26))).join('');

function setup(answer: (prompt: string) => string, options: { msPerToken?: number; settings?: Partial<EngineSettings>; tokenProbability?: number } = {}) {
  const backend = new FakeBackend(tokenizer, answer, options.msPerToken ?? 0, options.tokenProbability);
  const model: CompletionModel = { id: 'fake', label: 'fake', prompts: new LocalPromptBuilder(tokenizer, fimTemplates['qwen2.5-coder']), template: fimTemplates['qwen2.5-coder'], contextLength: 4096, eosTokenIds: [], backend };
  const records: CompletionRecord[] = [];
  const events: string[] = [];
  const hidden: { confidence?: number; minConfidence: number }[] = [];
  const engine = new CompletionEngine({
    onHiddenUnsure: (result, minConfidence) => hidden.push({ confidence: result.confidence, minConfidence }),
    getModel: () => model,
    settings: { debounceMs: 20, ...options.settings },
    costs: costEstimator([{ id: 'api-x', inputPerMTok: 2, outputPerMTok: 10 }]),
    onRecord: (record) => records.push(record),
    onRequestStart: () => events.push('start'),
    onRequestEnd: (outcome) => events.push(outcome.cancelled ? 'end:cancelled' : outcome.error ? 'end:error' : 'end'),
  });
  return { engine, backend, records, events, hidden };
}

/** The middle the fake model "knows" for a prompt: the rest of `const total = compute(items);`. */
function middleFor(prompt: string): string {
  const prefix = prompt.slice(prompt.indexOf('<|fim_prefix|>') + 14, prompt.indexOf('<|fim_suffix|>'));
  const target = 'const total = compute(items);';
  const line = (prefix.split('\n').pop() ?? '').trimStart();
  return target.startsWith(line) ? `${target.slice(line.length)}\n<|endoftext|>` : '<|endoftext|>';
}

function doc(text: string) {
  const lines = new TextLines(text.replace('|', ''));
  return { document: lines, position: lines.positionAt(text.indexOf('|')), path: 'a.ts', trigger: 'automatic' as const };
}

test('a completion carries its text, tokens, latency, template and cost', async () => {
  const { engine, records, events } = setup(middleFor);
  const result = await engine.complete(doc('function f() {\n  const to|\n}'));
  assert.ok(result);
  assert.equal(result.text, 'tal = compute(items);');
  assert.equal(result.source, 'model');
  assert.equal(result.template, 'Qwen2.5-Coder FIM');
  assert.ok(result.promptTokens > 20);
  // The fake streams one character per token; generation stops at the line break (single-line shape).
  assert.equal(result.generatedTokens, 'tal = compute(items);\n'.length);
  assert.ok(result.latencyMs >= 15, `debounce included: ${result.latencyMs}`);
  assert.equal(result.costs[0].model, 'api-x');
  assert.equal(result.costs[0].usd, (result.promptTokens * 2 + result.generatedTokens * 10) / 1e6);
  assert.equal(records.length, 1);
  assert.equal(records[0].outcome, 'completed');
  assert.deepEqual(events, ['start', 'end']);
});

test('debounce settles every superseded call and sends one request', async () => {
  const { engine, backend } = setup(middleFor);
  const calls = ['const t|', 'const to|', 'const tot|', 'const tota|'].map((text) => engine.complete(doc(text)));
  const results = await Promise.all(calls);
  assert.deepEqual(results.slice(0, 3), [undefined, undefined, undefined]);
  assert.equal(results[3]?.text, 'l = compute(items);');
  assert.equal(backend.calls.length, 1);
  assert.equal(engine.stats.superseded, 3);
});

test('a superseded running request is aborted in the backend, and its tokens counted as wasted', async () => {
  const { engine, backend, records, events } = setup(() => letters(40), { msPerToken: 5, settings: { maxTokens: 40 } });
  const first = engine.complete({ ...doc('let a = |'), trigger: 'explicit' });
  await new Promise((resolve) => setTimeout(resolve, 60));
  const second = engine.complete({ ...doc('let b = |'), trigger: 'explicit' });
  assert.equal(await first, undefined);
  assert.equal((await second)?.text, letters(40));
  assert.equal(backend.calls.length, 2);
  assert.equal(backend.calls[0].aborted, true, 'the first generation stopped in the backend');
  assert.ok(backend.calls[0].tokensStreamed < 40);
  assert.equal(engine.stats.cancelledRequests, 1);
  assert.equal(engine.stats.wastedTokens, records[0].generatedTokens);
  assert.ok(engine.stats.wastedTokens > 0);
  assert.deepEqual(events, ['start', 'end:cancelled', 'start', 'end'], 'every start has an end');
});

test('an aborted signal settles the call with undefined, during debounce or generation', async () => {
  const { engine, backend, events } = setup(() => letters(40), { msPerToken: 5, settings: { maxTokens: 40 } });
  const duringDebounce = new AbortController();
  const pending = engine.complete(doc('a = |'), duringDebounce.signal);
  duringDebounce.abort();
  assert.equal(await pending, undefined);
  assert.equal(backend.calls.length, 0);

  const duringGeneration = new AbortController();
  const running = engine.complete({ ...doc('b = |'), trigger: 'explicit' }, duringGeneration.signal);
  setTimeout(() => duringGeneration.abort(), 30);
  assert.equal(await running, undefined);
  assert.equal(backend.calls[0].aborted, true);
  assert.deepEqual(events, ['start', 'end:cancelled']);
});

test('the same window is served from the cache without a request', async () => {
  const { engine, backend } = setup(middleFor);
  const first = await engine.complete(doc('const tot|'));
  const again = await engine.complete(doc('const tot|'));
  assert.equal(again?.text, first?.text);
  assert.equal(again?.source, 'cache');
  assert.equal(again?.modelLatencyMs, 0);
  assert.equal(backend.calls.length, 1);
  assert.equal(engine.stats.cacheHits, 1);
});

test('typing along a shown suggestion serves the rest without a request', async () => {
  const { engine, backend } = setup(middleFor);
  const shown = await engine.complete(doc('x\nconst t|\ny'));
  assert.equal(shown?.text, 'otal = compute(items);');
  const along = await engine.complete(doc('x\nconst tot|\ny'));
  assert.equal(along?.text, 'al = compute(items);');
  assert.equal(along?.source, 'typing-along');
  const further = await engine.complete(doc('x\nconst total = com|\ny'));
  assert.equal(further?.text, 'pute(items);');
  assert.equal(backend.calls.length, 1);
  assert.equal(engine.stats.typingAlongHits, 2);
  // Typing something else than the suggestion asks the model again.
  await engine.complete(doc('x\nconst tx|\ny'));
  assert.equal(backend.calls.length, 2);
});

test('after an accept the next suggestion is pre-computed and served at the next pause', async () => {
  const answers = ['alpha();', 'beta();'];
  const { engine, backend } = setup((prompt) => (prompt.includes('alpha();<|fim_suffix|>') ? answers[1] : answers[0]));
  const text = 'function f() {\n  |\n}';
  const before = doc(text);
  const shown = await engine.complete(before);
  assert.equal(shown?.text, 'alpha();');
  // The user accepts: the document now holds the suggestion and the cursor sits after it.
  const afterText = text.replace('|', 'alpha();|');
  const after = doc(afterText);
  engine.accept(shown!, after);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(backend.calls.length, 2, 'speculative request sent right after the accept');
  const next = await engine.complete(after);
  assert.equal(next?.text, 'beta();');
  assert.equal(next?.source, 'speculative');
  assert.equal(backend.calls.length, 2, 'no new request at the pause');
  assert.equal(engine.stats.speculativeHits, 1);
});

test('a real request for another window aborts a running speculation', async () => {
  const { engine, backend } = setup(() => letters(30), { msPerToken: 5, settings: { maxTokens: 30 } });
  void engine.prefetch(doc('a = |'));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const real = await engine.complete({ ...doc('b = |'), trigger: 'explicit' });
  assert.equal(real?.text, letters(30));
  assert.equal(backend.calls[0].aborted, true);
});

test('no automatic trigger in the middle of a word with text to its right; explicit always', async () => {
  const { engine, backend } = setup(() => 'ab');
  assert.equal(await engine.complete(doc('const na|me = 1;')), undefined);
  assert.equal(engine.stats.skipped, 1);
  assert.equal(backend.calls.length, 0);
  // At the end of a word, or before punctuation, automatic triggers work.
  await engine.complete(doc('const name|'));
  await engine.complete(doc('call(|)'));
  assert.equal(backend.calls.length, 2);
  await engine.complete({ ...doc('const na|me = 1;'), trigger: 'explicit' });
  assert.equal(backend.calls.length, 3);
  const permissive = setup(() => 'ab', { settings: { triggerInMiddleOfWord: true } });
  await permissive.engine.complete(doc('const na|me = 1;'));
  assert.equal(permissive.backend.calls.length, 1);
});

test('a failing backend rejects with its reason and still ends the request', async () => {
  const backend = {
    generate(): AsyncIterable<{ text: string; tokens: number }> {
      return { [Symbol.asyncIterator]: async function* () { throw new Error('model process exited (code 134)'); } };
    },
  };
  const events: string[] = [];
  const engine = new CompletionEngine({
    getModel: () => ({ id: 'broken', label: 'broken', prompts: new LocalPromptBuilder(tokenizer, fimTemplates['qwen2.5-coder']), template: fimTemplates['qwen2.5-coder'], contextLength: 4096, eosTokenIds: [], backend }),
    settings: { debounceMs: 0 },
    onRequestStart: () => events.push('start'),
    onRequestEnd: (outcome) => events.push(`end:${outcome.error instanceof Error ? outcome.error.message : ''}`),
  });
  await assert.rejects(engine.complete(doc('x = |')), /model process exited/);
  assert.deepEqual(events, ['start', 'end:model process exited (code 134)']);
  // A model that cannot be loaded rejects with the reason too.
  const noModel = new CompletionEngine({ getModel: () => Promise.reject(new Error('This model has no fill-in-the-middle tokens')) });
  await assert.rejects(noModel.complete(doc('x = |')), /no fill-in-the-middle/);
});

test('empty suggestions are cached and never shown', async () => {
  const { engine, backend } = setup(() => '   \n');
  assert.equal(await engine.complete(doc('x = |')), undefined);
  assert.equal(await engine.complete(doc('x = |')), undefined);
  assert.equal(backend.calls.length, 1);
});

test('costs come from the pricing core table: prompt tokens as input, generated as output', async () => {
  const { PRICED_MODELS } = await import('../../../src/core/pricing/prices');
  const lines = costEstimator(PRICED_MODELS)({ promptTokens: 1_000_000, generatedTokens: 1_000_000 });
  assert.equal(lines.length, PRICED_MODELS.length);
  PRICED_MODELS.forEach((model, index) => {
    assert.equal(lines[index].model, model.id);
    assert.ok(Math.abs(lines[index].usd - (model.inputPerMTok + model.outputPerMTok)) < 1e-9);
  });
});

test('the suffix is capped to what the model prefills in the target time, as measured', async () => {
  const long = Array.from({ length: 200 }, (_, index) => `line ${index}`).join('\n');
  const { engine, backend } = setup(() => 'ok', { settings: { debounceMs: 0, prefillTargetMs: 100 } });
  const at = (line: number) => {
    const document = new TextLines(long);
    return { document, position: { line, character: 3 }, path: 'a.ts', trigger: 'explicit' as const };
  };
  await engine.complete(at(10));
  const suffixOf = (prompt: string) => prompt.slice(prompt.indexOf('<|fim_suffix|>') + 14, prompt.indexOf('<|fim_middle|>')).length;
  const uncapped = suffixOf(backend.calls[0].prompt);
  assert.equal(engine.prefillTokensPerSecond, undefined);
  // The model reports a slow prefill: 400 tokens took 1 s → 0.4 tokens/ms → 40 tokens in 100 ms.
  backend.summary = { prefilledTokens: 400, firstTokenMs: 1000 };
  await engine.complete(at(11));
  assert.equal(engine.prefillTokensPerSecond, 400);
  await engine.complete(at(12));
  const capped = suffixOf(backend.calls[2].prompt);
  assert.ok(uncapped > 200 && capped <= 40, `suffix ${uncapped} → ${capped} characters (1 token each)`);
});

test('a call that arrives before the accept command joins the speculation started during its debounce', async () => {
  const { engine, backend } = setup((prompt) => (prompt.includes('alpha();<|fim_suffix|>') ? 'beta();' : 'alpha();'), { msPerToken: 2, settings: { debounceMs: 40 } });
  const text = 'function f() {\n  |\n}';
  const shown = await engine.complete({ ...doc(text), trigger: 'explicit' });
  const after = doc(text.replace('|', 'alpha();|'));
  // VS Code asks at the new position first, then runs the item's command.
  const next = engine.complete(after);
  engine.accept(shown!, after);
  assert.equal((await next)?.text, 'beta();');
  assert.equal(backend.calls.length, 2, 'the speculative request served the call; no third request');
  assert.equal(backend.calls[1].aborted, false);
});

test('confidence is the geometric mean of the token probabilities; unsure automatic suggestions are hidden, explicit ones shown', async () => {
  const unsure = setup(middleFor, { tokenProbability: 0.1, settings: { minConfidence: 0.15 } });
  assert.equal(await unsure.engine.complete(doc('function f() {\n  const to|\n}')), undefined);
  assert.equal(unsure.engine.stats.hiddenUnsure, 1);
  assert.equal(unsure.hidden.length, 1);
  assert.ok(Math.abs((unsure.hidden[0].confidence ?? 0) - 0.1) < 1e-9);
  assert.equal(unsure.hidden[0].minConfidence, 0.15);
  // Asked explicitly at the same spot: the cached answer is shown, without a second model request.
  const explicit = await unsure.engine.complete({ ...doc('function f() {\n  const to|\n}'), trigger: 'explicit' });
  assert.equal(explicit?.text, 'tal = compute(items);');
  assert.equal(unsure.backend.calls.length, 1);
  // Typing along an unsure suggestion stays hidden too.
  assert.equal(await unsure.engine.complete(doc('function f() {\n  const tot|\n}')), undefined);
  assert.equal(unsure.engine.stats.hiddenUnsure, 2);

  const sure = setup(middleFor, { tokenProbability: 0.6, settings: { minConfidence: 0.15 } });
  const shown = await sure.engine.complete(doc('function f() {\n  const to|\n}'));
  assert.ok(shown && Math.abs((shown.confidence ?? 0) - 0.6) < 1e-9);
  assert.equal(sure.engine.stats.hiddenUnsure, 0);
});

test('no gate without probabilities or with minConfidence 0', async () => {
  const unknown = setup(middleFor, { settings: { minConfidence: 0.5 } });
  const result = await unknown.engine.complete(doc('function f() {\n  const to|\n}'));
  assert.equal(result?.confidence, undefined);
  assert.equal(result?.text, 'tal = compute(items);');
  const off = setup(middleFor, { tokenProbability: 0.01, settings: { minConfidence: 0 } });
  assert.equal((await off.engine.complete(doc('function f() {\n  const to|\n}')))?.text, 'tal = compute(items);');
});

test('a completion carries each generated token\'s score over its text (confidence colouring); typing along keeps them for the rest', async () => {
  const { engine } = setup(middleFor, { tokenProbability: 0.6 });
  const result = await engine.complete(doc('function f() {\n  const to|\n}'));
  assert.ok(result?.tokenScores);
  assert.equal(result.tokenScores.generated, result.text);
  // The fake streams one character per token: a score per character of the text (the line break was cut away).
  assert.equal(result.tokenScores.tokens.length, result.text.length);
  result.tokenScores.tokens.forEach((token, index) => {
    assert.deepEqual([token.start, token.end], [index, index + 1]);
    assert.ok(Math.abs(token.logprob - Math.log(0.6)) < 1e-12);
  });
  const along = await engine.complete(doc('function f() {\n  const tot|\n}'));
  assert.equal(along?.source, 'typing-along');
  assert.equal(along?.text, 'al = compute(items);');
  assert.equal(along?.tokenScores?.generated, result.text, 'the scores stay over the whole generated text');
  const unknown = setup(middleFor);
  assert.equal((await unknown.engine.complete(doc('function f() {\n  const to|\n}')))?.tokenScores, undefined, 'no probabilities, no scores');
});
