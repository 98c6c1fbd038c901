import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { GenerationAbortedError, type GenerateRequest } from '../../../src/core/runtime/types';
import { collect, copyFixture, generateAll, loadFixture, repoRoot } from './helpers';

const PROMPT = 'def hello_world():\n    print("hi")\n';

/** log(softmax(logits / temperature)), in float64: an independent reference for reported logprobs. */
function logSoftmax(logits: Float32Array, temperature: number): Float64Array {
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value / temperature);
  let sum = 0;
  for (const value of logits) sum += Math.exp(value / temperature - max);
  const logTotal = max + Math.log(sum);
  return Float64Array.from(logits, (value) => value / temperature - logTotal);
}

test('greedy generation is deterministic and reports logprobs and sorted alternatives', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const request: GenerateRequest = { prompt: { kind: 'text', text: PROMPT }, maxTokens: 12, topLogprobs: 5, sampling: { temperature: 0 } };
    const first = await generateAll(model, request);
    const second = await generateAll(model, { ...request, reuseCache: false });
    assert.equal(first.tokens.length, 12);
    assert.equal(first.end.finishReason, 'length');
    assert.deepEqual(second.tokens.map((t) => t.id), first.tokens.map((t) => t.id));
    assert.equal(first.end.text, first.tokens.map((t) => t.text).join(''));
    for (const token of first.tokens) {
      assert.equal(token.top.length, 5);
      assert.equal(token.top[0].id, token.id, 'greedy picks the most likely token');
      assert.ok(Math.abs(token.top[0].logprob - token.logprob) < 1e-9);
      for (let i = 1; i < token.top.length; i++) assert.ok(token.top[i - 1].logprob >= token.top[i].logprob);
      assert.ok(token.logprob <= 0);
    }
    assert.equal(first.start.promptTokens, model.tokenizer.encode(PROMPT).length);
    assert.equal(first.end.timings.generatedTokens, 12);
    assert.ok(first.end.timings.tokensPerSecond > 0);
  } finally {
    await model.dispose();
  }
});

test('seeded sampling is reproducible; other seeds differ; logprobs stay raw-model probabilities', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const request = (seed: number): GenerateRequest => ({ prompt: { kind: 'text', text: PROMPT }, maxTokens: 24, sampling: { temperature: 1.5, topP: 0.95, topK: 50, seed } });
    const a = await generateAll(model, request(7));
    const b = await generateAll(model, request(7));
    assert.deepEqual(b.tokens.map((t) => t.id), a.tokens.map((t) => t.id));
    assert.equal(a.start.seed, 7);
    const others = await Promise.all([8, 9, 10].map(async (seed) => (await generateAll(model, request(seed))).tokens.map((t) => t.id).join()));
    assert.ok(others.some((ids) => ids !== a.tokens.map((t) => t.id).join()), 'different seeds give different samples');
    // A sampled token is not always the argmax at temperature 1.5.
    const greedyPicks = a.tokens.filter((t) => t.top.length === 0).length;
    assert.equal(greedyPicks, a.tokens.length, 'no alternatives unless asked');
    const unseeded = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 4, sampling: { temperature: 1 } });
    assert.ok(Number.isInteger(unseeded.start.seed));
    // Each reported logprob is the raw model's: a log-softmax of the logits at that position at
    // temperature 1, not of the logits divided by the sampling temperature (1.5), and not
    // renormalized over the top-k / top-p nucleus the token was drawn from.
    const withAlternatives = await generateAll(model, { ...request(7), topLogprobs: 3 });
    assert.deepEqual(withAlternatives.tokens.map((t) => t.id), a.tokens.map((t) => t.id), 'asking for alternatives changes no pick');
    const ids = model.encodePrompt({ kind: 'text', text: PROMPT });
    let apartFromTempered = 0;
    for (const token of withAlternatives.tokens) {
      const logits = await model.nextTokenLogits(ids, { reuseCache: false });
      const raw = logSoftmax(logits, 1);
      const tempered = logSoftmax(logits, 1.5);
      assert.ok(Math.abs(token.logprob - raw[token.id]) < 1e-4, `token ${token.index}: logprob ${token.logprob}, log-softmax ${raw[token.id]}`);
      for (const alternative of token.top) assert.ok(Math.abs(alternative.logprob - raw[alternative.id]) < 1e-4, `alternative ${alternative.id} of token ${token.index}`);
      apartFromTempered = Math.max(apartFromTempered, Math.abs(token.logprob - tempered[token.id]));
      ids.push(token.id);
    }
    assert.ok(apartFromTempered > 0.05, `the tempered distribution differs from the raw one (${apartFromTempered}), so the check above can tell them apart`);
  } finally {
    await model.dispose();
  }
});

test('stop sequences end generation and are left out of the text', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const base = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 20, sampling: { temperature: 0 } });
    const text = base.end.text;
    // A stop string taken from the middle of the greedy output.
    const cut = Math.floor(text.length / 2);
    const stop = text.slice(cut, cut + 2);
    const expected = text.slice(0, text.indexOf(stop));
    const stopped = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 20, sampling: { temperature: 0 }, stop: [stop] });
    assert.equal(stopped.end.finishReason, 'stop');
    assert.equal(stopped.end.stopSequence, stop);
    assert.equal(stopped.end.text, expected);
    assert.equal(stopped.tokens.map((t) => t.text).join(''), expected);
    // A stop token id ends generation before that token.
    const stopId = base.tokens[3].id;
    const firstIndex = base.tokens.findIndex((t) => t.id === stopId);
    const byId = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 20, sampling: { temperature: 0 }, stopTokenIds: [stopId] });
    assert.equal(byId.end.finishReason, 'stop');
    assert.deepEqual(byId.tokens.map((t) => t.id), base.tokens.slice(0, firstIndex).map((t) => t.id));
  } finally {
    await model.dispose();
  }
});

test('eos ids come from generation_config.json; ignoreEos generates past them', async () => {
  const copy = copyFixture('tiny-qwen2');
  const probe = await loadFixture('tiny-qwen2');
  try {
    const base = await generateAll(probe, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 10, sampling: { temperature: 0 } });
    const eosId = base.tokens[4].id;
    const configPath = join(copy.dir, 'generation_config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), eos_token_id: [eosId] }));
    const model = await LocalModel.load({ model: copy.dir, threads: 1 }, { packageRoot: repoRoot });
    try {
      assert.deepEqual(model.info.eosTokenIds, [eosId]);
      const ended = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 10, sampling: { temperature: 0 } });
      assert.equal(ended.end.finishReason, 'eos');
      assert.deepEqual(ended.tokens.map((t) => t.id), base.tokens.slice(0, base.tokens.findIndex((t) => t.id === eosId)).map((t) => t.id));
      const ignored = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 10, sampling: { temperature: 0 }, ignoreEos: true });
      assert.deepEqual(ignored.tokens.map((t) => t.id), base.tokens.map((t) => t.id));
    } finally {
      await model.dispose();
    }
  } finally {
    await probe.dispose();
    copy.cleanup();
  }
});

test('prefix reuse: cached and uncached runs give the same tokens and logits within 1e-4', async () => {
  for (const name of ['tiny-qwen2', 'tiny-qwen3', 'tiny-bigcode']) {
    const cached = await loadFixture(name);
    const fresh = await loadFixture(name);
    try {
      const prompts = ['function add(a, b) {', 'function add(a, b) {\n  return', 'function add(a, b) {\n  return a + b;', 'function sub(x) {'];
      for (const text of prompts) {
        const request: GenerateRequest = { prompt: { kind: 'text', text }, maxTokens: 8, topLogprobs: 3, sampling: { temperature: 0 } };
        const withCache = await generateAll(cached, request);
        const without = await generateAll(fresh, { ...request, reuseCache: false });
        assert.deepEqual(withCache.tokens.map((t) => t.id), without.tokens.map((t) => t.id), `${name}: ${text}`);
        for (let i = 0; i < withCache.tokens.length; i++) {
          assert.ok(Math.abs(withCache.tokens[i].logprob - without.tokens[i].logprob) < 1e-4);
        }
        const ids = cached.tokenizer.encode(text);
        const a = await cached.nextTokenLogits(ids);
        const b = await fresh.nextTokenLogits(ids, { reuseCache: false });
        let maxError = 0;
        for (let v = 0; v < a.length; v++) maxError = Math.max(maxError, Math.abs(a[v] - b[v]));
        assert.ok(maxError < 1e-4, `${name}: logits differ by ${maxError}`);
      }
      // The extended prompts really were served from the cache.
      const extended = await generateAll(cached, { prompt: { kind: 'text', text: 'function sub(x) {\n' }, maxTokens: 2, sampling: { temperature: 0 } });
      assert.ok(extended.start.reusedTokens >= cached.tokenizer.encode('function sub(x) {').length - 1, `reused ${extended.start.reusedTokens}`);
      assert.equal(extended.end.timings.prefilledTokens, extended.start.promptTokens - extended.start.reusedTokens);
    } finally {
      await cached.dispose();
      await fresh.dispose();
    }
  }
});

test('the context window is never exceeded: the prompt is left-truncated and the cut reported', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    assert.equal(model.info.contextLength, 128);
    const ids = Array.from({ length: 200 }, (_, i) => 40 + (i % 50));
    const result = await generateAll(model, { prompt: { kind: 'tokens', ids }, maxTokens: 10, sampling: { temperature: 0 }, ignoreEos: true });
    assert.equal(result.start.truncatedTokens, 200 - (128 - 10));
    assert.equal(result.start.promptTokens, 118);
    assert.equal(result.tokens.length, 10);
    const tail = await generateAll(model, { prompt: { kind: 'tokens', ids: ids.slice(82) }, maxTokens: 10, sampling: { temperature: 0 }, reuseCache: false, ignoreEos: true });
    assert.deepEqual(result.tokens.map((t) => t.id), tail.tokens.map((t) => t.id), 'the kept part is the end of the prompt');
    const huge = await generateAll(model, { prompt: { kind: 'tokens', ids: [40, 41] }, maxTokens: 1000, sampling: { temperature: 0 }, ignoreEos: true });
    assert.equal(huge.start.maxTokens, 127);
    assert.equal(huge.start.truncatedTokens, 1);
    assert.equal(huge.tokens.length + huge.start.promptTokens, 128);
  } finally {
    await model.dispose();
  }
});

test('cancellation stops within one step, rejects with AbortError, and leaves the model usable', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const controller = new AbortController();
    const seen: number[] = [];
    const request: GenerateRequest = { prompt: { kind: 'text', text: PROMPT }, maxTokens: 50, sampling: { temperature: 0 }, ignoreEos: true };
    await assert.rejects(
      (async () => {
        for await (const event of model.generate(request, controller.signal)) {
          if (event.type !== 'token') continue;
          seen.push(event.id);
          if (seen.length === 3) controller.abort();
        }
      })(),
      (error: unknown) => error instanceof GenerationAbortedError && error.name === 'AbortError',
    );
    assert.equal(seen.length, 3, 'no token after the abort');
    // Already aborted: rejects before any work.
    await assert.rejects(collect(model.generate(request, AbortSignal.abort())), GenerationAbortedError);
    // The cache left by the aborted run is consistent: the next run equals a fresh one.
    const after = await generateAll(model, { ...request, maxTokens: 8 });
    const fresh = await generateAll(model, { ...request, maxTokens: 8, reuseCache: false });
    assert.deepEqual(after.tokens.map((t) => t.id), fresh.tokens.map((t) => t.id));
    assert.deepEqual(after.tokens.map((t) => t.id).slice(0, 3), seen);
  } finally {
    await model.dispose();
  }
});

test('requests queue one at a time; a queued request can be aborted while it waits', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    const request: GenerateRequest = { prompt: { kind: 'text', text: PROMPT }, maxTokens: 6, sampling: { temperature: 0 } };
    const controller = new AbortController();
    const first = generateAll(model, request);
    const second = generateAll(model, request, controller.signal);
    const third = generateAll(model, request);
    controller.abort();
    const [a, b, c] = await Promise.allSettled([first, second, third]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.equal(c.status, 'fulfilled');
    if (a.status === 'fulfilled' && c.status === 'fulfilled') assert.deepEqual(a.value.tokens.map((t) => t.id), c.value.tokens.map((t) => t.id));
  } finally {
    await model.dispose();
  }
});

test('every variant and cache layout generates: fp16 KV, q4, GQA contrib ops, fused key_value', async () => {
  for (const [name, variant, cacheType] of [
    ['tiny-qwen2', 'fp16', 'float16'],
    ['tiny-qwen2', 'q4', 'float32'],
    ['tiny-qwen3', 'auto', 'float32'],
    ['tiny-bigcode', 'auto', 'float32'],
  ] as const) {
    const model = await loadFixture(name, variant);
    try {
      assert.equal(model.info.cacheType, cacheType);
      const result = await generateAll(model, { prompt: { kind: 'text', text: PROMPT }, maxTokens: 6, sampling: { temperature: 0 } });
      assert.equal(result.tokens.length, 6, `${name} ${variant}`);
      // Continuing the same sequence reuses its cache (fp16 tensors and fused layout sliced too).
      const next = await generateAll(model, { prompt: { kind: 'text', text: `${PROMPT}x = 1` }, maxTokens: 3, sampling: { temperature: 0 } });
      const fresh = await generateAll(model, { prompt: { kind: 'text', text: `${PROMPT}x = 1` }, maxTokens: 3, sampling: { temperature: 0 }, reuseCache: false });
      assert.ok(next.start.reusedTokens > 0);
      assert.deepEqual(next.tokens.map((t) => t.id), fresh.tokens.map((t) => t.id));
    } finally {
      await model.dispose();
    }
  }
});

test('bad requests fail clearly', async () => {
  const model = await loadFixture('tiny-qwen2');
  try {
    await assert.rejects(collect(model.generate({ prompt: { kind: 'text', text: '' } })), /prompt is empty/);
    await assert.rejects(collect(model.generate({ prompt: { kind: 'tokens', ids: [99999] } })), /outside the vocabulary/);
    await assert.rejects(collect(model.generate({ prompt: { kind: 'text', text: 'x' }, sampling: { topP: 0 } })), /topP/);
    await assert.rejects(collect(model.generate({ prompt: { kind: 'text', text: 'x' }, sampling: { temperature: -1 } })), /temperature/);
  } finally {
    await model.dispose();
  }
});
