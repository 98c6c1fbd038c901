import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ModelProbabilities } from '../../../src/core/probabilities/modelProbabilities';
import { surprisalBits } from '../../../src/core/probabilities/distribution';
import { IncrementalScorer, scoreIds, windowStart, type RowSource } from '../../../src/core/probabilities/scoring';
import { LocalModel } from '../../../src/core/runtime/localModel';
import { FIXTURES } from '../../../tools/make-test-models';
import { makeWeights, referenceLogits } from '../../../tools/test-models/decoder';
import { loadFixture, repoRoot } from '../runtime/helpers';

const IDS = [5, 17, 200, 33, 99, 7, 250, 12, 40, 41, 42, 3, 77, 120, 9, 18, 200, 33, 99, 1];

function logSoftmax(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return row[id] - max - Math.log(sum);
}

/** The model's own probability of ids[i] from a direct forward pass over ids[start..i). */
async function directLogprob(model: LocalModel, ids: readonly number[], start: number, i: number): Promise<number> {
  return logSoftmax(await model.nextTokenLogits(ids.slice(start, i), { reuseCache: false }), ids[i]);
}

// Native num_logits_to_keep (tiny-qwen3), the patched graphs (tiny-qwen2 fp32 and fp16, tiny-bigcode).
for (const [name, variant] of [
  ['tiny-qwen2', 'fp32'],
  ['tiny-qwen2', 'fp16'],
  ['tiny-qwen3', 'fp32'],
  ['tiny-bigcode', 'fp32'],
] as const) {
  test(`${name} ${variant}: surprisal is −log₂ of the model's probability from a direct forward pass, in batched passes`, async () => {
    const model = await loadFixture(name, variant, 'exact');
    const folder = FIXTURES.find((candidate) => candidate.name === name)!;
    const reference = variant === 'fp32' ? referenceLogits(folder.spec, makeWeights(folder.spec), IDS) : undefined;
    const tolerance = variant === 'fp16' ? 3e-2 : 1e-4;
    try {
      let passes = 0;
      const scores = await model.withForwardPasses((source) =>
        scoreIds(IDS, { ...countingSource(source, () => passes++) }, { top: 3, chunk: 8 }),
      );
      assert.equal(scores.length, IDS.length - 1, 'every token after the first');
      assert.ok(passes <= 3, `${passes} forward passes for ${IDS.length - 1} tokens (chunks of 8)`);
      for (const score of scores) {
        const direct = await directLogprob(model, IDS, 0, score.index);
        assert.equal(score.id, IDS[score.index]);
        assert.ok(Math.abs(surprisalBits(score.logprob) - surprisalBits(direct)) < tolerance / Math.LN2, `token ${score.index}: ${score.logprob} vs ${direct}`);
        if (reference) assert.ok(Math.abs(score.logprob - logSoftmax(reference[score.index - 1], IDS[score.index])) < tolerance, `token ${score.index} vs the float64 reference`);
        assert.equal(score.top.length, 3);
        assert.ok(score.top[0].logprob >= score.top[1].logprob && score.top[1].logprob >= score.top[2].logprob);
      }
    } finally {
      await model.dispose();
    }
  });
}

function countingSource(source: RowSource, onPass: () => void, contextLength = source.contextLength): RowSource {
  return {
    contextLength,
    get cachedIds() {
      return source.cachedIds;
    },
    truncateCache: (length) => source.truncateCache(length),
    forward: ((tokens: readonly number[], rows: boolean, checkAbort: () => void) => {
      onPass();
      return rows ? source.forward(tokens, true, checkAbort) : source.forward(tokens, false, checkAbort);
    }) as RowSource['forward'],
  };
}

test('windowStart: whole context first, then a grid of half the context, every window fits', () => {
  assert.equal(windowStart(0, 8), 0);
  assert.equal(windowStart(7, 8), 0);
  assert.equal(windowStart(8, 8), 4);
  assert.equal(windowStart(11, 8), 4);
  assert.equal(windowStart(12, 8), 8);
  for (let i = 1; i < 200; i++) {
    const start = windowStart(i, 8);
    assert.ok(i - start < 8 && i - start >= 4 - (i < 8 ? 4 : 0), `token ${i}: window from ${start}`);
  }
});

test('sliding window: a text longer than the context scores each token from its own window', async () => {
  const model = await loadFixture('tiny-qwen2', 'fp32', 'exact');
  try {
    const scores = await model.withForwardPasses((source) => scoreIds(IDS, countingSource(source, () => undefined, 8), { top: 2, chunk: 3 }));
    assert.deepEqual(
      scores.map((score) => score.index),
      IDS.slice(1).map((_, i) => i + 1),
    );
    for (const score of scores) {
      const direct = await directLogprob(model, IDS, windowStart(score.index, 8), score.index);
      assert.ok(Math.abs(score.logprob - direct) < 1e-4, `token ${score.index}`);
    }
  } finally {
    await model.dispose();
  }
});

test('incremental re-scoring after an edit equals a full re-score, and reuses the unchanged start', async () => {
  const model = await loadFixture('tiny-qwen2', 'fp32', 'exact');
  try {
    const edited = IDS.slice();
    edited.splice(11, 2, 250, 251, 252);
    for (const contextLength of [model.info.contextLength, 8]) {
      const scorer = new IncrementalScorer();
      const first = await model.withForwardPasses((source) => scorer.score(IDS, countingSource(source, () => undefined, contextLength), { top: 4, chunk: 5 }));
      assert.equal(first.reused, 0);
      let passes = 0;
      const incremental = await model.withForwardPasses((source) => scorer.score(edited, countingSource(source, () => passes++, contextLength), { top: 4, chunk: 5 }));
      model.clearCache();
      const full = await model.withForwardPasses((source) => scoreIds(edited, countingSource(source, () => undefined, contextLength), { top: 4, chunk: 64 }));
      assert.equal(incremental.reused, 10, 'tokens 1..10 come before the edit');
      assert.equal(incremental.scores.length, full.length);
      incremental.scores.forEach((score, i) => {
        assert.equal(score.index, full[i].index);
        assert.equal(score.id, full[i].id);
        assert.ok(Math.abs(score.logprob - full[i].logprob) < 1e-4, `context ${contextLength}, token ${score.index}: ${score.logprob} vs ${full[i].logprob}`);
        assert.deepEqual(
          score.top.map((alt) => alt.id),
          full[i].top.map((alt) => alt.id),
        );
      });
      if (contextLength > IDS.length) assert.ok(passes <= 2, `${passes} passes re-scoring 11 tokens after the edit in chunks of 5 from the cached prefix`);
    }
  } finally {
    await model.dispose();
  }
});

test('cancelling a score rejects with an AbortError and the next score is still right', async () => {
  const model = await loadFixture('tiny-qwen2', 'fp32', 'exact');
  try {
    const probabilities = new ModelProbabilities(model);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(probabilities.score({ text: 'def add(a, b):\n    return a + b\n' }, controller.signal), { name: 'AbortError' });
    const result = await probabilities.score({ text: 'def add(a, b):\n    return a + b\n' });
    assert.equal(result.tokens.length, result.totalTokens - 1);
  } finally {
    await model.dispose();
  }
});

test('ModelProbabilities on the built-in model: UTF-16 offsets, a typo is more surprising, empty and one-token texts', async () => {
  const model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    const probabilities = new ModelProbabilities(model);
    const text = 'function add(a, b) {\n  return a + b;\n}\n// é ✓ 😀\n';
    const result = await probabilities.score({ text, top: 3 });
    assert.equal(result.tokens.length, result.totalTokens - 1);
    let previousEnd = result.tokens[0].start;
    for (const token of result.tokens) {
      assert.ok(token.start >= previousEnd - 0 && token.end >= token.start && token.end <= text.length);
      previousEnd = token.end;
    }
    assert.equal(result.tokens.at(-1)!.end, text.length);
    const clean = await probabilities.score({ text: 'function add(a, b) {\n  return a + b;\n}\n' });
    const typo = await probabilities.score({ text: 'function add(a, b) {\n  retrun a + b;\n}\n' });
    const at = (r: typeof clean, offset: number) => r.tokens.filter((token) => token.end > offset && token.start < offset + 6);
    const worstTypo = Math.min(...at(typo, 23).map((token) => token.logprob));
    const worstClean = Math.min(...at(clean, 23).map((token) => token.logprob));
    assert.ok(worstTypo < worstClean, `the typo is more surprising: ${worstTypo} vs ${worstClean}`);
    assert.ok(typo.reusedTokens > 0, 'the unchanged first line was not re-scored');
    assert.deepEqual(await probabilities.score({ text: '' }), { tokens: [], totalTokens: 0, reusedTokens: 0 });
    assert.equal((await probabilities.score({ text: 'a' })).tokens.length, 0);
    // Alternatives only where the model was surprised (the lens's answer stays small).
    const lean = await probabilities.score({ text, top: 3, alternativesAboveBits: 2 });
    lean.tokens.forEach((token, i) => {
      assert.equal(token.logprob, result.tokens[i].logprob);
      assert.equal(token.top.length, -token.logprob / Math.LN2 > 2 ? 3 : 0, `token ${i}`);
    });
    assert.ok(lean.tokens.some((token) => token.top.length === 0) && lean.tokens.some((token) => token.top.length === 3));
    // fromOffset: only tokens ending after it.
    const tail = await probabilities.score({ text, fromOffset: 20 });
    assert.ok(tail.tokens.every((token) => token.end > 20) && tail.tokens.length < result.tokens.length);
  } finally {
    await model.dispose();
  }
});

test('next-token distribution: the direct forward pass, re-shaped without a new pass, a seeded sample, truncation', async () => {
  const model = await LocalModel.load({ model: 'mini', threads: 1 }, { packageRoot: repoRoot });
  try {
    const probabilities = new ModelProbabilities(model);
    const prompt = { kind: 'text', text: 'function add(a, b) {\n  return' } as const;
    const first = await probabilities.next({ prompt, top: 12 });
    assert.equal(first.tokens.length, 12);
    assert.ok(first.ranModel);
    const logits = await model.nextTokenLogits(model.encodePrompt(prompt), { reuseCache: false });
    for (const token of first.tokens) assert.ok(Math.abs(token.logprob - logSoftmax(logits, token.id)) < 1e-5);
    const cold = await probabilities.next({ prompt, top: 12, reshaping: { temperature: 0.3 }, sampleSeed: 7 });
    assert.equal(cold.ranModel, false, 'same prompt: the logits are reused');
    assert.ok(cold.tokens[0].probability > first.tokens[0].probability);
    assert.equal(cold.sampled?.seed, 7);
    const again = await probabilities.next({ prompt, top: 12, reshaping: { temperature: 0.3 }, sampleSeed: 7 });
    assert.equal(again.sampled?.id, cold.sampled?.id);
    const cut = await probabilities.next({ prompt, top: 12, reshaping: { topK: 3 } });
    assert.deepEqual(
      cut.tokens.map((token) => token.excluded),
      cut.tokens.map((_, i) => i >= 3),
    );
    const mass = cut.tokens.reduce((sum, token) => sum + token.probability, 0) + cut.otherProbability;
    assert.ok(Math.abs(mass - 1) < 1e-9);
    assert.ok(first.tokens.some((token) => token.display.length > 0));
    const long = await probabilities.next({ prompt: { kind: 'text', text: 'x = 1\n'.repeat(400) } });
    assert.equal(long.promptTokens, model.info.contextLength - 1);
    assert.ok(long.truncatedTokens > 0);
    await assert.rejects(probabilities.next({ prompt: { kind: 'text', text: '' } }), /empty/);
  } finally {
    await model.dispose();
  }
});


