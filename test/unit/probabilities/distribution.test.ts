import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reshapeDistribution, sampleToken, surprisalBits, type Reshaping } from '../../../src/core/probabilities/distribution';
import { SeededRandom } from '../../../src/core/runtime/sampling';

/**
 * The float64 reference: softmax at temperature T over every token, a full sort, top-k cut, then
 * the smallest most-likely prefix whose mass reaches top-p, renormalized; everything else 0.
 */
function reference(logits: Float32Array, { temperature, topP, topK }: Reshaping): { raw: number[]; sampled: number[] } {
  const values = Array.from(logits, Number);
  const max = Math.max(...values);
  const rawTotal = values.reduce((sum, value) => sum + Math.exp(value - max), 0);
  const raw = values.map((value) => Math.exp(value - max) / rawTotal);
  const order = values.map((_, id) => id).sort((a, b) => values[b] - values[a] || a - b);
  const sampled = new Array<number>(values.length).fill(0);
  if (temperature === 0) {
    sampled[order[0]] = 1;
    return { raw, sampled };
  }
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const weights = kept.map((id) => Math.exp((values[id] - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let mass = 0;
  let keep = kept.length;
  for (let i = 0; i < kept.length; i++) {
    mass += weights[i] / total;
    if (topP < 1 && mass >= topP) {
      keep = i + 1;
      break;
    }
  }
  const keptTotal = weights.slice(0, keep).reduce((a, b) => a + b, 0);
  for (let i = 0; i < keep; i++) sampled[kept[i]] = weights[i] / keptTotal;
  return { raw, sampled };
}

function randomLogits(n: number, seed: number, spread: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (random.next() - 0.5) * spread);
}

const SETTINGS: Reshaping[] = [
  { temperature: 1, topP: 1, topK: 0 },
  { temperature: 0.5, topP: 1, topK: 0 },
  { temperature: 2, topP: 1, topK: 0 },
  { temperature: 1, topP: 0.9, topK: 0 },
  { temperature: 0.7, topP: 0.5, topK: 0 },
  { temperature: 1, topP: 1, topK: 5 },
  { temperature: 1.3, topP: 0.8, topK: 12 },
  { temperature: 0, topP: 1, topK: 0 },
];

test('reshaped probabilities, excluded flags and raw logprobs equal the float64 reference', () => {
  for (const [seed, n, spread] of [
    [1, 300, 8],
    [2, 5000, 16],
    [3, 40, 2],
  ] as const) {
    const logits = randomLogits(n, seed, spread);
    for (const settings of SETTINGS) {
      const shown = reshapeDistribution(logits, settings, 25);
      const expected = reference(logits, settings);
      assert.equal(shown.tokens.length, 25);
      const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
      assert.deepEqual(
        shown.tokens.map((token) => token.id),
        order.slice(0, 25),
        'most likely first',
      );
      for (const token of shown.tokens) {
        const label = `${JSON.stringify(settings)} id ${token.id}`;
        assert.ok(Math.abs(token.probability - expected.sampled[token.id]) < 2e-6, `${label}: ${token.probability} vs ${expected.sampled[token.id]}`);
        assert.ok(Math.abs(Math.exp(token.logprob) - expected.raw[token.id]) < 2e-6, `${label}: raw`);
        assert.equal(token.excluded, expected.sampled[token.id] === 0, `${label}: excluded`);
      }
      // The shown and the hidden mass sum to 1, and the hidden mass is the reference's.
      const shownMass = shown.tokens.reduce((sum, token) => sum + token.probability, 0);
      assert.ok(Math.abs(shownMass + shown.otherProbability - 1) < 1e-9);
      const hidden = order.slice(25).reduce((sum, id) => sum + expected.sampled[id], 0);
      assert.ok(Math.abs(shown.otherProbability - hidden) < 1e-5, `${JSON.stringify(settings)}: other ${shown.otherProbability} vs ${hidden}`);
      assert.equal(shown.candidates, expected.sampled.filter((p) => p > 0).length);
    }
  }
});

test('temperature changes the shown bars: lower sharpens, higher flattens; greedy puts all on one', () => {
  const logits = randomLogits(1000, 7, 10);
  const cold = reshapeDistribution(logits, { temperature: 0.5, topP: 1, topK: 0 });
  const warm = reshapeDistribution(logits, { temperature: 1.5, topP: 1, topK: 0 });
  assert.ok(cold.tokens[0].probability > warm.tokens[0].probability);
  assert.ok(cold.otherProbability < warm.otherProbability);
  const greedy = reshapeDistribution(logits, { temperature: 0, topP: 1, topK: 0 });
  assert.equal(greedy.tokens[0].probability, 1);
  assert.ok(greedy.tokens.slice(1).every((token) => token.excluded));
  assert.equal(greedy.otherProbability, 0);
});

test('tempered probability stays shown for excluded tokens (the greyed bar)', () => {
  const logits = randomLogits(500, 11, 6);
  const cut = reshapeDistribution(logits, { temperature: 1, topP: 1, topK: 3 });
  const excluded = cut.tokens.filter((token) => token.excluded);
  assert.equal(excluded.length, cut.tokens.length - 3);
  for (const token of excluded) assert.ok(Math.abs(token.temperedProbability - Math.exp(token.logprob)) < 1e-6);
});

test('a vocabulary smaller than the shown count, and out-of-range settings', () => {
  const small = reshapeDistribution(Float32Array.of(1, 2), { temperature: 1, topP: 1, topK: 0 }, 10);
  assert.equal(small.tokens.length, 2);
  assert.ok(small.otherProbability < 1e-6, 'nothing hidden (up to the fast exp table)');
  assert.throws(() => reshapeDistribution(Float32Array.of(1), { temperature: -1, topP: 1, topK: 0 }), /temperature/);
  assert.throws(() => reshapeDistribution(Float32Array.of(1), { temperature: 1, topP: 0, topK: 0 }), /topP/);
  assert.throws(() => reshapeDistribution(Float32Array.of(1), { temperature: 1, topP: 1, topK: 1.5 }), /topK/);
});

test('sampleToken is seeded (same seed, same token), never picks an excluded token, greedy picks the top', () => {
  const logits = randomLogits(2000, 5, 8);
  const settings = { temperature: 1, topP: 0.6, topK: 0 };
  const kept = new Set(reshapeDistribution(logits, settings, 2000).tokens.filter((token) => !token.excluded).map((token) => token.id));
  const seen = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const id = sampleToken(logits, settings, seed);
    assert.equal(sampleToken(logits, settings, seed), id);
    assert.ok(kept.has(id), `seed ${seed} drew excluded ${id}`);
    seen.add(id);
  }
  assert.ok(seen.size > 1, 'different seeds draw different tokens');
  const top = reshapeDistribution(logits, settings, 1).tokens[0].id;
  assert.equal(sampleToken(logits, { temperature: 0, topP: 1, topK: 0 }, 3), top);
});

test('surprisal is −log₂ p', () => {
  assert.equal(surprisalBits(Math.log(0.5)), 1);
  assert.ok(Math.abs(surprisalBits(Math.log(1 / 1024)) - 10) < 1e-12);
  assert.equal(surprisalBits(0), 0);
});
