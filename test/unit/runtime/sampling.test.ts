import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRandom, applyRepetitionPenalty, argmax, argmaxLogSumExp, drawCandidate, expOfNonPositive, logSumExp, pickToken, samplingCandidates, topKIndices } from '../../../src/core/runtime/sampling';

function randomLogits(n: number, seed: number): Float32Array {
  const random = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (random.next() - 0.5) * 12);
}

test('topKIndices equals a full sort, largest first, ties by lower id', () => {
  const logits = randomLogits(5000, 1);
  logits[10] = logits[20] = 100;
  const expected = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, 50);
  assert.deepEqual(topKIndices(logits, 50), expected);
  assert.deepEqual(topKIndices(logits, 2), [10, 20]);
  assert.deepEqual(topKIndices(Float32Array.of(1, 2), 5), [1, 0]);
  assert.deepEqual(topKIndices(logits, 0), []);
});

test('logSumExp is stable and exact', () => {
  assert.ok(Math.abs(logSumExp(Float32Array.of(0, 0)) - Math.log(2)) < 1e-7);
  assert.ok(Math.abs(logSumExp(Float32Array.of(1000, 1000)) - (1000 + Math.log(2))) < 1e-7);
  const values = Float32Array.of(1, 2, 3);
  assert.ok(Math.abs(logSumExp(values, 0.5) - Math.log(Math.exp(0.5) + Math.exp(1) + Math.exp(1.5))) < 1e-7);
});

test('logSumExp over a real-looking 150k vocabulary (few high logits) stays within 1e-5 of the exact sum', () => {
  const random = new SeededRandom(3);
  const logits = Float32Array.from({ length: 151936 }, () => -8 + (random.next() - 0.5) * 30);
  for (let i = 0; i < 40; i++) logits[i * 3001] = 18 + random.next() * 4;
  let max = -Infinity;
  for (const value of logits) max = Math.max(max, value);
  let sum = 0;
  for (const value of logits) sum += Math.exp(value - max);
  assert.ok(Math.abs(logSumExp(logits) - (max + Math.log(sum))) < 1e-5);
});

test('argmaxLogSumExp: the argmax (first on ties) and logSumExp of one pass, in any order of values', () => {
  const random = new SeededRandom(9);
  const flat = randomLogits(151936, 4);
  const peaked = Float32Array.from(flat, (value) => value - 20);
  for (let i = 0; i < 30; i++) peaked[i * 4999] = 10 + random.next();
  const ascending = Float32Array.from({ length: 5000 }, (_, i) => i / 100);
  const descending = ascending.slice().reverse();
  const ties = Float32Array.of(1, 7, 3, 7, 7);
  const withInfinity = Float32Array.of(-Infinity, 2, -Infinity, 1);
  for (const values of [flat, peaked, ascending, descending, ties, withInfinity, Float32Array.of(5)]) {
    const { index, logSumExp: total } = argmaxLogSumExp(values);
    assert.equal(index, argmax(values));
    let sum = 0;
    for (const value of values) sum += Math.exp(value - values[index]);
    const exact = values[index] + Math.log(sum);
    assert.ok(Math.abs(total - exact) < 1e-6, `${total} vs ${exact}`);
    assert.ok(Math.abs(total - logSumExp(values, 1, values[index])) < 1e-6);
  }
  assert.equal(argmaxLogSumExp(Float32Array.of(-Infinity, -Infinity)).logSumExp, -Infinity);
});

test('SeededRandom is reproducible per seed and roughly uniform', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const seqA = Array.from({ length: 10 }, () => a.next());
  assert.deepEqual(seqA, Array.from({ length: 10 }, () => b.next()));
  assert.notDeepEqual(seqA, Array.from({ length: 10 }, () => c.next()));
  const buckets = new Array(10).fill(0);
  const random = new SeededRandom(7);
  for (let i = 0; i < 100000; i++) {
    const x = random.next();
    assert.ok(x >= 0 && x < 1);
    buckets[Math.floor(x * 10)]++;
  }
  for (const count of buckets) assert.ok(Math.abs(count - 10000) < 500, `bucket ${count}`);
});

test('top-k keeps k tokens, renormalized softmax of logits / temperature', () => {
  const logits = Float32Array.of(1, 3, 2, 0);
  const candidates = samplingCandidates(logits, { temperature: 2, topK: 2, topP: 1 });
  assert.deepEqual(candidates.map((c) => c.id), [1, 2]);
  const expected = Math.exp(3 / 2) / (Math.exp(3 / 2) + Math.exp(2 / 2));
  assert.ok(Math.abs(candidates[0].probability - expected) < 1e-12);
});

test('top-p keeps the smallest most-likely set reaching p (Hugging Face semantics)', () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05.
  const logits = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.7 }).map((c) => c.id), [0, 1]);
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.79 }).map((c) => c.id), [0, 1]);
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.81 }).map((c) => c.id), [0, 1, 2]);
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.4 }).map((c) => c.id), [0]);
  const kept = samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.7 });
  assert.ok(Math.abs(kept[0].probability - 0.5 / 0.8) < 1e-6);
  // top-p after top-k is relative to the top-k set.
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 2, topP: 0.6 }).map((c) => c.id), [0]);
  assert.deepEqual(samplingCandidates(logits, { temperature: 1, topK: 2, topP: 0.7 }).map((c) => c.id), [0, 1]);
});

test('top-p over a large flat vocabulary grows its candidate set beyond the first guess', () => {
  const logits = new Float32Array(20000); // uniform
  const kept = samplingCandidates(logits, { temperature: 1, topK: 0, topP: 0.5 });
  // Half of 20000 equal tokens, give or take float rounding of the running sum.
  assert.ok(kept.length >= 10000 && kept.length <= 10001, String(kept.length));
  assert.ok(Math.abs(kept.reduce((sum, c) => sum + c.probability, 0) - 1) < 1e-9);
});

test('repetition penalty divides positive and multiplies negative logits of seen ids', () => {
  const logits = Float32Array.of(2, -2, 1);
  applyRepetitionPenalty(logits, [0, 1, 7], 2);
  assert.deepEqual([...logits], [1, -4, 1]);
});

test('pickToken: greedy is argmax; penalty can change the pick; raw logits stay intact', () => {
  const logits = Float32Array.of(2, 1.5, 0);
  const scratch = new Float32Array(3);
  const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1 };
  assert.equal(pickToken(logits, greedy, new Set(), new SeededRandom(1), scratch), 0);
  assert.equal(pickToken(logits, { ...greedy, repetitionPenalty: 2 }, new Set([0]), new SeededRandom(1), scratch), 1);
  assert.deepEqual([...logits], [2, 1.5, 0]);
  assert.equal(argmax(Float32Array.of(1, 5, 5)), 1);
});

test('sampling frequencies follow the temperature-scaled distribution', () => {
  const logits = Float32Array.from([0.6, 0.3, 0.1].map(Math.log));
  const random = new SeededRandom(123);
  const counts = [0, 0, 0];
  const scratch = new Float32Array(3);
  const config = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };
  for (let i = 0; i < 20000; i++) counts[pickToken(logits, config, new Set(), random, scratch)]++;
  assert.ok(Math.abs(counts[0] / 20000 - 0.6) < 0.02, String(counts));
  assert.ok(Math.abs(counts[2] / 20000 - 0.1) < 0.01, String(counts));
  // A low temperature sharpens towards the mode.
  const cold = [0, 0, 0];
  for (let i = 0; i < 2000; i++) cold[pickToken(logits, { ...config, temperature: 0.1 }, new Set(), random, scratch)]++;
  assert.ok(cold[0] > 1990, String(cold));
  assert.equal(drawCandidate([{ id: 4, probability: 0.5 }, { id: 9, probability: 0.5 }], 0.75), 9);
});

test('expOfNonPositive matches Math.exp within 6e-8 relative over its range', () => {
  let worst = 0;
  for (let i = 0; i <= 240000; i++) {
    const d = -i / 10000;
    worst = Math.max(worst, Math.abs(expOfNonPositive(d) / Math.exp(d) - 1));
  }
  assert.ok(worst < 6e-8, String(worst));
  assert.equal(expOfNonPositive(0), 1);
});
